//! What the next borrower of a pooled connection finds: everything raw SQL
//! of an earlier transaction could have left on the session, read from
//! inside the next tenant transaction.

use sqlx::{AssertSqlSafe, PgConnection};
use tenancy_sqlx::{Error, TenantPool};

use crate::TestResult;
use crate::shop::tenant;

/// The custom setting tests set at session level to see whether it survives.
pub const PROBE_SETTING: &str = "app.probe";

/// A session as a tenant transaction finds it. Two fresh connections of a
/// pool find the same state, apart from the tenant; so must every later
/// borrower, whatever the transactions before it did.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionState {
    /// The role the statements run as (`SET ROLE` changes it).
    pub current_user: String,
    /// The session's role (`SET SESSION AUTHORIZATION` changes it).
    pub session_user: String,
    /// Where unqualified names resolve.
    pub search_path: String,
    /// `on`, or `off` (then a query a policy would filter fails).
    pub row_security: String,
    /// Whether this transaction is read-only (it is when the session's
    /// default was set to read-only).
    pub read_only: String,
    /// A setting raw SQL could change for the session.
    pub statement_timeout: String,
    /// [`PROBE_SETTING`], which nothing sets but tests.
    pub probe_setting: Option<String>,
    /// The tenant, as the policies read it: the transaction's own.
    pub tenant: Option<String>,
    /// `LISTEN` channels.
    pub listening: i64,
    /// Statements prepared with SQL `PREPARE`.
    pub prepared: i64,
    /// Open cursors, held ones included.
    pub cursors: i64,
    /// Tables, views, sequences and functions in the session's temporary
    /// schema.
    pub temporary_objects: i64,
    /// Advisory locks the session holds.
    pub advisory_locks: i64,
}

/// Reads the session state on `connection` (inside a tenant transaction).
pub async fn session_state(connection: &mut PgConnection) -> Result<SessionState, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT current_user::text AS current_user, session_user::text AS session_user,
                current_setting('search_path') AS search_path,
                current_setting('row_security') AS row_security,
                current_setting('transaction_read_only') AS read_only,
                current_setting('statement_timeout') AS statement_timeout,
                NULLIF(current_setting('{PROBE_SETTING}', true), '') AS probe_setting,
                NULLIF(current_setting('app.tenant_id', true), '') AS tenant,
                (SELECT count(*) FROM pg_listening_channels()) AS listening,
                (SELECT count(*) FROM pg_prepared_statements WHERE from_sql) AS prepared,
                (SELECT count(*) FROM pg_cursors) AS cursors,
                (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema())
                    + (SELECT count(*) FROM pg_proc WHERE pronamespace = pg_my_temp_schema())
                    AS temporary_objects,
                (SELECT count(*) FROM pg_locks
                 WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks"
    )))
    .fetch_one(connection)
    .await
}

/// The backend's process id.
pub async fn backend_pid(connection: &mut PgConnection) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(connection)
        .await
}

/// The next tenant transaction on `pool`, for tenant `key`: the backend it
/// got and the session state it found. The transaction is rolled back.
pub async fn next_borrower(pool: &TenantPool, key: i64) -> TestResult<(i32, SessionState)> {
    let mut tx = pool.begin(&tenant(key)).await?;
    let pid = backend_pid(tx.raw_connection()).await?;
    let state = session_state(tx.raw_connection()).await?;
    tx.rollback().await?;
    Ok((pid, state))
}

/// The tenant setting a session of `pool` holds *outside* any transaction,
/// where a tenant transaction's `SET LOCAL` cannot hide it: a transaction for
/// `key` is ended by raw SQL's `COMMIT`, the setting read, and the
/// transaction's `commit` must then report the raw `COMMIT` (which costs the
/// connection: it is closed).
pub async fn tenant_outside_transactions(
    pool: &TenantPool,
    key: i64,
) -> TestResult<Option<String>> {
    let mut tx = pool.begin(&tenant(key)).await?;
    sqlx::raw_sql("COMMIT").execute(tx.raw_connection()).await?;
    let setting: Option<String> =
        sqlx::query_scalar("SELECT NULLIF(current_setting('app.tenant_id', true), '')")
            .fetch_one(tx.raw_connection())
            .await?;
    match tx.commit().await {
        Err(Error::TransactionEndedByRawSql { .. }) => Ok(setting),
        other => Err(format!("a raw COMMIT went unreported: {other:?}").into()),
    }
}
