//! Admin work over many tenants, one tenant transaction each: the way to do
//! cross-tenant work without a role that skips row-level security.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tenancy_core::{TenantId, TenantKey};

use crate::backend::Backend;
use crate::{BeginTenant, Error, TenantPool, TenantTransaction};

/// What a fan-out does when the work fails for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnError {
    /// Starts no further tenant; those already running finish. The
    /// default: a failure on one tenant usually means the work is wrong.
    #[default]
    Stop,
    /// Goes on with the other tenants and reports every failure.
    Continue,
}

/// How far a fan-out is, given to the progress callback after each tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOutProgress {
    /// Tenants whose work committed.
    pub done: usize,
    /// Tenants whose work failed (and was rolled back).
    pub failed: usize,
    /// Tenants the fan-out was given.
    pub total: usize,
}

type Progress = Arc<dyn Fn(&FanOutProgress) + Send + Sync>;

/// What the work of a fan-out returns for one tenant: a boxed future that
/// borrows the tenant's transaction (`|tx| Box::pin(async move { .. })`)
/// and owns everything else it uses.
/// Boxed and `Send`, so that a fan-out can run in an axum handler or a
/// spawned task, whatever the backend type.
pub type TenantWork<'t, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 't>>;

/// A fan-out's settings: how many tenants at once, what to do on an error,
/// and who hears about progress.
///
/// ```
/// use tenancy_sqlx::{FanOut, OnError};
///
/// let fan_out = FanOut::new()
///     .concurrency(4)
///     .on_error(OnError::Continue)
///     .on_progress(|progress| eprintln!("{}/{} tenants", progress.done + progress.failed, progress.total));
/// assert_eq!(fan_out.max_concurrency(), 4);
/// ```
#[derive(Clone)]
pub struct FanOut {
    concurrency: usize,
    on_error: OnError,
    progress: Option<Progress>,
}

impl core::fmt::Debug for FanOut {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FanOut")
            .field("concurrency", &self.concurrency)
            .field("on_error", &self.on_error)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for FanOut {
    fn default() -> Self {
        Self::new()
    }
}

impl FanOut {
    /// One tenant at a time, stopping at the first error.
    #[must_use]
    pub fn new() -> Self {
        FanOut {
            concurrency: 1,
            on_error: OnError::Stop,
            progress: None,
        }
    }

    /// At most `tenants` transactions at once (at least 1). Each holds a
    /// connection of the pool while it runs.
    #[must_use]
    pub fn concurrency(mut self, tenants: usize) -> Self {
        self.concurrency = tenants.max(1);
        self
    }

    /// What to do when the work fails for a tenant.
    #[must_use]
    pub fn on_error(mut self, policy: OnError) -> Self {
        self.on_error = policy;
        self
    }

    /// Called after each tenant, from the task that runs the fan-out.
    #[must_use]
    pub fn on_progress(
        mut self,
        progress: impl Fn(&FanOutProgress) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// The most tenants at once.
    #[must_use]
    pub fn max_concurrency(&self) -> usize {
        self.concurrency
    }
}

/// What a fan-out did, per tenant, in the order they finished.
#[derive(Debug)]
#[non_exhaustive]
pub struct FanOutReport<K: TenantKey, T, E = Error> {
    /// Each tenant that ran, with what its work returned (committed) or the
    /// error (rolled back).
    pub results: Vec<(TenantId<K>, Result<T, E>)>,
    /// Tenants never started, because the fan-out stopped at an error.
    pub not_started: Vec<TenantId<K>>,
}

impl<K: TenantKey, T, E> FanOutReport<K, T, E> {
    /// Whether every tenant ran and committed.
    #[must_use]
    pub fn all_succeeded(&self) -> bool {
        self.not_started.is_empty() && self.results.iter().all(|(_, result)| result.is_ok())
    }

