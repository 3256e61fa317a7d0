//! The fleet runner: the canary, then every other target, `concurrency` at
//! a time, on at most `concurrency + 1` connections.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use tenancy_core::CrossTenant;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::ledger::Ledger;
use super::monitor::{Activity, watch_locks};
use super::target::{Place, check_unique};
use super::worker::{Shared, Worker};
use super::{
    Event, FleetReport, MigrateError, Migrations, Operation, Outcome, RunnerOptions, Target,
    TargetReport, TargetStatus,
};
use crate::OwnerPool;

/// Applies and reverts migrations across a fleet of targets (see the
/// [module documentation](super) for the whole story).
///
/// It is made with the [`CrossTenant`] capability (migrations touch every
/// tenant), connects as the role that owns the tables, and logs each
/// migration it applies on target `tenancy::cross_tenant` with the
/// capability's reason.
///
/// ```no_run
/// # async fn run(owner: tenancy_sqlx::OwnerPool) -> Result<(), tenancy_sqlx::migrate::MigrateError> {
/// use tenancy_sqlx::migrate::{self, Migrations, Runner, RunnerOptions};
///
/// let migrations = Migrations::from_dir("migrations").await?;
/// let runner = Runner::for_owner(&owner, migrations)
///     .options(RunnerOptions::new().concurrency(20).canary(5));
/// let mut connection = owner.pool().acquire().await?;
/// let targets = migrate::schemas_like(&mut connection, "tenant\\_%").await?;
/// let report = runner.up(&targets).await?;
/// println!("{}", report.summary());
/// # Ok(()) }
/// ```
pub struct Runner {
    home: PgConnectOptions,
    migrations: Arc<Migrations>,
    options: RunnerOptions,
    reason: Arc<str>,
}

