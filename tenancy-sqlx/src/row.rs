//! The row types statements decode into.

use crate::backend::{Backend, DefaultBackend};

/// A type that rows of the backend `DB` decode into: what
/// [`TenantTransaction::fetch_all`](crate::TenantTransaction::fetch_all) and
/// the other `fetch_*` methods ask of their result type, under one name.
///
/// Implemented for every type that implements [`sqlx::FromRow`] for `DB`'s
/// rows and is `Send + Unpin` — a `#[derive(sqlx::FromRow)]` struct, a tuple
/// of decodable columns — so you never implement it yourself. Write it in
/// code that is generic over the backend instead of repeating sqlx's bounds:
///
/// ```
/// use tenancy_sqlx::{Backend, DecodeRow, Error, TenantTransaction, tenant_scoped};
///
/// #[tenant_scoped]
/// #[derive(Debug, sqlx::FromRow)]
/// pub struct Note {
///     pub tenant_id: i64,
///     #[tenancy(primary_key)]
///     pub id: i64,
///     pub body: String,
/// }
///
/// /// The tenant's notes, on any backend.
/// async fn notes<DB: Backend>(tx: &mut TenantTransaction<i64, DB>) -> Result<Vec<Note>, Error>
/// where
///     Note: DecodeRow<DB>,
/// {
///     let tenant = *tx.tenant();
///     tx.fetch_all(Note::select(&tenant)).await
/// }
/// ```
pub trait DecodeRow<DB: Backend = DefaultBackend>:
    for<'r> sqlx::FromRow<'r, DB::Row> + Send + Unpin
{
}

impl<T, DB: Backend> DecodeRow<DB> for T where T: for<'r> sqlx::FromRow<'r, DB::Row> + Send + Unpin {}
