//! The server's view of a pool: its backends, found by `application_name`,
//! as the superuser sees them in `pg_stat_activity`.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tenancy_sqlx::{Postgres, TenantPool, TenantPoolOptions};

use crate::TestResult;

/// How long the waits below give the server and the pool to settle: far
/// more than they need, so that a loaded machine does not fail a test.
pub const SETTLE: Duration = Duration::from_secs(10);

/// What the server says one backend is doing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Backend {
    /// The backend's process.
    pub pid: i32,
    /// `idle`, `active`, `idle in transaction`, …
    pub state: String,
    /// The whole text of the last query message the backend received.
    pub query: String,
}

/// The backends whose `application_name` is `application_name`, by pid.
pub async fn backends(admin: &PgPool, application_name: &str) -> Result<Vec<Backend>, sqlx::Error> {
    sqlx::query_as(
        "SELECT pid, coalesce(state, '') AS state, coalesce(query, '') AS query
         FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid",
    )
    .bind(application_name)
    .fetch_all(admin)
    .await
}

/// Waits until `done` holds for the backends of `application_name`, and
/// returns them; fails after [`SETTLE`] with `what` and what it last saw.
pub async fn wait_for(
    admin: &PgPool,
    application_name: &str,
    what: &str,
    done: impl Fn(&[Backend]) -> bool,
) -> TestResult<Vec<Backend>> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let seen = backends(admin, application_name).await?;
        if done(&seen) {
            return Ok(seen);
        }
        if Instant::now() > deadline {
            return Err(format!("{what}: never happened; the server last showed {seen:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until no backend of `application_name` is inside a transaction,
/// open or aborted. Connections go back to the pool (and a dropped
/// transaction's queued `ROLLBACK` is sent) in a spawned task, so the check
/// has to wait for it; a leaked transaction fails it.
pub async fn assert_no_open_transaction(
    admin: &PgPool,
    application_name: &str,
) -> TestResult<Vec<Backend>> {
    wait_for(
        admin,
        application_name,
        "every pooled connection outside a transaction",
        |seen| {
            seen.iter()
                .all(|backend| !backend.state.contains("transaction"))
        },
    )
    .await
}

/// Connection options for `url` with an `application_name` that lets the
/// admin find the pool's backends.
pub fn named(url: &str, application_name: &str) -> TestResult<PgConnectOptions> {
    Ok(url
        .parse::<PgConnectOptions>()?
        .application_name(application_name))
}

/// A tenant pool of exactly one connection at `url`, named for the server,
/// that does not ping a connection before handing it out (so that every
/// poll of a `begin` does what the test expects), waiting long for it.
pub async fn single_connection_pool(
    url: &str,
    application_name: &str,
    options: TenantPoolOptions,
) -> TestResult<TenantPool> {
    let pool = TenantPool::<Postgres>::connect_with(
        single_connection(),
        named(url, application_name)?,
        options,
    )
    .await?;
    Ok(pool)
}

/// Pool options of exactly one connection, without sqlx's ping on acquire.
pub fn single_connection() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
}
