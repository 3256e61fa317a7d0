//! One worker of a run: it takes targets one at a time, holds the target's
//! advisory lock while it migrates it, and keeps one connection to the
//! runner's database for all the schema targets it takes.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use super::apply::{Applied, Apply, Direction, busy_wait};
use super::ledger::{Ledger, Row, Status, TARGET_LOCK_CLASS};
use super::monitor::Activity;
use super::target::Place;
use super::{
    Event, Failure, FailureKind, Migrations, Operation, Outcome, RunnerOptions, StopReason, Target,
    TargetReport,
};

/// What every worker of a run shares.
pub(crate) struct Shared {
    pub(crate) home: PgConnectOptions,
    pub(crate) migrations: Arc<Migrations>,
    pub(crate) options: RunnerOptions,
    pub(crate) activity: Arc<Activity>,
    pub(crate) reason: Arc<str>,
    /// The ledger of the runner's database (schema targets).
    pub(crate) ledger: Ledger,
    pub(crate) operation: Operation,
    /// Set once the run starts no further migration.
    pub(crate) stop: AtomicBool,
    pub(crate) failures: AtomicUsize,
    /// Whether this phase is the canary: any failure stops the run.
    pub(crate) canary: AtomicBool,
    pub(crate) stop_reason: Mutex<Option<StopReason>>,
}

impl Shared {
    /// Counts a failed target and stops the run when the canary failed or
    /// the limit is reached.
    fn failed(&self, target: &str) {
        let failures = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
        let mut reason = self
            .stop_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let new_reason = if self.canary.load(Ordering::SeqCst) {
            match reason.take() {
                Some(StopReason::CanaryFailed { mut failed }) => {
                    failed.push(target.to_owned());
                    *reason = Some(StopReason::CanaryFailed { failed });
                    None
                }
                _ => Some(StopReason::CanaryFailed {
                    failed: vec![target.to_owned()],
                }),
            }
        } else if failures >= self.options.max_failures && reason.is_none() {
            Some(StopReason::TooManyFailures {
                failures,
                limit: self.options.max_failures,
            })
        } else {
            if let Some(StopReason::TooManyFailures {
                failures: counted, ..
            }) = reason.as_mut()
            {
                *counted = failures;
            }
            None
        };
        if let Some(new_reason) = new_reason {
            self.stop.store(true, Ordering::SeqCst);
            self.options.emit(Event::Stopping(new_reason.clone()));
            *reason = Some(new_reason);
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Connection options for the runner's sessions: its application name,
    /// and a check that makes the server end a session whose client died
    /// (a killed runner) within a second instead of when it next writes.
    pub(crate) fn session_options(&self, base: &PgConnectOptions) -> PgConnectOptions {
        base.clone()
            .application_name(&self.options.application_name)
            .options([("client_connection_check_interval", "1000")])
    }
}

/// A worker's connection to the runner's database, kept across targets.
pub(crate) struct Worker {
    home: Option<(PgConnection, i32)>,
}

/// A target's result, and whether its connection broke.
struct Processed {
    report: TargetReport,
    connection_lost: bool,
}

impl Worker {
    pub(crate) fn new() -> Self {
        Worker { home: None }
    }

    /// Migrates one target; never fails: what went wrong is in the report.
    pub(crate) async fn target(&mut self, shared: &Shared, target: &Target) -> TargetReport {
        let report = match target.place() {
            Place::Schema(_) => match self.home_connection(shared).await {
                Ok((connection, pid)) => {
                    let processed =
                        process(shared, connection, Some(*pid), target, &shared.ledger).await;
                    if processed.connection_lost {
                        self.home = None;
                    }
                    processed.report
                }
                Err(error) => unreachable_target(target, format!("cannot connect: {error}")),
            },
            Place::Database { options, .. } => {
                // One connection per worker at any time, whatever the mix
                // of targets.
                if let Some((home, _)) = self.home.take() {
                    let _ = home.close().await;
                }
                let ledger = match shared.options.ledger_schema_name() {
                    Ok(schema) => Ledger::new(&schema),
                    Err(error) => return unreachable_target(target, error.to_string()),
                };
                // The lock monitor reads the runner's server: a pid of
                // another server would name another session there.
                let watched = crate::directory::same_server(options, &shared.home);
                match connect(shared, options).await {
                    Ok((mut connection, pid)) => {
                        let pid = watched.then_some(pid);
                        let report = match ledger.ensure(&mut connection).await {
                            Ok(()) => {
                                process(shared, &mut connection, pid, target, &ledger)
                                    .await
                                    .report
                            }
                            Err(error) => unreachable_target(
                                target,
                                format!("cannot create the ledger {}: {error}", ledger.table()),
                            ),
                        };
                        let _ = connection.close().await;
                        report
                    }
                    Err(error) => unreachable_target(target, format!("cannot connect: {error}")),
                }
            }
        };
        if matches!(report.outcome, Outcome::Failed(_)) {
            shared.failed(&report.target);
        }
        shared.options.emit(Event::TargetDone {
            target: report.target.clone(),
            version: report.version_after,
            failed: matches!(report.outcome, Outcome::Failed(_)),
        });
        report
    }

    async fn home_connection(
        &mut self,
        shared: &Shared,
    ) -> Result<&mut (PgConnection, i32), sqlx::Error> {
        let home = match self.home.take() {
            Some(home) => home,
            None => connect(shared, &shared.home).await?,
        };
        Ok(self.home.insert(home))
    }

    /// Closes the connection, if any.
    pub(crate) async fn close(self) {
        if let Some((connection, _)) = self.home {
            let _ = connection.close().await;
        }
    }
}

async fn connect(
    shared: &Shared,
    options: &PgConnectOptions,
) -> Result<(PgConnection, i32), sqlx::Error> {
    let mut connection = PgConnection::connect_with(&shared.session_options(options)).await?;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut connection)
        .await?;
    Ok((connection, pid))
}

fn unreachable_target(target: &Target, message: String) -> TargetReport {
    TargetReport {
        target: target.label().to_owned(),
        outcome: Outcome::Failed(Failure {
            version: None,
            kind: FailureKind::Target,
            message,
        }),
        version_before: None,
        version_after: None,
        steps: Vec::new(),
    }
}

/// Holds the target's advisory lock around [`migrate`].
async fn process(
    shared: &Shared,
    connection: &mut PgConnection,
    pid: Option<i32>,
    target: &Target,
    ledger: &Ledger,
) -> Processed {
    let label = target.label();
    let lost = |message: String| Processed {
        report: unreachable_target(target, message),
        connection_lost: true,
    };
    let mut polls = 0_u32;
    loop {
        let locked: Result<bool, sqlx::Error> =
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
                .bind(TARGET_LOCK_CLASS)
                .bind(label)
                .fetch_one(&mut *connection)
                .await;
        match locked {
            Ok(true) => break,
            Ok(false) => {
                if polls == 0 {
                    shared.options.emit(Event::TargetBusy {
                        target: label.to_owned(),
                    });
                }
                tokio::time::sleep(busy_wait(polls)).await;
                polls = polls.saturating_add(1);
            }
            Err(error) => return lost(format!("cannot lock the target: {error}")),
        }
    }
    let processed = migrate(shared, connection, pid, target, ledger).await;
    if !processed.connection_lost {
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1, hashtext($2))")
            .bind(TARGET_LOCK_CLASS)
            .bind(label)
            .execute(&mut *connection)
            .await;
        if unlocked.is_err() {
            // The session, and so the lock, ends with the connection.
            return Processed {
                connection_lost: true,
                ..processed
            };
        }
    }
    processed
}

