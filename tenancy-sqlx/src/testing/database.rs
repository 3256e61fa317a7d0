//! One fresh database per test.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

use super::TestSupportError;
use super::roles::{self, APP_ROLE, OWNER_ROLE, RoleAttribute};
use super::server::{self, Server};
use super::sql::{self, quote_ident};

/// Connections per pool: enough for concurrency inside a test, few enough
/// that many parallel tests fit in the server's `max_connections`.
pub(super) const POOL_SIZE: u32 = 5;

/// Name prefix of every test database.
const DATABASE_PREFIX: &str = "tenancy_test";

/// How many taken names `create` skips before giving up (leftovers of
/// earlier runs on a shared server whose process had the same pid).
const NAME_ATTEMPTS: usize = 1000;

/// Run as the superuser inside each new database: the owner role owns the
/// `public` schema (as on PostgreSQL 15+, also on older servers) and nobody
/// else may create in it. No default privileges: the application role may
/// use a table only once something grants it, as in production, where the
/// grants the library generates ([`RlsPolicy::for_role`]) are all it gets —
/// so a test that passes here does not fail there for want of a grant.
///
/// [`RlsPolicy::for_role`]: crate::rls::RlsPolicy::for_role
const PREPARE_DATABASE: &str = "\
    ALTER SCHEMA public OWNER TO tenancy_owner;\
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;";

/// A brand-new database for one test, owned by [`OWNER_ROLE`], that
/// [`APP_ROLE`] may connect to.
///
/// See the [module documentation](super) for the whole set-up. Dropping the
/// value leaves the database in place (a throwaway cluster disappears with the
/// test process); on a shared server call [`drop_database`](Self::drop_database).
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    server: Server,
}

/// A role made for one test by [`TestDatabase::create_role`].
#[derive(Debug, Clone)]
pub struct TestRole {
    name: String,
    database: String,
    url: String,
}

impl TestDatabase {
    /// Creates a database with a unique name on this process's test server,
    /// starting the server first if this is the first call.
    ///
    /// # Errors
    ///
    /// [`TestSupportError`] if there is no server (its message says how to
    /// get one), the server could not be started, or a statement failed.
    pub async fn create() -> Result<Self, TestSupportError> {
        Self::create_on(Server::shared().await?, None).await
    }

    /// A database on `server`, under `name` or else a unique one (the nodes
    /// of a Citus cluster each hold a database of the same name).
    pub(crate) async fn create_on(
        server: Server,
        name: Option<&str>,
    ) -> Result<Self, TestSupportError> {
        let mut admin = server.connect_admin().await?;
        let created = match name {
            Some(name) => create_database(&mut admin, name)
                .await
                .map(|()| name.to_owned()),
            None => create_uniquely_named_database(&mut admin).await,
        };
        let name = match created {
            Ok(name) => name,
            Err(error) => {
                server::close(admin).await;
                return Err(error);
            }
        };
        let grant = format!(
            "GRANT CONNECT ON DATABASE {} TO tenancy_app",
            quote_ident(&name)
        );
        let granted = sqlx::raw_sql(sqlx::AssertSqlSafe(grant))
            .execute(&mut admin)
            .await;
        server::close(admin).await;
        granted.map_err(|error| {
            TestSupportError::database(format!("grant CONNECT on `{name}` to `{APP_ROLE}`"), error)
        })?;
        let database = Self { name, server };
        database.prepare().await?;
        Ok(database)
    }

    /// Runs `statements` as the superuser inside this database.
    pub(crate) async fn run_as_admin(&self, statements: &str) -> Result<(), TestSupportError> {
        let action = || format!("set up test database `{}`", self.name);
        let mut admin = PgConnection::connect(&self.admin_url())
            .await
            .map_err(|error| TestSupportError::database(action(), error))?;
        let ran = sqlx::raw_sql(sqlx::AssertSqlSafe(statements.to_owned()))
            .execute(&mut admin)
            .await;
        server::close(admin).await;
        ran.map(drop)
            .map_err(|error| TestSupportError::database(action(), error))
    }

    /// The port of the server that holds this database.
    #[cfg(feature = "citus")]
    pub(crate) fn port(&self) -> u16 {
        self.server.port()
    }

    /// The database's name, unique on its server.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL to this database as the server's superuser, for set-up that
    /// needs one, or to show that a superuser bypasses Row Level Security.
    pub fn admin_url(&self) -> String {
        self.server.admin_url(&self.name)
    }

    /// A URL to this database as [`OWNER_ROLE`], the role that owns the
    /// database and runs migrations.
    pub fn owner_url(&self) -> String {
        self.server.role_url(OWNER_ROLE, &self.name)
    }

    /// A URL to this database as [`APP_ROLE`], the application's role:
    /// not a superuser, no `BYPASSRLS`, not the owner of any table.
    pub fn app_url(&self) -> String {
        self.server.role_url(APP_ROLE, &self.name)
    }

    /// A small pool connected as the superuser. See [`admin_url`](Self::admin_url).
    ///
    /// # Errors
    ///
    /// [`TestSupportError::Database`] if the connection fails.
    pub async fn admin_pool(&self) -> Result<PgPool, TestSupportError> {
        connect_pool(&self.admin_url(), "the superuser", &self.name).await
    }

    /// A small pool connected as [`OWNER_ROLE`]. See [`owner_url`](Self::owner_url).
    ///
    /// # Errors
    ///
    /// [`TestSupportError::Database`] if the connection fails.
    pub async fn owner_pool(&self) -> Result<PgPool, TestSupportError> {
        connect_pool(&self.owner_url(), OWNER_ROLE, &self.name).await
    }