impl core::fmt::Debug for Runner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Runner")
            .field("migrations", &self.migrations.len())
            .field("options", &self.options)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner that connects with `home` (the database of schema targets
    /// and of the ledger for them) as the role that owns the tables.
    #[must_use]
    pub fn new(home: PgConnectOptions, capability: CrossTenant, migrations: Migrations) -> Self {
        Runner {
            home,
            migrations: Arc::new(migrations),
            options: RunnerOptions::default(),
            reason: capability.reason().into(),
        }
    }

    /// A runner that connects like `owner`'s pool, with its capability's
    /// reason. It opens connections of its own (it holds a session-level
    /// advisory lock per target), at most
    /// [`RunnerOptions::connections`] at once.
    #[must_use]
    pub fn for_owner(owner: &OwnerPool, migrations: Migrations) -> Self {
        Runner {
            home: (*owner.pool().connect_options()).clone(),
            migrations: Arc::new(migrations),
            options: RunnerOptions::default(),
            reason: owner.reason().into(),
        }
    }

    /// Replaces the options.
    #[must_use]
    pub fn options(mut self, options: RunnerOptions) -> Self {
        self.options = options;
        self
    }

    /// The migrations it runs.
    #[must_use]
    pub fn migrations(&self) -> &Migrations {
        &self.migrations
    }

    /// Applies every pending migration to every target: the canary first
    /// (the first [`canary`](RunnerOptions::canary) targets; if one fails,
    /// no other target is started), then the others, `concurrency` at a
    /// time, until [`max_failures`](RunnerOptions::max_failures) targets
    /// have failed.
    pub async fn up(&self, targets: &[Target]) -> Result<FleetReport, MigrateError> {
        self.run(targets, Operation::Up { to: None }).await
    }

    /// [`up`](Self::up), up to and including `version`.
    pub async fn up_to(
        &self,
        targets: &[Target],
        version: i64,
    ) -> Result<FleetReport, MigrateError> {
        self.run(targets, Operation::Up { to: Some(version) }).await
    }

    /// Applies every pending migration to the canary targets only; the
    /// others are reported as not run.
    pub async fn canary(&self, targets: &[Target]) -> Result<FleetReport, MigrateError> {
        self.run(targets, Operation::Canary { to: None }).await
    }

    /// Reverts, on every target, each applied migration above `version`,
    /// newest first, with its down script (`0`: all of them). There is no
    /// canary: a revert is usually the answer to a problem already seen.
    pub async fn down_to(
        &self,
        targets: &[Target],
        version: i64,
    ) -> Result<FleetReport, MigrateError> {
        self.run(targets, Operation::Down { to: version }).await
    }

    /// Where each target stands, from the ledgers: nothing is changed and
    /// no target is locked.
    pub async fn status(&self, targets: &[Target]) -> Result<Vec<TargetStatus>, MigrateError> {
        self.options.check()?;
        check_unique(targets)?;
        let shared = self.shared(Operation::Up { to: None })?;
        let mut statuses: Vec<Option<TargetStatus>> = vec![None; targets.len()];
        let schema_targets: Vec<(usize, String)> = targets
            .iter()
            .enumerate()
            .filter(|(_, target)| !target.is_database())
            .map(|(index, target)| (index, target.label().to_owned()))
            .collect();
        if !schema_targets.is_empty() {
            let mut home = PgConnection::connect_with(&shared.session_options(&self.home)).await?;
            let labels: Vec<String> = schema_targets
                .iter()
                .map(|(_, label)| label.clone())
                .collect();
            let mut rows = if shared.ledger.exists(&mut home).await? {
                shared.ledger.rows_of(&mut home, &labels).await?
            } else {
                Default::default()
            };
            let _ = home.close().await;
            for (index, label) in schema_targets {
                let rows = rows.remove(&label).unwrap_or_default();
                statuses[index] = Some(TargetStatus::from_rows(&label, &rows, &self.migrations));
            }
        }
        let permits = Arc::new(Semaphore::new(self.options.concurrency));
        let shared = Arc::new(shared);
        let mut tasks = JoinSet::new();
        for (index, target) in targets.iter().enumerate() {
            let Place::Database { options, .. } = target.place() else {
                continue;
            };
            let (permits, shared, options, label) = (
                Arc::clone(&permits),
                Arc::clone(&shared),
                options.clone(),
                target.label().to_owned(),
            );
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let status = database_status(&shared, &options, &label).await;
                (index, label, status)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (index, label, status) = joined.map_err(|error| MigrateError::InvalidOption {
                reason: format!("a status task failed: {error}"),
            })?;
            statuses[index] = Some(status.unwrap_or_else(|error| TargetStatus {
                target: label,
                version: None,
                applied: Vec::new(),
                pending: self.migrations.versions().collect(),
                problems: vec![format!("cannot read its ledger: {error}")],
            }));
        }
        Ok(statuses.into_iter().flatten().collect())
    }

    fn shared(&self, operation: Operation) -> Result<Shared, MigrateError> {
        Ok(Shared {
            home: self.home.clone(),
            migrations: Arc::clone(&self.migrations),
            options: self.options.clone(),
            activity: Arc::new(Activity::default()),
            reason: Arc::clone(&self.reason),
            ledger: Ledger::new(&self.options.ledger_schema_name()?),
            operation,
            stop: AtomicBool::new(false),
            failures: AtomicUsize::new(0),
            canary: AtomicBool::new(false),
            stop_reason: Mutex::new(None),
        })
    }

    async fn run(
        &self,
        targets: &[Target],
        operation: Operation,
    ) -> Result<FleetReport, MigrateError> {
        let started = Instant::now();
        self.options.check()?;
        check_unique(targets)?;
        let shared = Arc::new(self.shared(operation)?);
        // The runner's own connection: the ledger for schema targets, then
        // the lock monitor.
        let mut control = PgConnection::connect_with(&shared.session_options(&self.home)).await?;
        if targets.iter().any(|target| !target.is_database()) {
            shared.ledger.ensure(&mut control).await?;
        }
        let (done, watching) = watch::channel(false);
        let monitor = tokio::spawn(watch_locks(
            control,
            Arc::clone(&shared.activity),
            self.options.clone(),
            watching,
        ));
        let targets: Arc<[Target]> = targets.into();
        let mut reports: Vec<Option<TargetReport>> = vec![None; targets.len()];

        let canary = match operation {
            Operation::Down { .. } => 0,
            Operation::Up { .. } | Operation::Canary { .. } => {
                self.options.canary.min(targets.len())
            }
        };
        if canary > 0 {
            shared.canary.store(true, Ordering::SeqCst);
            self.options.emit(Event::Phase {
                name: "canary",
                targets: canary,
            });
            run_phase(&shared, &targets, 0..canary, &mut reports).await;
            shared.canary.store(false, Ordering::SeqCst);
        }
        let rest_allowed =
            !matches!(operation, Operation::Canary { .. }) && !shared.stop.load(Ordering::SeqCst);
        if rest_allowed && canary < targets.len() {
            self.options.emit(Event::Phase {
                name: "fleet",
                targets: targets.len() - canary,
            });
            run_phase(&shared, &targets, canary..targets.len(), &mut reports).await;
        }

        let _ = done.send(true);
        let mut control = monitor.await.map_err(|error| MigrateError::InvalidOption {
            reason: format!("the lock monitor failed: {error}"),
        })?;
        let mut reports: Vec<TargetReport> = reports
            .into_iter()
            .zip(targets.iter())
            .map(|(report, target)| {
                report.unwrap_or_else(|| TargetReport {
                    target: target.label().to_owned(),
                    outcome: Outcome::NotRun,
                    version_before: None,
                    version_after: None,
                    steps: Vec::new(),
                })
            })
            .collect();
        fill_versions_of_targets_not_run(&shared, &mut control, &targets, &mut reports).await;
        let _ = control.close().await;
        let stopped = shared
            .stop_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Ok(FleetReport {
            operation,
            targets: reports,
            stopped,
            lock_waits: shared.activity.waits(),
            elapsed: started.elapsed(),
            connections: self.options.connections(),
        })
    }
}

