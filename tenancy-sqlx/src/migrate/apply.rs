//! One migration on one target: in its own transaction with the ledger row
//! written inside it, or statement by statement for `-- no-transaction`;
//! lock timeouts and deadlocks retried with backoff.

use crate::ident::quote_catalog_name as quote;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::migrate::Migration;
use sqlx::postgres::PgDatabaseError;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use tenancy_core::Dialect;

use super::ledger::{Attempt, Ledger, MARKER_SETTING};
use super::monitor::Activity;
use super::split;
use super::{Event, Failure, FailureKind, RunnerOptions, Step, Target};
use crate::search_path;

/// SQLSTATEs after which the same migration may well succeed if tried
/// again: `lock_not_available` (from `lock_timeout`), `deadlock_detected`,
/// `serialization_failure`.
const RETRYABLE: [&str; 3] = ["55P03", "40P01", "40001"];

/// Which way a migration goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Up,
    Down,
}

/// What applying one migration came to.
pub(crate) enum Applied {
    /// Applied (or reverted) now.
    Done(Step),
    /// Another runner applied it first: nothing was done.
    AlreadyDone,
}

/// Everything one migration needs besides its connection.
pub(crate) struct Apply<'a> {
    pub(crate) options: &'a RunnerOptions,
    pub(crate) ledger: &'a Ledger,
    pub(crate) activity: &'a Activity,
    pub(crate) target: &'a Target,
    /// The backend pid of the connection, if the lock monitor watches its
    /// server.
    pub(crate) pid: Option<i32>,
    pub(crate) reason: &'a str,
}

/// Why an attempt did not apply the migration.
enum AttemptError {
    /// The server refused a statement.
    Database {
        code: Option<String>,
        message: String,
    },
    /// The migration's SQL ended the runner's transaction.
    TransactionEnded,
    /// The connection failed: the caller reconnects.
    Connection(sqlx::Error),
}

impl AttemptError {
    fn retryable(&self) -> bool {
        matches!(self, AttemptError::Database { code: Some(code), .. } if RETRYABLE.contains(&code.as_str()))
    }

    fn message(&self) -> String {
        match self {
            AttemptError::Database { message, .. } => message.clone(),
            AttemptError::TransactionEnded => {
                "its SQL ended the migration's transaction (a COMMIT or \
                 ROLLBACK in the script): it was not applied atomically, and part of it may be \
                 committed; remove the transaction control, or mark the file `-- no-transaction`"
                    .to_owned()
            }
            AttemptError::Connection(error) => format!("the connection failed: {error}"),
        }
    }
}

impl From<sqlx::Error> for AttemptError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::Database(database) => {
                let code = database.code().map(|code| code.into_owned());
                let mut message = match &code {
                    Some(code) => format!("SQLSTATE {code}: {}", database.message()),
                    None => database.message().to_owned(),
                };
                if let Some(pg) = database.try_downcast_ref::<PgDatabaseError>() {
                    if let Some(detail) = pg.detail() {
                        message.push_str(&format!(" (detail: {detail})"));
                    }
                    if let Some(hint) = pg.hint() {
                        message.push_str(&format!(" (hint: {hint})"));
                    }
                }
                AttemptError::Database { code, message }
            }
            other => AttemptError::Connection(other),
        }
    }
}

/// The outcome of [`Apply::run`]: the failure, and whether the connection
/// can still be used.
pub(crate) struct Failed {
    pub(crate) failure: Failure,
    pub(crate) connection_lost: bool,
}

