//! Background work for a tenant: verifying a [`TenantJob`] against the
//! tenant directory, and spawning a task that carries its tenant and span.
//!
//! A worker reads a [`TenantJob`] from its queue, verifies it against the
//! tenant directory ([`TableDirectory`](crate::directory::TableDirectory),
//! [`StaticDirectory`](crate::directory::StaticDirectory), or the
//! [`TenantRouter`](crate::TenantRouter) over a directory of yours; feature
//! `postgres`) or any [`VerifyTenant`] callback, and runs the work under the
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
//!     Ok::<_, std::io::Error>((key == 42).then_some(TenantStatus::Active))
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

#[cfg(feature = "postgres")]
use tenancy_core::{KeyValue, TenantStatus};
use tenancy_core::{TenantId, TenantKey};
use tracing::Instrument;

pub use tenancy_core::{JobError, TenantJob, VerifyTenant};

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
mod directory {
    //! The tenant directory, and the router over it, verify jobs: the
    //! status a job is checked against is the one that lets the tenant's
    //! transactions begin.

    use super::{Future, KeyValue, TenantKey, TenantStatus, VerifyTenant};
    use crate::directory::{StaticDirectory, TableDirectory, TenantDirectory};
    use crate::{Error, TenantRouter};

    async fn status_in<D: TenantDirectory>(
        directory: &D,
        tenant: KeyValue,
    ) -> Result<Option<TenantStatus>, Error> {
        Ok(directory.entry(tenant).await?.map(|entry| entry.status))
    }

    /// The status in the `tenancy_tenants` table, read now; a tenant
    /// without a row is unknown.
    impl<K: TenantKey> VerifyTenant<K> for TableDirectory {
        type Error = Error;

        fn status(
            &self,
            key: K,
        ) -> impl Future<Output = Result<Option<TenantStatus>, Error>> + Send {
            status_in(self, key.to_key_value())
        }
    }

    /// The status the directory was made with.
    impl<K: TenantKey> VerifyTenant<K> for StaticDirectory {
        type Error = Error;

        fn status(
            &self,
            key: K,
        ) -> impl Future<Output = Result<Option<TenantStatus>, Error>> + Send {
            status_in(self, key.to_key_value())
        }
    }

    /// The status of the router's directory, through the router's cache of
    /// entries: a job is verified against exactly what its tenant's
    /// [`begin`](TenantRouter::begin) would be, so a suspension reaches
    /// workers within [`RouterOptions::placement_ttl`](crate::RouterOptions::placement_ttl),
    /// as it reaches requests. Any [`TenantDirectory`] of yours verifies
    /// jobs this way.
    impl<K: TenantKey, D: TenantDirectory> VerifyTenant<K> for TenantRouter<D> {
        type Error = Error;

        async fn status(&self, key: K) -> Result<Option<TenantStatus>, Error> {
            match self.entry(key.to_key_value()).await {
                Ok(entry) => Ok(Some(entry.status)),
                Err(Error::TenantNotFound { .. }) => Ok(None),
                Err(error) => Err(error),
            }
        }
    }
}
