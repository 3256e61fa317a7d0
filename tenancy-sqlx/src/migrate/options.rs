//! How a fleet run is paced, bounded and stopped.

use std::sync::Arc;
use std::time::Duration;

use super::{Event, MigrateError};
use crate::ident::Identifier;

/// Receives the runner's [`Event`]s as they happen: a progress bar, log
/// lines, metrics. Called from the runner's tasks; keep it quick.
pub type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// The settings of a [`Runner`](super::Runner).
///
/// ```
/// use std::time::Duration;
/// use tenancy_sqlx::migrate::RunnerOptions;
///
/// let options = RunnerOptions::new()
///     .concurrency(8)
///     .canary(3)
///     .max_failures(5)
///     .lock_timeout(Duration::from_secs(2));
/// assert_eq!(options.connections(), 9); // 8 workers and one for the runner itself
/// ```
#[derive(Clone)]
pub struct RunnerOptions {
    pub(crate) concurrency: usize,
    pub(crate) canary: usize,
    pub(crate) max_failures: usize,
    pub(crate) lock_timeout: Duration,
    pub(crate) statement_timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    /// `None`: [`DEFAULT_LEDGER_SCHEMA`].
    pub(crate) ledger_schema: Option<Identifier>,
    pub(crate) application_name: String,
    pub(crate) lock_poll: Duration,
    pub(crate) create_schemas: bool,
    pub(crate) observer: Option<Observer>,
}

/// How a migration that hit `lock_timeout` (or a deadlock) is retried:
/// after `initial`, then twice as long each time up to `max`, each wait
/// varied by up to a half so that a fleet does not retry in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: no retry).
    pub attempts: u32,
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            initial: Duration::from_millis(200),
            max: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (`attempt` counts from 1), with
    /// a jitter that depends only on `seed` and `attempt`.
    pub(crate) fn backoff(&self, attempt: u32, seed: &str) -> Duration {
        let doubled = self.initial.saturating_mul(
            1_u32
                .checked_shl(attempt.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let base = doubled.min(self.max);
        // FNV-1a of the seed and the attempt: a factor in [0.5, 1.5).
        let hash = seed
            .bytes()
            .chain(attempt.to_le_bytes())
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            });
        let factor = 0.5 + (hash % 1000) as f64 / 1000.0;
        base.mul_f64(factor).min(self.max)
    }
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            concurrency: 20,
            canary: 5,
            max_failures: 1,
            lock_timeout: Duration::from_secs(5),
            statement_timeout: None,
            retry: RetryPolicy::default(),
            ledger_schema: None,
            application_name: "tenancy-migrate".to_owned(),
            lock_poll: Duration::from_millis(100),
            create_schemas: false,
            observer: None,
        }
    }
}

/// The schema of the ledger unless [`RunnerOptions::ledger_schema`] says
/// otherwise.
pub const DEFAULT_LEDGER_SCHEMA: &str = "tenancy";