impl Apply<'_> {
    /// Applies (or reverts) `migration`, retrying lock timeouts and
    /// deadlocks by the retry policy.
    pub(crate) async fn run(
        &self,
        connection: &mut PgConnection,
        migration: &Migration,
        direction: Direction,
    ) -> Result<Applied, Failed> {
        let label = self.target.label();
        let retry = self.options.retry;
        let mut attempt = 1_u32;
        let started = Instant::now();
        loop {
            if let Some(pid) = self.pid {
                self.activity.start(pid, label, migration.version, attempt);
            }
            let attempt_started = Instant::now();
            let outcome = if migration.no_tx {
                self.without_transaction(connection, migration, direction, attempt)
                    .await
            } else {
                self.in_transaction(connection, migration, direction, attempt)
                    .await
            };
            if let Some(pid) = self.pid {
                self.activity.finish(pid);
            }
            let error = match outcome {
                Ok(done) => {
                    let duration = attempt_started.elapsed();
                    tracing::info!(
                        target: "tenancy::cross_tenant",
                        reason = %self.reason,
                        target_name = %label,
                        version = migration.version,
                        direction = ?direction,
                        ?duration,
                        "migration"
                    );
                    return Ok(match done {
                        true => Applied::Done(Step {
                            version: migration.version,
                            description: migration.description.to_string(),
                            duration,
                            attempts: attempt,
                        }),
                        false => Applied::AlreadyDone,
                    });
                }
                Err(error) => error,
            };
            let connection_lost = matches!(error, AttemptError::Connection(_));
            if error.retryable() && attempt < retry.attempts {
                let wait = retry.backoff(attempt, label);
                self.options.emit(Event::Retrying {
                    target: label.to_owned(),
                    version: migration.version,
                    attempt,
                    wait,
                    reason: self.explain(&error, migration.version, attempt),
                });
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            let kind = match &error {
                _ if error.retryable() => FailureKind::LockTimeout,
                AttemptError::TransactionEnded => FailureKind::TransactionEnded,
                AttemptError::Connection(_) => FailureKind::Target,
                AttemptError::Database { .. } => FailureKind::Migration,
            };
            let mut message = self.explain(&error, migration.version, attempt);
            if attempt > 1 {
                message.push_str(&format!(" (after {attempt} attempts)"));
            }
            if !connection_lost && direction == Direction::Up {
                let record = self
                    .ledger
                    .record_failure(
                        connection,
                        &self.attempt_of(migration),
                        started.elapsed(),
                        i32::try_from(attempt).unwrap_or(i32::MAX),
                        &message,
                    )
                    .await;
                if let Err(error) = record {
                    message.push_str(&format!(" (and the ledger could not record it: {error})"));
                }
            }
            return Err(Failed {
                failure: Failure {
                    version: Some(migration.version),
                    kind,
                    message,
                },
                connection_lost,
            });
        }
    }

    /// The error's message, with the lock wait behind a lock timeout.
    fn explain(&self, error: &AttemptError, version: i64, attempt: u32) -> String {
        let mut message = error.message();
        if error.retryable()
            && let Some(wait) = self
                .activity
                .last_wait(self.target.label(), version, attempt)
        {
            message.push_str(&format!(
                "; it waited for {} on {}",
                wait.mode,
                wait.relation.as_deref().unwrap_or(&wait.lock_type)
            ));
            if !wait.blocked_by.is_empty() {
                message.push_str(&format!(", held by {}", wait.blocked_by.join("; ")));
            }
        }
        message
    }

    fn attempt_of<'m>(&'m self, migration: &'m Migration) -> Attempt<'m> {
        Attempt {
            target: self.target.label(),
            version: migration.version,
            description: &migration.description,
            checksum: &migration.checksum,
        }
    }

    /// `SET` clauses for the migration's session or transaction: the lock
    /// and statement timeouts and the target's schema (see
    /// `search_path`).
    fn settings(&self, scope: &str) -> String {
        let mut settings = format!(
            "SET {scope}lock_timeout = '{}ms'",
            self.options.lock_timeout.as_millis().max(1)
        );
        if let Some(timeout) = self.options.statement_timeout {
            settings.push_str(&format!(
                "; SET {scope}statement_timeout = '{}ms'",
                timeout.as_millis().max(1)
            ));
        }
        // Migration files name tables declared without a schema bare: they
        // go to the target's schema and nowhere else, `public` for a
        // database that names none.
        let schema = self
            .target
            .schema_name()
            .unwrap_or(Dialect::Postgres.default_schema());
        settings.push_str(&format!("; SET {scope}{}", search_path::only(schema)));
        settings
    }

    /// One attempt in a transaction: `BEGIN` with the settings and a
    /// marker, the script, the ledger row (written only if the marker is
    /// still set, that is if the script did not end the transaction), then
    /// `COMMIT`. `Ok(false)`: another runner had applied it already.
    async fn in_transaction(
        &self,
        connection: &mut PgConnection,
        migration: &Migration,
        direction: Direction,
        attempt: u32,
    ) -> Result<bool, AttemptError> {
        let marker = next_marker();
        let begin = format!(
            "BEGIN; {}; SET LOCAL {MARKER_SETTING} = '{marker}'",
            self.settings("LOCAL ")
        );
        let mut tx = connection.begin_with(AssertSqlSafe(begin)).await?;
        let outcome = self
            .script_and_ledger(&mut tx, migration, direction, attempt, &marker)
            .await;
        match outcome {
            Ok(true) => {
                tx.commit().await?;
                Ok(true)
            }
            Ok(false) => {
                let ours: Option<String> =
                    sqlx::query_scalar("SELECT pg_catalog.current_setting($1, true)")
                        .bind(MARKER_SETTING)
                        .fetch_one(&mut *tx)
                        .await?;
                tx.rollback().await?;
                if ours.as_deref() == Some(marker.as_str()) {
                    Ok(false)
                } else {
                    Err(AttemptError::TransactionEnded)
                }
            }
            Err(error) => {
                // A failed rollback means the connection is gone.
                tx.rollback().await.map_err(AttemptError::Connection)?;
                Err(error)
            }
        }
    }

    async fn script_and_ledger(
        &self,
        tx: &mut PgConnection,
        migration: &Migration,
        direction: Direction,
        attempt: u32,
        marker: &str,
    ) -> Result<bool, AttemptError> {
        tx.execute(migration.sql.clone()).await?;
        let recorded: Option<i32> = match direction {
            Direction::Up => {
                sqlx::query_scalar(AssertSqlSafe(self.ledger.record_applied_sql()))
                    .bind(self.target.label())
                    .bind(migration.version)
                    .bind(&*migration.description)
                    .bind(&*migration.checksum)
                    .bind(i32::try_from(attempt).unwrap_or(i32::MAX))
                    .bind(marker)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            Direction::Down => {
                sqlx::query_scalar(AssertSqlSafe(self.ledger.record_reverted_sql()))
                    .bind(self.target.label())
                    .bind(migration.version)
                    .bind(marker)
                    .fetch_optional(&mut *tx)
                    .await?
            }
        };
        Ok(recorded.is_some())
    }

    /// One attempt without a transaction: the ledger row says `running`
    /// first, the statements run one by one, the row says `applied` last.
    /// A concurrent index build that finished before an interruption is
    /// skipped, and one that left an invalid index has it dropped first.
    async fn without_transaction(
        &self,
        connection: &mut PgConnection,
        migration: &Migration,
        direction: Direction,
        _attempt: u32,
    ) -> Result<bool, AttemptError> {
        if direction == Direction::Up
            && !self
                .ledger
                .record_running(connection, &self.attempt_of(migration))
                .await
                .map_err(library_error)?
        {
            return Ok(false);
        }
        connection.execute(AssertSqlSafe(self.settings(""))).await?;
        let outcome = self.statements(connection, migration).await;
        // Session settings go back to the defaults, whatever happened.
        let reset = connection
            .execute("RESET lock_timeout; RESET statement_timeout; RESET search_path")
            .await;
        outcome?;
        reset?;
        match direction {
            Direction::Up => self
                .ledger
                .record_finished(connection, self.target.label(), migration.version)
                .await
                .map_err(library_error)?,
            Direction::Down => self
                .ledger
                .record_reverted(connection, self.target.label(), migration.version)
                .await
                .map_err(library_error)?,
        }
        Ok(true)
    }

    async fn statements(
        &self,
        connection: &mut PgConnection,
        migration: &Migration,
    ) -> Result<(), AttemptError> {
        for statement in split::statements(migration.sql.as_str()) {
            if let Some((schema, name)) = split::concurrent_index(statement) {
                let schema =
                    schema.or_else(|| self.target.schema_name().map(|s| s.as_str().to_owned()));
                let index = match &schema {
                    Some(schema) => format!("{}.{}", quote(schema), quote(&name)),
                    None => quote(&name),
                };
                let valid: Option<bool> = sqlx::query_scalar(
                    "SELECT indisvalid FROM pg_catalog.pg_index WHERE indexrelid = pg_catalog.to_regclass($1)",
                )
                .bind(&index)
                .fetch_optional(&mut *connection)
                .await?;
                match valid {
                    // Built before an interruption: done.
                    Some(true) => continue,
                    // Left invalid by an interrupted or timed-out build.
                    Some(false) => {
                        connection
                            .execute(AssertSqlSafe(format!(
                                "DROP INDEX CONCURRENTLY IF EXISTS {index}"
                            )))
                            .await?;
                    }
                    None => {}
                }
            }
            connection
                .execute(AssertSqlSafe(statement.to_owned()))
                .await?;
        }
        Ok(())
    }
}

/// A library error from a ledger write, as an attempt error.
fn library_error(error: crate::Error) -> AttemptError {
    match error {
        crate::Error::Database(error) => error.into(),
        other => AttemptError::Database {
            code: None,
            message: other.to_string(),
        },
    }
}

/// A value no other transaction of this process or another has: the
/// process id and a counter.
fn next_marker() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The pause between polls of a target another runner holds.
pub(crate) fn busy_wait(polls: u32) -> Duration {
    Duration::from_millis(50_u64.saturating_mul(1 << polls.min(4)))
}