    /// A small pool connected as [`APP_ROLE`]. See [`app_url`](Self::app_url).
    ///
    /// # Errors
    ///
    /// [`TestSupportError::Database`] if the connection fails.
    pub async fn app_pool(&self) -> Result<PgPool, TestSupportError> {
        connect_pool(&self.app_url(), APP_ROLE, &self.name).await
    }

    /// Creates a login role that may connect to this database and has exactly
    /// the `attributes` given (everything else is denied), e.g. a `BYPASSRLS`
    /// role to show that a role audit rejects it.
    ///
    /// Roles belong to the whole server, so the role's name is `name`
    /// prefixed with this database's name, which keeps parallel tests apart;
    /// read it from [`TestRole::name`].
    ///
    /// # Errors
    ///
    /// [`TestSupportError::InvalidRoleName`] unless `name` is a short plain
    /// identifier (`a-z`, `0-9`, `_`, starting with a letter);
    /// [`TestSupportError::Database`] if a statement fails.
    pub async fn create_role(
        &self,
        name: &str,
        attributes: &[RoleAttribute],
    ) -> Result<TestRole, TestSupportError> {
        let max_len = sql::MAX_IDENTIFIER_LEN.saturating_sub(self.role_prefix().len());
        sql::validate_role_name(name, max_len)?;
        let role = format!("{}{name}", self.role_prefix());
        let mut admin = self.server.connect_admin().await?;
        let created = create_role_for(&mut admin, &role, &self.name, attributes).await;
        server::close(admin).await;
        created?;
        Ok(TestRole {
            url: self.server.role_url(&role, &self.name),
            database: self.name.clone(),
            name: role,
        })
    }

    /// Drops the database, and the roles [`create_role`](Self::create_role)
    /// made for it, ending any connection still open to it. Needed only on a
    /// shared server; a throwaway cluster is removed with the test process.
    ///
    /// # Errors
    ///
    /// [`TestSupportError::Database`] if a statement fails.
    pub async fn drop_database(self) -> Result<(), TestSupportError> {
        let mut admin = self.server.connect_admin().await?;
        let dropped = self.drop_with(&mut admin).await;
        server::close(admin).await;
        dropped
    }

    async fn drop_with(&self, admin: &mut PgConnection) -> Result<(), TestSupportError> {
        let action = || format!("drop test database `{}`", self.name);
        let drop = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.name)
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
            .execute(&mut *admin)
            .await
            .map_err(|error| TestSupportError::database(action(), error))?;
        let roles: Vec<String> =
            sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE starts_with(rolname, $1)")
                .bind(self.role_prefix())
                .fetch_all(&mut *admin)
                .await
                .map_err(|error| TestSupportError::database(action(), error))?;
        for role in roles {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP ROLE {}",
                quote_ident(&role)
            )))
            .execute(&mut *admin)
            .await
            .map_err(|error| {
                TestSupportError::database(format!("drop test role `{role}`"), error)
            })?;
        }
        Ok(())
    }

    fn role_prefix(&self) -> String {
        format!("{}_", self.name)
    }

    /// Runs [`PREPARE_DATABASE`] inside the new database.
    async fn prepare(&self) -> Result<(), TestSupportError> {
        self.run_as_admin(PREPARE_DATABASE).await
    }
}

impl TestRole {
    /// The role's full name (the test database's name, `_`, the name asked for).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL to the test database as this role.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A small pool connected as this role.
    ///
    /// # Errors
    ///
    /// [`TestSupportError::Database`] if the connection fails.
    pub async fn pool(&self) -> Result<PgPool, TestSupportError> {
        connect_pool(&self.url, &self.name, &self.database).await
    }
}

/// `CREATE DATABASE` under the next free name `tenancy_test_<pid>_<n>`:
/// unique within the process by the counter, and across processes on a
/// shared server by the pid, or else by skipping names already taken.
async fn create_uniquely_named_database(
    admin: &mut PgConnection,
) -> Result<String, TestSupportError> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let mut skipped = 0;
    loop {
        let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let name = format!("{DATABASE_PREFIX}_{}_{sequence}", std::process::id());
        let statement = format!("CREATE DATABASE {} OWNER tenancy_owner", quote_ident(&name));
        match sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *admin)
            .await
        {
            Ok(_) => return Ok(name),
            Err(error)
                if sql::has_code(&error, sql::DUPLICATE_DATABASE) && skipped < NAME_ATTEMPTS =>
            {
                skipped += 1;
            }
            Err(error) => {
                return Err(TestSupportError::database(
                    format!("create test database `{name}` (skipped {skipped} taken names)"),
                    error,
                ));
            }
        }
    }
}

async fn create_database(admin: &mut PgConnection, name: &str) -> Result<(), TestSupportError> {
    let statement = format!("CREATE DATABASE {} OWNER tenancy_owner", quote_ident(name));
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&mut *admin)
        .await
        .map(drop)
        .map_err(|error| {
            TestSupportError::database(format!("create test database `{name}`"), error)
        })
}

async fn create_role_for(
    admin: &mut PgConnection,
    role: &str,
    database: &str,
    attributes: &[RoleAttribute],
) -> Result<(), TestSupportError> {
    roles::create_role(admin, role, attributes).await?;
    let grant = format!(
        "GRANT CONNECT ON DATABASE {} TO {}",
        quote_ident(database),
        quote_ident(role)
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(grant))
        .execute(&mut *admin)
        .await
        .map(drop)
        .map_err(|error| {
            TestSupportError::database(format!("grant CONNECT on `{database}` to `{role}`"), error)
        })
}

async fn connect_pool(url: &str, role: &str, database: &str) -> Result<PgPool, TestSupportError> {
    PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .connect(url)
        .await
        .map_err(|error| {
            TestSupportError::database(
                format!("connect to test database `{database}` as `{role}`"),
                error,
            )
        })
}