/// Checks the ledger against the migrations, then applies (or reverts)
/// what the operation needs, one migration after the other.
async fn migrate(
    shared: &Shared,
    connection: &mut PgConnection,
    pid: Option<i32>,
    target: &Target,
    ledger: &Ledger,
) -> Processed {
    let label = target.label().to_owned();
    let mut report = TargetReport {
        target: label.clone(),
        outcome: Outcome::UpToDate,
        version_before: None,
        version_after: None,
        steps: Vec::new(),
    };
    let fail = |mut report: TargetReport, failure: Failure, connection_lost: bool| {
        report.outcome = Outcome::Failed(failure);
        Processed {
            report,
            connection_lost,
        }
    };
    if let Err(failure) = prepare(shared, connection, target).await {
        return fail(report, failure, false);
    }
    let rows = match ledger.rows(connection, &label).await {
        Ok(rows) => rows,
        Err(error) => {
            let failure = target_failure(format!(
                "cannot read the ledger {}: {error}",
                ledger.table()
            ));
            return fail(report, failure, true);
        }
    };
    let mut applied: Vec<i64> = rows
        .iter()
        .filter(|row| row.status == Status::Applied)
        .map(|row| row.version)
        .collect();
    report.version_before = applied.iter().max().copied();
    report.version_after = report.version_before;
    if let Err(failure) = check_applied(&rows, &shared.migrations) {
        return fail(report, failure, false);
    }
    let plan: Vec<(i64, Direction)> = match shared.operation {
        Operation::Up { to } | Operation::Canary { to } => shared
            .migrations
            .ups_to(to)
            .map(|up| up.version)
            .filter(|version| !applied.contains(version))
            .map(|version| (version, Direction::Up))
            .collect(),
        Operation::Down { to } => {
            let mut revert: Vec<i64> = applied
                .iter()
                .copied()
                .filter(|version| *version > to)
                .collect();
            revert.sort_unstable_by(|a, b| b.cmp(a));
            revert
                .into_iter()
                .map(|version| (version, Direction::Down))
                .collect()
        }
    };
    let apply = Apply {
        options: &shared.options,
        ledger,
        activity: &shared.activity,
        target,
        pid,
        reason: &shared.reason,
    };
    for (version, direction) in plan {
        if shared.stopped() {
            report.outcome = if report.steps.is_empty() {
                Outcome::NotRun
            } else {
                Outcome::Stopped
            };
            return Processed {
                report,
                connection_lost: false,
            };
        }
        let migration = match direction {
            Direction::Up => shared.migrations.up(version),
            Direction::Down => shared.migrations.down(version),
        };
        let Some(migration) = migration else {
            let failure = Failure {
                version: Some(version),
                kind: FailureKind::NoDownScript,
                message: format!(
                    "version {version} has no down script (`{version}_<name>.down.sql`): it cannot be reverted"
                ),
            };
            return fail(report, failure, false);
        };
        match apply.run(connection, migration, direction).await {
            Ok(Applied::Done(step)) => {
                let event = match direction {
                    Direction::Up => {
                        applied.push(version);
                        Event::Applied {
                            target: label.clone(),
                            version,
                            duration: step.duration,
                        }
                    }
                    Direction::Down => {
                        applied.retain(|applied| *applied != version);
                        Event::Reverted {
                            target: label.clone(),
                            version,
                            duration: step.duration,
                        }
                    }
                };
                shared.options.emit(event);
                report.steps.push(step);
                report.version_after = applied.iter().max().copied();
                report.outcome = Outcome::Done;
            }
            Ok(Applied::AlreadyDone) => {
                if direction == Direction::Up {
                    applied.push(version);
                } else {
                    applied.retain(|applied| *applied != version);
                }
                report.version_after = applied.iter().max().copied();
            }
            Err(failed) => return fail(report, failed.failure, failed.connection_lost),
        }
    }
    Processed {
        report,
        connection_lost: false,
    }
}

