//! The databases a [`TenantPool`](crate::TenantPool) can run on.
//!
//! A backend says how a tenant transaction starts (for PostgreSQL: `BEGIN`
//! and `SET LOCAL` in one simple query) and how a built statement
//! is executed. The pool, the transaction and their guards are written once
//! over this trait, so every backend gets the same shape and the same
//! guarantees about connections returned to the pool.

use core::future::Future;

use tenancy_core::{Dialect, KeyValue, Statement};

use crate::Error;
use crate::setting::SettingName;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

/// The backend a [`TenantPool`](crate::TenantPool),
/// [`TenantTransaction`](crate::TenantTransaction) or
/// [`OwnerPool`](crate::OwnerPool) uses when none is named: `sqlx::Postgres`
/// when the `postgres` feature is on (the default), else `sqlx::Sqlite`.
#[cfg(feature = "postgres")]
pub type DefaultBackend = sqlx::Postgres;

/// The backend a [`TenantPool`](crate::TenantPool),
/// [`TenantTransaction`](crate::TenantTransaction) or
/// [`OwnerPool`](crate::OwnerPool) uses when none is named: `sqlx::Postgres`
/// when the `postgres` feature is on (the default), else `sqlx::Sqlite`.
#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
pub type DefaultBackend = sqlx::Sqlite;

mod sealed {
    pub trait Sealed {}
}

/// A database that tenant pools and transactions run on: `sqlx::Postgres`
/// (feature `postgres`, on by default) or `sqlx::Sqlite` (feature `sqlite`,
/// which has no Row Level Security: the builder's predicate is its only
/// runtime guard).
///
/// Sealed: the adapter's guarantees depend on how each backend sets and
/// clears the tenant context, so the set of backends is closed.
pub trait Backend: sqlx::Database + sealed::Sealed {
    /// The SQL dialect statements are built in.
    const DIALECT: Dialect;

    /// Whether an error reported by the server aborts the whole transaction
    /// (PostgreSQL), rather than only the failing statement (SQLite).
    #[doc(hidden)]
    const ERROR_ABORTS_TRANSACTION: bool;

    /// The statement that opens a tenant transaction, sent as one simple
    /// query. Its only inputs are a validated setting name and a key.
    #[doc(hidden)]
    fn begin_statement(setting: &SettingName, tenant: KeyValue) -> Result<String, Error>;

    /// The statement that clears what raw SQL may have left on a connection
    /// for the next borrower: a session-level tenant setting and, where the
    /// backend has them, temporary tables and held cursors with the tenant's
    /// rows.
    #[doc(hidden)]
    fn reset_statement(setting: &SettingName) -> String;

    /// Runs a built statement and decodes every row.
    #[doc(hidden)]
    fn fetch_all<'c, R>(
        connection: &'c mut Self::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<Vec<R>, sqlx::Error>> + Send + 'c
    where
        R: for<'r> sqlx::FromRow<'r, Self::Row> + Send + Unpin + 'c;

    /// Runs a built statement and decodes the first row, if any.
    #[doc(hidden)]
    fn fetch_optional<'c, R>(
        connection: &'c mut Self::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<Option<R>, sqlx::Error>> + Send + 'c
    where
        R: for<'r> sqlx::FromRow<'r, Self::Row> + Send + Unpin + 'c;

    /// Runs a built statement and returns the number of rows it affected.
    #[doc(hidden)]
    fn execute<'c>(
        connection: &'c mut Self::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;

    /// Runs plain SQL text with no parameters (used for generated DDL and
    /// resets), as one simple query.
    #[doc(hidden)]
    fn execute_text<'c>(
        connection: &'c mut Self::Connection,
        sql: String,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;
}
