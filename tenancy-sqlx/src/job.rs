//! Background work for a tenant: verifying a [`TenantJob`] against a table
//! of tenants, and spawning a task that carries its tenant and span.
//!
//! A worker reads a [`TenantJob`] from its queue, verifies it (here with a
//! [`TenantsTable`], or any [`VerifyTenant`]), and runs the work under the
//! witness it got back; [`spawn_for_tenant`] hands that witness to a tokio
//! task whose span names the tenant.
//!
//! ```
//! use tenancy_sqlx::job::spawn_for_tenant;
//! use tenancy_sqlx::{TenantId, TenantJob, TenantStatus};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Enqueued by a request handler that holds the witness (with the
//! // `serde` feature, it serializes into any queue)…
//! let job: TenantJob<i64, u32> = TenantJob::new(&TenantId::from_verified(42), 3);
//!
//! // …and run by a worker that must verify it before it can use it.
//! let directory = |key: i64| async move {
//!     Ok::<_, std::io::Error>(if key == 42 { TenantStatus::Active } else { TenantStatus::Unknown })
//! };
//! let (tenant, invoices) = job.verify(&directory).await?;
//! let sent = spawn_for_tenant(tenant, move |tenant| async move {
//!     // Open `pool.begin(&tenant)` here: the task has its own witness.
//!     format!("{invoices} invoices for {tenant}")
//! })?
//! .await?;
//! assert_eq!(sent, "3 invoices for tenant 42");
//! # Ok(()) }
//! ```

use core::future::Future;

use tenancy_core::{KeyValue, TenantId, TenantKey, TenantStatus, VerifyTenant};
use tracing::Instrument;

#[cfg(feature = "postgres")]
pub use tenants_table::{TenantsTable, TenantsTableError};

pub use tenancy_core::{JobError, TenantJob};

/// Spawns `task` on the current tokio runtime with the tenant's witness, in
/// a span `tenant task` whose field `tenant.id` is the tenant's key and
/// whose parent is the span the caller is in, so the task's events are
/// attributed to the tenant and to the work that started it.
///
/// # Errors
///
/// When called outside a tokio runtime (where `tokio::spawn` would panic).
pub fn spawn_for_tenant<K, F, Fut>(
    tenant: TenantId<K>,
    task: F,
) -> Result<tokio::task::JoinHandle<Fut::Output>, tokio::runtime::TryCurrentError>
where
    K: TenantKey,
    F: FnOnce(TenantId<K>) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let runtime = tokio::runtime::Handle::try_current()?;
    let span = tracing::info_span!("tenant task", tenant.id = %tenant.key());
    Ok(runtime.spawn(task(tenant).instrument(span)))
}

#[cfg(feature = "postgres")]
mod tenants_table {
    use super::*;
    use crate::Error;
    use crate::ident::{quoted_table, truncate_for_error};

    /// A [`VerifyTenant`] that reads the tenant's status from a table:
    /// `SELECT <status>::text FROM <table> WHERE <key> = $1`.
    ///
    /// The status column holds `active`, `suspended`, `moving` or
    /// `deleted` (any type whose text is one of these: `text`, an enum); a
    /// key without a row is [`TenantStatus::Unknown`]; any other text, or
    /// `NULL`, is an error, so a status this library does not know never
    /// lets a job run. The pool's role needs `SELECT` on the table, and
    /// nothing else; the table is not tenant-scoped (it lists every
    /// tenant), so do not put row-level security on it for that role.
    #[derive(Debug, Clone)]
    pub struct TenantsTable {
        pool: sqlx::PgPool,
        sql: String,
    }

    impl TenantsTable {
        /// Reads statuses from `schema.table` (or `table` on the search
        /// path), keyed by `key_column`.
        ///
        /// # Errors
        ///
        /// [`Error::InvalidIdentifier`] when a name is not an identifier.
        pub fn new(
            pool: sqlx::PgPool,
            schema: Option<&str>,
            table: &str,
            key_column: &str,
            status_column: &str,
        ) -> Result<Self, Error> {
            let table = quoted_table(schema, table)?;
            let key = tenancy_core::Identifier::new("column", key_column)?.quoted();
            let status = tenancy_core::Identifier::new("column", status_column)?.quoted();
            Ok(TenantsTable {
                pool,
                sql: format!("SELECT {status}::text FROM {table} WHERE {key} = $1"),
            })
        }

        async fn lookup(&self, key: KeyValue) -> Result<TenantStatus, TenantsTableError> {
            let query =
                sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(self.sql.clone()));
            let query = match key {
                KeyValue::I32(key) => query.bind(key),
                KeyValue::I64(key) => query.bind(key),
                #[cfg(feature = "uuid")]
                KeyValue::Uuid(key) => query.bind(key),
                #[allow(unreachable_patterns)] // `KeyValue` is non-exhaustive
                other => return Err(TenantsTableError::UnsupportedKey(other)),
            };
            match query.fetch_optional(&self.pool).await? {
                None => Ok(TenantStatus::Unknown),
                Some(Some(text)) => match text.as_str() {
                    "active" => Ok(TenantStatus::Active),
                    "suspended" => Ok(TenantStatus::Suspended),
                    "moving" => Ok(TenantStatus::Moving),
                    "deleted" => Ok(TenantStatus::Deleted),
                    _ => Err(TenantsTableError::UnrecognisedStatus(Some(
                        truncate_for_error(&text),
                    ))),
                },
                Some(None) => Err(TenantsTableError::UnrecognisedStatus(None)),
            }
        }
    }

    impl<K: TenantKey> VerifyTenant<K> for TenantsTable {
        type Error = TenantsTableError;

        fn status(
            &self,
            key: K,
        ) -> impl Future<Output = Result<TenantStatus, TenantsTableError>> + Send {
            self.lookup(key.to_key_value())
        }
    }

    /// Why a [`TenantsTable`] could not tell a tenant's status.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum TenantsTableError {
        /// The query failed.
        #[error("could not read the tenant's status: {0}")]
        Database(#[from] sqlx::Error),
        /// The status is neither `active`, `suspended`, `moving` nor
        /// `deleted` (`None`: it is `NULL`).
        #[error(
            "the tenant's status {0:?} is not one of active, suspended, moving, deleted: the job is refused"
        )]
        UnrecognisedStatus(Option<String>),
        /// A key type this lookup cannot bind.
        #[error("tenant key {0:?} cannot be looked up")]
        UnsupportedKey(KeyValue),
    }
}