/// A schema target's schema must exist (or be created, if the options say
/// so): a migration run in a missing schema would fail on its first name,
/// or worse, find the name in another schema of the path.
async fn prepare(
    shared: &Shared,
    connection: &mut PgConnection,
    target: &Target,
) -> Result<(), Failure> {
    let Some(schema) = target.schema_name() else {
        return Ok(());
    };
    if shared.options.create_schemas {
        return sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            schema.quoted()
        )))
        .execute(&mut *connection)
        .await
        .map(drop)
        .map_err(|error| target_failure(format!("cannot create schema `{schema}`: {error}")));
    }
    let exists: Result<bool, sqlx::Error> = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
    )
    .bind(schema.as_str())
    .fetch_one(&mut *connection)
    .await;
    match exists {
        Ok(true) => Ok(()),
        Ok(false) => Err(target_failure(format!(
            "schema `{schema}` does not exist: create it (CREATE SCHEMA {}), or let the runner \
             create missing schemas (`RunnerOptions::create_schemas`)",
            schema.quoted()
        ))),
        Err(error) => Err(target_failure(format!(
            "cannot look up schema `{schema}`: {error}"
        ))),
    }
}

fn target_failure(message: String) -> Failure {
    Failure {
        version: None,
        kind: FailureKind::Target,
        message,
    }
}

/// Every applied version must still be among the migrations, with the
/// checksum it was applied with: an edited migration is never run again
/// and never ignored.
fn check_applied(rows: &[Row], migrations: &Migrations) -> Result<(), Failure> {
    for row in rows.iter().filter(|row| row.status == Status::Applied) {
        let Some(up) = migrations.up(row.version) else {
            return Err(Failure {
                version: Some(row.version),
                kind: FailureKind::UnknownVersion,
                message: format!(
                    "version {} is applied on this target but is not among the migrations: \
                     restore its file, or run the migrations of a release that has it",
                    row.version
                ),
            });
        };
        if *up.checksum != *row.checksum {
            return Err(Failure {
                version: Some(row.version),
                kind: FailureKind::ChecksumMismatch,
                message: format!(
                    "version {} ({}) was applied with checksum {} but its script now has checksum {}: \
                     an applied migration was edited; restore the applied script and put the change \
                     in a new migration",
                    row.version,
                    up.description,
                    short_hex(&row.checksum),
                    short_hex(&up.checksum)
                ),
            });
        }
    }
    Ok(())
}

/// The first bytes of a checksum in hex, enough to tell two apart.
fn short_hex(bytes: &[u8]) -> String {
    let hex: String = bytes
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{hex}…")
}
