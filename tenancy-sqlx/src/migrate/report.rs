//! What a run did, target by target, and what it reports while it runs.

use std::collections::BTreeMap;
use std::time::Duration;

use super::ledger::{Row, Status};

/// What a run was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// Apply every pending migration up to a version (`None`: the latest).
    Up {
        /// The highest version to apply.
        to: Option<i64>,
    },
    /// Apply them to the canary targets only.
    Canary {
        /// The highest version to apply.
        to: Option<i64>,
    },
    /// Revert every applied migration above a version.
    Down {
        /// The version targets end at (0: none applied).
        to: i64,
    },
}

/// A moment of a run, for progress bars and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A phase started: the canary, then the rest of the fleet.
    Phase {
        /// `canary` or `fleet`.
        name: &'static str,
        /// How many targets it covers.
        targets: usize,
    },
    /// Another runner holds a target; this one waits for it.
    TargetBusy {
        /// The target.
        target: String,
    },
    /// A migration was applied to a target.
    Applied {
        /// The target.
        target: String,
        /// The version.
        version: i64,
        /// How long it took.
        duration: Duration,
    },
    /// A migration was reverted on a target.
    Reverted {
        /// The target.
        target: String,
        /// The version.
        version: i64,
        /// How long it took.
        duration: Duration,
    },
    /// A migration gave up on a lock or hit a deadlock and is tried again.
    Retrying {
        /// The target.
        target: String,
        /// The version.
        version: i64,
        /// The attempt that failed (from 1).
        attempt: u32,
        /// How long the runner waits first.
        wait: Duration,
        /// The server's error.
        reason: String,
    },
    /// A migration waits for a lock another session holds.
    LockWait(LockWait),
    /// A target is done: every migration it needed is applied (or
    /// reverted), or it failed.
    TargetDone {
        /// The target.
        target: String,
        /// Its version now.
        version: Option<i64>,
        /// Whether it failed.
        failed: bool,
    },
    /// The run starts no more targets.
    Stopping(StopReason),
}

/// Why a run stopped before it reached every target.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// A canary target failed.
    CanaryFailed {
        /// The canary targets that failed.
        failed: Vec<String>,
    },
    /// As many targets failed as `max_failures` allows.
    TooManyFailures {
        /// How many failed.
        failures: usize,
        /// The limit.
        limit: usize,
    },
}

impl core::fmt::Display for StopReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StopReason::CanaryFailed { failed } => write!(
                f,
                "the canary failed on {}: no other target was started",
                failed.join(", ")
            ),
            StopReason::TooManyFailures { failures, limit } => write!(
                f,
                "{failures} targets failed (the limit is {limit}): no further target was started"
            ),
        }
    }
}

/// A lock wait the runner saw in `pg_locks` while a migration ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockWait {
    /// The target.
    pub target: String,
    /// The version being applied (or reverted).
    pub version: i64,
    /// The attempt (from 1).
    pub attempt: u32,
    /// What kind of lock (`relation`, `virtualxid`, `advisory`, ...).
    pub lock_type: String,
    /// The relation waited for, if it is one.
    pub relation: Option<String>,
    /// The lock mode asked for (`AccessExclusiveLock`, ...).
    pub mode: String,
    /// The sessions it waited for: pid, application and what they ran.
    pub blocked_by: Vec<String>,
    /// How long it was seen waiting (at the runner's polling resolution).
    pub waited: Duration,
}

impl core::fmt::Display for LockWait {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} version {} (attempt {}) waited {} ms for {} on {}",
            self.target,
            self.version,
            self.attempt,
            self.waited.as_millis(),
            self.mode,
            self.relation.as_deref().unwrap_or(&self.lock_type)
        )?;
        if !self.blocked_by.is_empty() {
            write!(f, ", held by {}", self.blocked_by.join("; "))?;
        }
        Ok(())
    }
}

/// A migration applied or reverted on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The version.
    pub version: i64,
    /// Its description.
    pub description: String,
    /// How long its successful attempt took.
    pub duration: Duration,
    /// Attempts it took (1: no retry).
    pub attempts: u32,
}

/// How a target fared.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// It needed nothing.
    UpToDate,
    /// Every migration it needed was applied (or reverted).
    Done,
    /// A migration failed; the target stays at the last one that worked.
    Failed(Failure),
    /// The run stopped after some of the migrations it needed: it is at an
    /// intermediate version, which the next run continues from.
    Stopped,
    /// It was not started: the run stopped first.
    NotRun,
}

/// Why a target failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The version that failed, if the failure is about one.
    pub version: Option<i64>,
    /// What kind of failure.
    pub kind: FailureKind,
    /// What happened, with the server's SQLSTATE where there is one.
    pub message: String,
}