/// Migrates `range` of `targets` with up to `concurrency` workers, each
/// taking the next target when it is done with one, until the run stops.
async fn run_phase(
    shared: &Arc<Shared>,
    targets: &Arc<[Target]>,
    range: std::ops::Range<usize>,
    reports: &mut [Option<TargetReport>],
) {
    let next = Arc::new(AtomicUsize::new(range.start));
    let end = range.end;
    let workers = shared.options.concurrency.min(range.len());
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let (shared, targets, next) = (Arc::clone(shared), Arc::clone(targets), Arc::clone(&next));
        tasks.spawn(async move {
            let mut worker = Worker::new();
            let mut done = Vec::new();
            loop {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= end {
                    break;
                }
                done.push((index, worker.target(&shared, &targets[index]).await));
            }
            worker.close().await;
            done
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(done) => {
                for (index, report) in done {
                    reports[index] = Some(report);
                }
            }
            // A worker that panicked: its targets show as not run, which
            // the ledger corrects on the next status query.
            Err(error) => {
                tracing::error!(target: "tenancy::migrate", %error, "a migration worker failed")
            }
        }
    }
}

/// Reads, for schema targets the run never reached, the version their
/// ledger says they are at, so the report tells where every target is.
async fn fill_versions_of_targets_not_run(
    shared: &Shared,
    control: &mut PgConnection,
    targets: &[Target],
    reports: &mut [TargetReport],
) {
    let labels: Vec<String> = reports
        .iter()
        .zip(targets)
        .filter(|(report, target)| report.outcome == Outcome::NotRun && !target.is_database())
        .map(|(report, _)| report.target.clone())
        .collect();
    if labels.is_empty() {
        return;
    }
    let Ok(mut rows) = shared.ledger.rows_of(control, &labels).await else {
        return;
    };
    for report in reports
        .iter_mut()
        .filter(|report| report.outcome == Outcome::NotRun)
    {
        let status = TargetStatus::from_rows(
            &report.target,
            &rows.remove(&report.target).unwrap_or_default(),
            &shared.migrations,
        );
        report.version_before = status.version;
        report.version_after = status.version;
    }
}

async fn database_status(
    shared: &Shared,
    options: &PgConnectOptions,
    label: &str,
) -> Result<TargetStatus, MigrateError> {
    let mut connection = PgConnection::connect_with(&shared.session_options(options)).await?;
    let rows = if shared.ledger.exists(&mut connection).await? {
        shared.ledger.rows(&mut connection, label).await?
    } else {
        Vec::new()
    };
    let _ = connection.close().await;
    Ok(TargetStatus::from_rows(label, &rows, &shared.migrations))
}