    /// The first error, with its tenant.
    #[must_use]
    pub fn first_error(&self) -> Option<(&TenantId<K>, &E)> {
        self.results
            .iter()
            .find_map(|(tenant, result)| result.as_ref().err().map(|error| (tenant, error)))
    }
}

impl<DB: Backend> TenantPool<DB> {
    /// Runs `work` once per tenant of `tenants`, each in its own
    /// [`TenantTransaction`] (on PostgreSQL, `BEGIN` with `SET LOCAL` of
    /// that tenant), which commits when `work` returns `Ok` and rolls back
    /// when it returns `Err`. The work's error type is the caller's (an
    /// application error, say), as long as the library's errors convert
    /// into it.
    ///
    /// This is the way to do admin work across tenants (exports, billing
    /// runs, support fixes): the work sees one tenant at a time through the
    /// same three layers as a request does — the transaction refuses
    /// statements built for another tenant, the builder scopes every
    /// statement, and row-level security filters raw SQL — so no role with
    /// `BYPASSRLS` and no query without a tenant filter is involved.
    ///
    /// The work's future may borrow the transaction; what else it uses it
    /// owns (clone an `Arc` or the parameters into it), since it must be
    /// valid for any transaction it is given.
    ///
    /// At most [`FanOut::concurrency`] tenants run at once (on one task); [`OnError::Stop`] (the default)
    /// starts no tenant after the first failure. Progress goes to
    /// [`FanOut::on_progress`] and to `tracing` (target
    /// `tenancy::fan_out`).
    ///
    /// ```no_run
    /// # async fn run(pool: tenancy_sqlx::TenantPool, tenants: Vec<tenancy_sqlx::TenantId>) -> Result<(), tenancy_sqlx::Error> {
    /// # #[tenancy_sqlx::tenant_scoped] #[derive(sqlx::FromRow)] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key)] pub id: i64 }
    /// use tenancy_sqlx::FanOut;
    ///
    /// let report = pool
    ///     .fan_out(tenants, &FanOut::new().concurrency(4), |tx| {
    ///         Box::pin(async move {
    ///             let orders: Vec<Order> = tx.fetch_all(Order::select(tx.tenant())).await?;
    ///             Ok::<_, tenancy_sqlx::Error>(orders.len())
    ///         })
    ///     })
    ///     .await;
    /// assert!(report.all_succeeded());
    /// # Ok(()) }
    /// ```
    pub async fn fan_out<K, T, E, F>(
        &self,
        tenants: impl IntoIterator<Item = TenantId<K>>,
        options: &FanOut,
        work: F,
    ) -> FanOutReport<K, T, E>
    where
        K: TenantKey,
        E: From<Error> + core::fmt::Display,
        F: for<'t> Fn(&'t mut TenantTransaction<K, DB>) -> TenantWork<'t, T, E>,
    {
        fan_out_with(self, tenants.into_iter().collect(), options.clone(), work).await
    }
}

/// The fan-out of [`TenantPool::fan_out`] and [`BeginTenant::fan_out`]:
/// each tenant's transaction opened by `source`.
pub(crate) async fn fan_out_with<S, K, T, E, F>(
    source: &S,
    tenants: Vec<TenantId<K>>,
    options: FanOut,
    work: F,
) -> FanOutReport<K, T, E>
where
    S: BeginTenant,
    K: TenantKey,
    E: From<Error> + core::fmt::Display,
    F: for<'t> Fn(&'t mut TenantTransaction<K, S::Backend>) -> TenantWork<'t, T, E>,
{
    let mut queue = tenants.into_iter();
    let total = queue.len();
    let mut progress = FanOutProgress {
        done: 0,
        failed: 0,
        total,
    };
    let mut running = FuturesUnordered::new();
    let mut results = Vec::with_capacity(total);
    let mut stopped = false;
    let work = &work;
    loop {
        while !stopped && running.len() < options.concurrency {
            let Some(tenant) = queue.next() else { break };
            running.push(async move { (tenant, run_for(source, &tenant, work).await) });
        }
        let Some((tenant, result)) = running.next().await else {
            break;
        };
        match &result {
            Ok(_) => progress.done += 1,
            Err(error) => {
                progress.failed += 1;
                tracing::warn!(target: "tenancy::fan_out", tenant = %tenant.key_value(), %error, "tenant failed");
                stopped |= options.on_error == OnError::Stop;
            }
        }
        tracing::info!(
            target: "tenancy::fan_out",
            done = progress.done,
            failed = progress.failed,
            total,
            "fan-out progress"
        );
        if let Some(report) = &options.progress {
            report(&progress);
        }
        results.push((tenant, result));
    }
    FanOutReport {
        results,
        not_started: queue.collect(),
    }
}

/// One tenant's transaction around the work.
async fn run_for<S, K, T, E, F>(source: &S, tenant: &TenantId<K>, work: &F) -> Result<T, E>
where
    S: BeginTenant,
    K: TenantKey,
    E: From<Error>,
    F: for<'t> Fn(&'t mut TenantTransaction<K, S::Backend>) -> TenantWork<'t, T, E>,
{
    let mut tx = source.begin(tenant).await?;
    match work(&mut tx).await {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            // The work's error is the one to report; a failed rollback
            // still ends the transaction (its connection is closed).
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}
