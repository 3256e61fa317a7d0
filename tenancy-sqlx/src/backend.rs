//! The databases a [`TenantPool`](crate::TenantPool) can run on.
//!
//! A backend says only what differs between databases: the statement that
//! opens a tenant transaction (for PostgreSQL, `BEGIN` and `SET LOCAL` in one
//! simple query), how the session is cleaned after raw SQL, and how its
//! errors read. Executing statements, the pool, the transaction and their
//! guards are written once over this trait (see `execute`), so every backend
//! gets the same shape and the same guarantees about connections returned
//! to the pool.

use core::future::Future;

use tenancy_core::Dialect;

use crate::Error;
use crate::pin::Pin;

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

/// A database that tenant pools and transactions run on: `sqlx::Postgres`
/// (feature `postgres`, on by default) or `sqlx::Sqlite` (feature `sqlite`,
/// which has no Row Level Security: the builder's predicate is its only
/// runtime guard).
///
/// Sealed: the adapter's guarantees depend on how each backend sets and
/// clears the tenant context, so the set of backends is closed.
pub trait Backend: sqlx::Database + internals::Internals {
    /// The SQL dialect statements are built in.
    const DIALECT: Dialect;
}

pub(crate) use internals::{Internals, RawSessionReset};

/// The backend-specific parts, private to the crate: the items are `pub`
/// only so that [`Backend`] can name them, and nothing outside the crate
/// can reach this module.
mod internals {
    use super::{Error, Future, Pin};

    /// How a backend clears the session state raw SQL may leave on a
    /// connection, which would otherwise reach the next borrower.
    #[derive(Debug, Clone, Copy)]
    pub enum RawSessionReset {
        /// `statements` reset everything in place. They run inside the
        /// transaction, just before it ends, so that behind a
        /// transaction-mode pooler they reach the server connection the raw
        /// SQL ran on; `check` goes first and fails unless the transaction
        /// is still open.
        InPlace {
            /// Fails unless the transaction is open and not aborted.
            check: &'static str,
            /// The reset itself.
            statements: &'static str,
        },
        /// Nothing reliable resets the session in place: the connection is
        /// closed once the transaction has ended.
        CloseConnection,
    }

    /// Everything the generic code needs to know about a backend.
    pub trait Internals: sqlx::Database + sqlx::database::HasStatementCache {
        /// The connection as sqlx executes on it.
        type Executor<'c>: sqlx::Executor<'c, Database = Self>
        where
            Self: 'c;

        /// sea-query's bound values in this backend's argument form.
        type Values: sqlx::IntoArguments<Self> + Send;

        /// Whether an error reported by the server aborts the whole
        /// transaction (PostgreSQL), rather than only the failing statement
        /// (SQLite).
        const ERROR_ABORTS_TRANSACTION: bool;

        /// How raw SQL's session state is cleared.
        const RAW_SESSION_RESET: RawSessionReset;

        /// The connection, to execute on.
        fn executor<'c>(connection: &'c mut Self::Connection) -> Self::Executor<'c>;

        /// The values of a built statement, for binding.
        fn values(values: sea_query::Values) -> Self::Values;

        /// The rows a statement affected.
        fn rows_affected(result: &Self::QueryResult) -> u64;

        /// The statement that opens a tenant transaction and sets all it
        /// pins, sent as one simple query. Its only inputs are validated
        /// names, a key and typed settings; a pin the backend cannot honour
        /// is refused, never dropped.
        fn begin_statement(pin: &Pin<'_>) -> Result<String, Error>;

        /// Whether `error` says that no transaction is open: raw SQL ended it.
        fn is_no_transaction(error: &sqlx::Error) -> bool;

        /// Whether `error` says that the open transaction is aborted.
        fn is_aborted_transaction(error: &sqlx::Error) -> bool;

        /// Whether `error` says that the connection itself is gone: the
        /// server ended the session (an administrator's
        /// `pg_terminate_backend`, a shutdown, an idle-session timeout) or
        /// the socket failed. Nothing sent on such a connection can have
        /// taken effect after the session ended.
        fn is_connection_lost(error: &sqlx::Error) -> bool;

        /// Whether `error` says that one of sqlx's named prepared
        /// statements is missing on the server connection, or already
        /// there: what a transaction-mode pooler does to them.
        fn is_prepared_statement_mismatch(error: &sqlx::Error) -> bool;

        /// Waits until work queued on the connection without waiting (a
        /// rollback queued by a dropped transaction) has been applied, so
        /// that its transaction depth can be read. No round trip where the
        /// depth changes when the work is queued.
        fn settle(
            connection: &mut Self::Connection,
        ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + '_;
    }
}