/// The kinds of [`Failure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The migration's SQL failed; its transaction was rolled back.
    Migration,
    /// It still could not get its locks after every retry.
    LockTimeout,
    /// An applied migration's script has changed since.
    ChecksumMismatch,
    /// The target has a version applied that the migrations do not have.
    UnknownVersion,
    /// The migration ended the runner's transaction itself (`COMMIT` or
    /// `ROLLBACK` in its SQL), so it was not applied atomically.
    TransactionEnded,
    /// A down migration was asked for a version without a down script.
    NoDownScript,
    /// The target could not be reached or prepared (connection, missing
    /// schema, ledger).
    Target,
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.version {
            Some(version) => write!(f, "version {version}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// One target's part of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetReport {
    /// The target.
    pub target: String,
    /// How it fared.
    pub outcome: Outcome,
    /// Its version before the run (`None`: no migration applied).
    pub version_before: Option<i64>,
    /// Its version after the run.
    pub version_after: Option<i64>,
    /// The migrations applied (or reverted) on it by this run, in order.
    pub steps: Vec<Step>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetReport {
    /// What it was asked to do.
    pub operation: Operation,
    /// Every target, in the order given.
    pub targets: Vec<TargetReport>,
    /// Why it stopped early, if it did.
    pub stopped: Option<StopReason>,
    /// The lock waits it saw.
    pub lock_waits: Vec<LockWait>,
    /// How long it took.
    pub elapsed: Duration,
    /// The most connections it was allowed to hold.
    pub connections: usize,
}

impl FleetReport {
    /// Whether every target ended where it was asked to be.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.stopped.is_none()
            && self
                .targets
                .iter()
                .all(|target| matches!(target.outcome, Outcome::UpToDate | Outcome::Done))
    }

    /// The targets that failed.
    pub fn failed(&self) -> impl Iterator<Item = &TargetReport> {
        self.targets
            .iter()
            .filter(|target| matches!(target.outcome, Outcome::Failed(_)))
    }

    /// How many targets are at each version after the run (`None`: no
    /// migration applied).
    #[must_use]
    pub fn versions(&self) -> BTreeMap<Option<i64>, usize> {
        let mut versions = BTreeMap::new();
        for target in &self.targets {
            *versions.entry(target.version_after).or_insert(0) += 1;
        }
        versions
    }

    /// How many migrations it applied (or reverted) in all.
    #[must_use]
    pub fn steps(&self) -> usize {
        self.targets.iter().map(|target| target.steps.len()).sum()
    }

    /// A few lines for a terminal or a log: counts, where targets are, what
    /// failed and why the run stopped.
    #[must_use]
    pub fn summary(&self) -> String {
        let count = |wanted: fn(&Outcome) -> bool| {
            self.targets
                .iter()
                .filter(|target| wanted(&target.outcome))
                .count()
        };
        let mut text = format!(
            "{} targets in {:.1} s: {} migrated, {} up to date, {} failed, {} stopped part way, {} not run; {} migrations {}",
            self.targets.len(),
            self.elapsed.as_secs_f64(),
            count(|outcome| matches!(outcome, Outcome::Done)),
            count(|outcome| matches!(outcome, Outcome::UpToDate)),
            count(|outcome| matches!(outcome, Outcome::Failed(_))),
            count(|outcome| matches!(outcome, Outcome::Stopped)),
            count(|outcome| matches!(outcome, Outcome::NotRun)),
            self.steps(),
            if matches!(self.operation, Operation::Down { .. }) {
                "reverted"
            } else {
                "applied"
            },
        );
        let versions: Vec<String> = self
            .versions()
            .iter()
            .rev()
            .map(|(version, count)| match version {
                Some(version) => format!("{count} at version {version}"),
                None => format!("{count} with no migration applied"),
            })
            .collect();
        text.push_str(&format!("\ntargets now: {}", versions.join(", ")));
        for target in self.failed() {
            if let Outcome::Failed(failure) = &target.outcome {
                text.push_str(&format!("\nfailed: {}: {failure}", target.target));
            }
        }
        if let Some(stopped) = &self.stopped {
            text.push_str(&format!("\nstopped: {stopped}"));
        }
        if !self.lock_waits.is_empty() {
            text.push_str(&format!("\nlock waits: {}", self.lock_waits.len()));
        }
        text
    }
}

/// Where one target stands, from its ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetStatus {
    /// The target.
    pub target: String,
    /// The highest applied version (`None`: none).
    pub version: Option<i64>,
    /// Versions applied, ascending.
    pub applied: Vec<i64>,
    /// Versions the migrations have that are not applied, ascending.
    pub pending: Vec<i64>,
    /// The ledger's rows that need attention: failed and interrupted
    /// migrations, edited scripts, unknown versions.
    pub problems: Vec<String>,
}

impl TargetStatus {
    pub(crate) fn from_rows(
        target: &str,
        rows: &[Row],
        migrations: &super::Migrations,
    ) -> TargetStatus {
        let applied: Vec<i64> = rows
            .iter()
            .filter(|row| row.status == Status::Applied)
            .map(|row| row.version)
            .collect();
        let pending = migrations
            .versions()
            .filter(|version| !applied.contains(version))
            .collect();
        let mut problems = Vec::new();
        for row in rows {
            match (row.status, migrations.up(row.version)) {
                (Status::Applied, None) => problems.push(format!(
                    "version {} is applied but not among the migrations",
                    row.version
                )),
                (Status::Applied, Some(up)) if *up.checksum != *row.checksum => {
                    problems.push(format!(
                        "version {} was applied from another script: its checksum changed since",
                        row.version
                    ))
                }
                (Status::Failed, _) => problems.push(format!(
                    "version {} failed: {}",
                    row.version,
                    row.error.as_deref().unwrap_or("no error recorded")
                )),
                (Status::Running, _) => problems.push(format!(
                    "version {} (`-- no-transaction`) was interrupted; the next run completes it",
                    row.version
                )),
                _ => {}
            }
        }
        TargetStatus {
            target: target.to_owned(),
            version: applied.iter().max().copied(),
            applied,
            pending,
            problems,
        }
    }
}
