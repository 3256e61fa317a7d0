//! The ledger, `migration_log`: one row per target and version, saying
//! whether that migration is applied there, with its checksum, timing and
//! last error.
//!
//! For a transactional migration the row is written by the migration's own
//! transaction, so a migration is applied exactly when its row says so,
//! whatever happens to the process. The ledger lives in a schema of its own
//! (`tenancy` by default) in the runner's database for schema targets, and
//! in each database for database targets.

use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::Error;
use crate::drift::table_oid;
use crate::ident::Identifier;

/// The ledger table's name in its schema.
pub const LEDGER_TABLE: &str = "migration_log";

/// Serialises the creation of the ledger between runners ("tenancy!" in
/// ASCII); per-target locks use [`TARGET_LOCK_CLASS`].
const LEDGER_SETUP_LOCK: i64 = 0x7465_6e61_6e63_7921;

/// The first key of the two-key advisory lock each runner holds on a
/// target while it migrates it ("tmig"); the second is the target's hash.
pub(crate) const TARGET_LOCK_CLASS: i32 = 0x746d_6967;

/// A migration's state on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Applied: its effects and this row were committed together.
    Applied,
    /// Its last attempt failed; nothing of it is applied (transactional),
    /// or an unknown part of it (`-- no-transaction`).
    Failed,
    /// A `-- no-transaction` migration was started and did not finish: the
    /// process died or lost its connection while it ran.
    Running,
    /// Applied, then reverted by its down script.
    Reverted,
}

impl Status {
    /// The text stored in the ledger.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Failed => "failed",
            Status::Running => "running",
            Status::Reverted => "reverted",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "applied" => Status::Applied,
            "failed" => Status::Failed,
            "running" => Status::Running,
            "reverted" => Status::Reverted,
            _ => return None,
        })
    }
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The version.
    pub version: i64,
    /// Its state.
    pub status: Status,
    /// sqlx's checksum of the script that was applied (or attempted).
    pub checksum: Vec<u8>,
    /// How many times it was attempted, retries included.
    pub attempts: i32,
    /// The last error, if its last attempt failed.
    pub error: Option<String>,
    /// How long its last attempt took.
    pub duration: Option<Duration>,
}

/// The ledger of one database, in `schema`.
#[derive(Debug, Clone)]
pub(crate) struct Ledger {
    /// `"<schema>"."migration_log"`.
    table: String,
    schema: Identifier,
}

impl Ledger {
    pub(crate) fn new(schema: &Identifier) -> Self {
        Ledger {
            table: format!("{}.\"{LEDGER_TABLE}\"", schema.quoted()),
            schema: schema.clone(),
        }
    }

    /// The qualified table name.
    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    /// Creates the schema and table unless they exist. Only a runner
    /// allowed to create schemas needs to get this far: when the table
    /// exists, nothing is created.
    pub(crate) async fn ensure(&self, connection: &mut PgConnection) -> Result<(), Error> {
        if self.exists(connection).await? {
            return Ok(());
        }
        let mut tx = connection.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LEDGER_SETUP_LOCK)
            .execute(&mut *tx)
            .await?;
        let ddl = format!(
            "CREATE SCHEMA IF NOT EXISTS {schema};
             CREATE TABLE IF NOT EXISTS {table} (
                 target text NOT NULL,
                 version bigint NOT NULL,
                 description text NOT NULL,
                 checksum bytea NOT NULL,
                 status text NOT NULL CHECK (status IN ('applied', 'failed', 'running', 'reverted')),
                 started_at timestamptz NOT NULL,
                 finished_at timestamptz,
                 duration_ms bigint,
                 attempts integer NOT NULL DEFAULT 1,
                 error text,
                 PRIMARY KEY (target, version)
             );
             COMMENT ON TABLE {table} IS 'tenancy: which migration is applied to which target'",
            schema = self.schema.quoted(),
            table = self.table
        );
        sqlx::raw_sql(AssertSqlSafe(ddl)).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn exists(&self, connection: &mut PgConnection) -> Result<bool, Error> {
        Ok(table_oid(connection, &self.table).await?.is_some())
    }

    /// Every row of `target`, by version.
    pub(crate) async fn rows(
        &self,
        connection: &mut PgConnection,
        target: &str,
    ) -> Result<Vec<Row>, Error> {
        let mut rows = self.rows_of(connection, &[target.to_owned()]).await?;
        Ok(rows.remove(target).unwrap_or_default())
    }

