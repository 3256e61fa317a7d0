//! What the migration runner's tests share: tenant schemas, a set of
//! migrations that leave a mark per application, and the ledger as the
//! server has it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::migrate::{Migration, MigrationType};
use sqlx::{AssertSqlSafe, PgPool, SqlSafeStr};
use tenancy_sqlx::CrossTenant;
use tenancy_sqlx::migrate::{Event, Migrations, Runner, RunnerOptions, Target};
use tenancy_sqlx::testing::TestDatabase;

use crate::TestResult;

/// A reversible migration: its up and its down script.
pub fn reversible(version: i64, name: &str, up: &str, down: &str) -> [Migration; 2] {
    [
        migration(version, name, MigrationType::ReversibleUp, up),
        migration(version, name, MigrationType::ReversibleDown, down),
    ]
}

/// One migration script; `-- no-transaction` as its first line runs it
/// outside a transaction, as sqlx reads it.
pub fn migration(version: i64, name: &str, kind: MigrationType, sql: &str) -> Migration {
    Migration::new(
        version,
        name.to_owned().into(),
        kind,
        AssertSqlSafe(sql.to_owned()).into_sql_str(),
        sql.starts_with("-- no-transaction"),
    )
}

/// Three migrations, as a tenant schema would get them: a table, a new
/// column, a backfill. Each also inserts its version into `applied`,
/// which has no key: applied twice, a migration leaves two rows.
pub fn three() -> Vec<Migration> {
    let mut migrations = Vec::new();
    migrations.extend(reversible(
        1,
        "orders",
        "CREATE TABLE orders (tenant_id bigint NOT NULL, id bigint NOT NULL, status text NOT NULL, PRIMARY KEY (tenant_id, id));
         CREATE TABLE applied (version bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
         INSERT INTO orders VALUES (1, 1, 'open'), (1, 2, 'paid');
         INSERT INTO applied (version) VALUES (1);",
        "DROP TABLE orders; DROP TABLE applied;",
    ));
    migrations.extend(reversible(
        2,
        "add priority",
        "ALTER TABLE orders ADD COLUMN priority bigint;
         INSERT INTO applied (version) VALUES (2);",
        "ALTER TABLE orders DROP COLUMN priority; DELETE FROM applied WHERE version = 2;",
    ));
    migrations.extend(reversible(
        3,
        "backfill priority",
        "UPDATE orders SET priority = CASE status WHEN 'open' THEN 1 ELSE 0 END;
         INSERT INTO applied (version) VALUES (3);",
        "UPDATE orders SET priority = NULL; DELETE FROM applied WHERE version = 3;",
    ));
    migrations
}

/// Creates schemas `tenant_0001` .. `tenant_<count>`, returns them as targets.
pub async fn tenant_schemas(owner: &PgPool, count: usize) -> TestResult<Vec<Target>> {
    let names: Vec<String> = (1..=count).map(|n| format!("tenant_{n:04}")).collect();
    let ddl: String = names
        .iter()
        .map(|name| format!("CREATE SCHEMA {name};"))
        .collect();
    sqlx::raw_sql(AssertSqlSafe(ddl)).execute(owner).await?;
    Ok(names
        .iter()
        .map(|name| Target::schema(name))
        .collect::<Result<_, _>>()?)
}

/// A runner of `migrations` as the owner of `db`.
pub fn runner(db: &TestDatabase, migrations: Vec<Migration>) -> TestResult<Runner> {
    Ok(Runner::new(
        db.owner_url().parse()?,
        CrossTenant::with_reason("migration tests")?,
        Migrations::from_list(migrations)?,
    ))
}

/// Options that keep tests quick: short lock timeouts and retries.
pub fn quick() -> RunnerOptions {
    RunnerOptions::new()
        .lock_timeout(std::time::Duration::from_millis(300))
        .retry(tenancy_sqlx::migrate::RetryPolicy {
            attempts: 3,
            initial: std::time::Duration::from_millis(50),
            max: std::time::Duration::from_millis(200),
        })
        .lock_poll(std::time::Duration::from_millis(20))
}

/// Collects every event of a run.
pub fn recorder() -> (
    Arc<Mutex<Vec<Event>>>,
    impl Fn(&Event) + Send + Sync + 'static,
) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    (events, move |event: &Event| {
        sink.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event.clone())
    })
}

/// The ledger as the server has it: `(target, version) -> status`.
pub async fn ledger(pool: &PgPool) -> TestResult<HashMap<(String, i64), String>> {
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT target, version, status FROM tenancy.migration_log")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(target, version, status)| ((target, version), status))
        .collect())
}

/// How many times each version left its mark in `schema.applied`.
pub async fn marks(pool: &PgPool, schema: &str) -> TestResult<HashMap<i64, i64>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(format!("{schema}.applied"))
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT version, count(*) FROM {schema}.applied GROUP BY version"
    )))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}