impl core::fmt::Debug for RunnerOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RunnerOptions")
            .field("concurrency", &self.concurrency)
            .field("canary", &self.canary)
            .field("max_failures", &self.max_failures)
            .field("lock_timeout", &self.lock_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("retry", &self.retry)
            .field("ledger_schema", &self.ledger_schema)
            .field("application_name", &self.application_name)
            .field("lock_poll", &self.lock_poll)
            .field("create_schemas", &self.create_schemas)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl RunnerOptions {
    /// The defaults: 20 targets at once, a canary of 5, stop at the first
    /// failure, `lock_timeout` 5 s, 5 attempts per migration, the ledger in
    /// schema `tenancy`, application name `tenancy-migrate`.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many targets are migrated at once, each on its own connection
    /// (default 20). The runner never holds more than
    /// [`connections`](Self::connections) connections, however many
    /// targets there are.
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// How many targets, the first of the list, are migrated before all
    /// others (default 5); if any of them fails, the run stops there. 0:
    /// no canary.
    #[must_use]
    pub fn canary(mut self, canary: usize) -> Self {
        self.canary = canary;
        self
    }

    /// After how many failed targets the run starts no other target
    /// (default 1). Targets already being migrated finish the migration they
    /// are in and stop.
    #[must_use]
    pub fn max_failures(mut self, max_failures: usize) -> Self {
        self.max_failures = max_failures;
        self
    }

    /// How long a migration's statement may wait for a lock before it gives
    /// up (`SET LOCAL lock_timeout`, default 5 s); it is then retried by the
    /// [`retry`](Self::retry) policy. Keep it short: while a migration waits
    /// for its `ACCESS EXCLUSIVE` lock, every query of that table queues
    /// behind it.
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The longest a migration's statement may run (`SET LOCAL
    /// statement_timeout`); default: no limit.
    #[must_use]
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }

    /// How lock timeouts and deadlocks are retried.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The schema of the ledger table `migration_log` (default `tenancy`).
    #[must_use]
    pub fn ledger_schema(mut self, schema: Identifier) -> Self {
        self.ledger_schema = Some(schema);
        self
    }

    /// The `application_name` of the runner's connections (default
    /// `tenancy-migrate`), which `pg_stat_activity` shows.
    #[must_use]
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }

    /// How often the runner looks at `pg_locks` for its migrations' lock
    /// waits (default every 100 ms).
    #[must_use]
    pub fn lock_poll(mut self, interval: Duration) -> Self {
        self.lock_poll = interval;
        self
    }

    /// Whether a schema target that does not exist is created
    /// (`CREATE SCHEMA IF NOT EXISTS`) instead of failing (default: it
    /// fails, so that a mistyped target is not silently created).
    #[must_use]
    pub fn create_schemas(mut self, create: bool) -> Self {
        self.create_schemas = create;
        self
    }

    /// Who is told of each [`Event`].
    #[must_use]
    pub fn observer(mut self, observer: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// The most connections a run holds at once: one per concurrent target
    /// and one for the runner's own queries.
    #[must_use]
    pub fn connections(&self) -> usize {
        self.concurrency + 1
    }

    pub(crate) fn check(&self) -> Result<(), MigrateError> {
        let problem = if self.concurrency == 0 {
            Some("concurrency must be at least 1")
        } else if self.max_failures == 0 {
            Some("max_failures must be at least 1")
        } else if self.retry.attempts == 0 {
            Some("retry attempts must be at least 1 (the first attempt)")
        } else if self.lock_timeout.is_zero() {
            Some("lock_timeout 0 would wait for locks forever; give it a duration")
        } else if self.application_name.chars().any(char::is_control) {
            Some("application_name must be printable")
        } else {
            None
        };
        match problem {
            Some(reason) => Err(MigrateError::InvalidOption {
                reason: reason.to_owned(),
            }),
            None => Ok(()),
        }
    }

    /// The ledger's schema.
    pub(crate) fn ledger_schema_name(&self) -> Result<Identifier, crate::Error> {
        match &self.ledger_schema {
            Some(schema) => Ok(schema.clone()),
            None => Ok(Identifier::new("schema", DEFAULT_LEDGER_SCHEMA)?),
        }
    }

    pub(crate) fn emit(&self, event: Event) {
        if let Some(observer) = &self.observer {
            observer(&event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum_with_jitter() {
        let retry = RetryPolicy {
            attempts: 10,
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for attempt in 1..10 {
            let wait = retry.backoff(attempt, "tenant_1");
            let base = (100_u64 << (attempt - 1)).min(1000);
            assert!(wait.as_millis() as u64 >= base / 2, "{attempt}: {wait:?}");
            assert!(wait <= retry.max, "{attempt}: {wait:?}");
            assert_eq!(wait, retry.backoff(attempt, "tenant_1"));
        }
        assert_ne!(retry.backoff(1, "tenant_1"), retry.backoff(1, "tenant_2"));
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        assert!(RunnerOptions::new().check().is_ok());
        assert!(RunnerOptions::new().concurrency(0).check().is_err());
        assert!(RunnerOptions::new().max_failures(0).check().is_err());
        assert!(
            RunnerOptions::new()
                .lock_timeout(Duration::ZERO)
                .check()
                .is_err()
        );
    }
}