    /// Every row of every target in `targets`, grouped by target.
    pub(crate) async fn rows_of(
        &self,
        connection: &mut PgConnection,
        targets: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<Row>>, Error> {
        let raw: Vec<RawRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT target, version, status, checksum, attempts, error, duration_ms
             FROM {} WHERE target = ANY ($1) ORDER BY target, version",
            self.table
        )))
        .bind(targets)
        .fetch_all(&mut *connection)
        .await?;
        let mut grouped: std::collections::HashMap<String, Vec<Row>> =
            std::collections::HashMap::new();
        for raw in raw {
            let target = raw.target.clone();
            if let Some(row) = raw.into_row() {
                grouped.entry(target).or_default().push(row);
            }
        }
        Ok(grouped)
    }

    /// The statement that records a transactional migration as applied,
    /// inside its transaction: it inserts nothing (and returns no row)
    /// unless the transaction is still the runner's own — `marker` is the
    /// value the runner set with `SET LOCAL`, which a `COMMIT` in the
    /// script would have ended — and the version is not applied already.
    pub(crate) fn record_applied_sql(&self) -> String {
        format!(
            "INSERT INTO {table} AS l (target, version, description, checksum, status, started_at,
                                       finished_at, duration_ms, attempts, error)
             SELECT $1, $2, $3, $4, 'applied', now(), clock_timestamp(),
                    (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint, $5, NULL
             WHERE pg_catalog.current_setting('{MARKER_SETTING}', true) = $6
             ON CONFLICT (target, version) DO UPDATE
                SET description = EXCLUDED.description, checksum = EXCLUDED.checksum,
                    status = 'applied', started_at = EXCLUDED.started_at,
                    finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms,
                    attempts = l.attempts + EXCLUDED.attempts, error = NULL
                WHERE l.status <> 'applied'
             RETURNING 1",
            table = self.table
        )
    }

    /// Records a failed attempt (outside the failed transaction) that took
    /// `elapsed`.
    pub(crate) async fn record_failure(
        &self,
        connection: &mut PgConnection,
        attempt: &Attempt<'_>,
        elapsed: Duration,
        attempts: i32,
        error: &str,
    ) -> Result<(), Error> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} AS l (target, version, description, checksum, status, started_at,
                                       finished_at, duration_ms, attempts, error)
             VALUES ($1, $2, $3, $4, 'failed', clock_timestamp() - make_interval(secs => $5 / 1000.0),
                     clock_timestamp(), $5, $6, $7)
             ON CONFLICT (target, version) DO UPDATE
                SET description = EXCLUDED.description, checksum = EXCLUDED.checksum,
                    status = 'failed', started_at = EXCLUDED.started_at,
                    finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms,
                    attempts = l.attempts + EXCLUDED.attempts, error = EXCLUDED.error
                WHERE l.status <> 'applied'",
            table = self.table
        )))
        .bind(attempt.target)
        .bind(attempt.version)
        .bind(attempt.description)
        .bind(attempt.checksum)
        .bind(i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .bind(attempts)
        .bind(error)
        .execute(&mut *connection)
        .await?;
        Ok(())
    }

    /// Marks a `-- no-transaction` migration as running, before it starts;
    /// `false` if it is applied already.
    pub(crate) async fn record_running(
        &self,
        connection: &mut PgConnection,
        attempt: &Attempt<'_>,
    ) -> Result<bool, Error> {
        let started: Option<i32> = sqlx::query_scalar(AssertSqlSafe(format!(
            "INSERT INTO {table} AS l (target, version, description, checksum, status, started_at, attempts)
             VALUES ($1, $2, $3, $4, 'running', clock_timestamp(), 1)
             ON CONFLICT (target, version) DO UPDATE
                SET description = EXCLUDED.description, checksum = EXCLUDED.checksum,
                    status = 'running', started_at = EXCLUDED.started_at, finished_at = NULL,
                    duration_ms = NULL, attempts = l.attempts + 1, error = NULL
                WHERE l.status <> 'applied'
             RETURNING 1",
            table = self.table
        )))
        .bind(attempt.target)
        .bind(attempt.version)
        .bind(attempt.description)
        .bind(attempt.checksum)
        .fetch_optional(&mut *connection)
        .await?;
        Ok(started.is_some())
    }

    /// Marks a running `-- no-transaction` migration as applied.
    pub(crate) async fn record_finished(
        &self,
        connection: &mut PgConnection,
        target: &str,
        version: i64,
    ) -> Result<(), Error> {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {} SET status = 'applied', finished_at = clock_timestamp(),
                    duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::bigint,
                    error = NULL
             WHERE target = $1 AND version = $2 AND status = 'running'",
            self.table
        )))
        .bind(target)
        .bind(version)
        .execute(&mut *connection)
        .await?;
        Ok(())
    }

    /// The statement that marks a version reverted, inside the transaction
    /// of its down script (same marker rule as [`Self::record_applied_sql`]).
    pub(crate) fn record_reverted_sql(&self) -> String {
        format!(
            "UPDATE {} SET status = 'reverted', started_at = now(), finished_at = clock_timestamp(),
                    duration_ms = (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint,
                    error = NULL
             WHERE target = $1 AND version = $2 AND status = 'applied'
               AND pg_catalog.current_setting('{MARKER_SETTING}', true) = $3
             RETURNING 1",
            self.table
        )
    }

    /// Marks a version reverted by a `-- no-transaction` down script.
    pub(crate) async fn record_reverted(
        &self,
        connection: &mut PgConnection,
        target: &str,
        version: i64,
    ) -> Result<(), Error> {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {} SET status = 'reverted', finished_at = clock_timestamp(), error = NULL
             WHERE target = $1 AND version = $2 AND status = 'applied'",
            self.table
        )))
        .bind(target)
        .bind(version)
        .execute(&mut *connection)
        .await?;
        Ok(())
    }
}

/// The custom setting a migration's transaction carries (`SET LOCAL`), by
/// which the ledger write checks that the transaction is still the one the
/// runner began.
pub(crate) const MARKER_SETTING: &str = "tenancy.migration";

/// One attempt at a migration on a target, as the ledger records it.
pub(crate) struct Attempt<'a> {
    pub(crate) target: &'a str,
    pub(crate) version: i64,
    pub(crate) description: &'a str,
    pub(crate) checksum: &'a [u8],
}

#[derive(sqlx::FromRow)]
struct RawRow {
    target: String,
    version: i64,
    status: String,
    checksum: Vec<u8>,
    attempts: i32,
    error: Option<String>,
    duration_ms: Option<i64>,
}

impl RawRow {
    fn into_row(self) -> Option<Row> {
        Some(Row {
            version: self.version,
            status: Status::parse(&self.status)?,
            checksum: self.checksum,
            attempts: self.attempts,
            error: self.error,
            duration: self
                .duration_ms
                .and_then(|ms| u64::try_from(ms).ok())
                .map(Duration::from_millis),
        })
    }
}
