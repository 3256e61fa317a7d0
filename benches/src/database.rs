//! The PostgreSQL the benchmarks run against, started the way the tests
//! start it ([`tenancy_sqlx::testing`]): a throwaway cluster on 127.0.0.1,
//! or the server named by `TENANCY_TEST_DATABASE_URL`. Every contender of a
//! benchmark connects to the same cluster over TCP, with the same pool size.

use sea_query_sqlx::SqlxValues;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use tenancy_sqlx::Identifier;
use tenancy_sqlx::testing::{OWNER_ROLE, RoleAttribute, TestDatabase, TestRole};

use crate::error::{BenchError, Step};

/// Connections in every contender's pool. The benchmarks run one client,
/// so one connection is busy at a time; the others are what a pool of
/// released connections looks like.
pub const POOL_SIZE: u32 = 4;

/// A fresh database on the benchmark cluster.
#[derive(Debug)]
pub struct BenchDatabase {
    database: TestDatabase,
}

impl BenchDatabase {
    /// Creates the database, starting the cluster if this is the first one
    /// of the process.
    pub async fn create() -> Result<Self, BenchError> {
        let database = TestDatabase::create()
            .await
            .step("start PostgreSQL and create a database")?;
        Ok(BenchDatabase { database })
    }

    /// The test database, for its URLs and roles.
    pub fn test_database(&self) -> &TestDatabase {
        &self.database
    }

    /// A small pool as the role that owns the tables, for set-up.
    pub async fn owner_pool(&self) -> Result<PgPool, BenchError> {
        self.database
            .owner_pool()
            .await
            .step("connect as the owner role")
    }

    /// Writes every dirty page out now (`CHECKPOINT`, as the superuser), so
    /// that a checkpoint triggered by a large load does not run during the
    /// measurement.
    pub async fn checkpoint(&self) -> Result<(), BenchError> {
        let admin = self
            .database
            .admin_pool()
            .await
            .step("connect as the superuser")?;
        let done = execute(&admin, "CHECKPOINT").await;
        admin.close().await;
        done
    }

    /// A database copied from this one with `CREATE DATABASE .. TEMPLATE`
    /// (which copies files, where loading rows again would run SQL), owned
    /// by the same role and named `<this database>_<suffix>`; returns how to
    /// reach it as the owner and as the superuser. Nothing may be connected
    /// to this database while it is copied.
    pub async fn copy(
        &self,
        suffix: &str,
    ) -> Result<(PgConnectOptions, PgConnectOptions), BenchError> {
        let test = &self.database;
        let name = format!("{}_{suffix}", test.name());
        let admin: PgConnectOptions = test.admin_url().parse().step("parse the superuser's URL")?;
        let mut server = PgConnection::connect_with(&admin.clone().database("postgres"))
            .await
            .step("connect as the superuser")?;
        execute(
            &mut server,
            &format!(
                "CREATE DATABASE {} TEMPLATE {} OWNER {OWNER_ROLE}",
                quoted("database", &name)?,
                quoted("database", test.name())?
            ),
        )
        .await?;
        let _ = server.close().await;
        let owner: PgConnectOptions = test.owner_url().parse().step("parse the owner's URL")?;
        Ok((owner.database(&name), admin.database(&name)))
    }

    /// Drops a copy made by [`copy`](Self::copy), closing its sessions.
    pub async fn drop_copy(&self, suffix: &str) -> Result<(), BenchError> {
        let name = format!("{}_{suffix}", self.database.name());
        let admin: PgConnectOptions = self
            .database
            .admin_url()
            .parse()
            .step("parse the superuser's URL")?;
        let mut server = PgConnection::connect_with(&admin.database("postgres"))
            .await
            .step("connect as the superuser")?;
        execute(
            &mut server,
            &format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quoted("database", &name)?
            ),
        )
        .await?;
        let _ = server.close().await;
        Ok(())
    }

    /// `SELECT version()`.
    pub async fn server_version(&self) -> Result<String, BenchError> {
        let pool = self.owner_pool().await?;
        let version = sqlx::query_scalar("SELECT version()")
            .fetch_one(&pool)
            .await
            .step("read the server version");
        pool.close().await;
        version
    }

    /// A login role for one kind of contender (`BYPASSRLS`, or one a
    /// particular policy applies to), allowed to read `tables`.
    pub async fn reader_role(
        &self,
        name: &str,
        attributes: &[RoleAttribute],
        tables: &[&str],
    ) -> Result<TestRole, BenchError> {
        let role = self
            .database
            .create_role(name, attributes)
            .await
            .step(format!("create role `{name}`"))?;
        let owner = self.owner_pool().await?;
        for table in tables {
            let grant = format!(
                "GRANT SELECT ON {} TO {}",
                quoted("table", table)?,
                quoted("role", role.name())?
            );
            execute(&owner, &grant).await?;
        }
        owner.close().await;
        Ok(role)
    }
}

/// Pool options every contender of a benchmark uses: the same size, kept
/// warm, so that no sample pays for a new connection.
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .min_connections(POOL_SIZE)
}

/// Parses a connection URL.
pub fn connect_options(url: &str) -> Result<PgConnectOptions, BenchError> {
    url.parse().step("parse a database URL")
}

/// One connection, outside any pool.
pub async fn connect(url: &str) -> Result<PgConnection, BenchError> {
    PgConnection::connect(url)
        .await
        .step("connect to the benchmark database")
}

/// Runs SQL text (one or more statements, no parameters).
pub async fn execute<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Postgres>,
    sql: &str,
) -> Result<(), BenchError> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(executor)
        .await
        .map(drop)
        .step(format!("run `{}`", abbreviate(sql)))
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of SQL text, with its values bound as the
/// benchmark binds them.
pub async fn explain_analyze(
    connection: &mut PgConnection,
    sql: &str,
    values: &sea_query::Values,
) -> Result<String, BenchError> {
    let explain = format!("EXPLAIN (ANALYZE, BUFFERS) {sql}");
    let lines: Vec<String> =
        sqlx::query_scalar_with(AssertSqlSafe(explain), SqlxValues(values.clone()))
            .fetch_all(connection)
            .await
            .step(format!("explain `{}`", abbreviate(sql)))?;
    Ok(lines.join("\n"))
}

/// A validated, double-quoted identifier.
pub fn quoted(kind: &'static str, name: &str) -> Result<String, BenchError> {
    Identifier::new(kind, name)
        .map(|identifier| identifier.quoted())
        .step(format!("quote {kind} name `{name}`"))
}

/// The start of long SQL, for error messages.
fn abbreviate(sql: &str) -> String {
    const LIMIT: usize = 120;
    match sql.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{}…", &sql[..end]),
        None => sql.to_owned(),
    }
}
