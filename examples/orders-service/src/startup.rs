//! Opening the database: SQLite with no set-up, or PostgreSQL with the
//! schema and its Row Level Security policies applied by the owner role and
//! the service running as a role the policies apply to.

use std::path::Path;

use sqlx::PgPool;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tenancy_sqlx::citus;
use tenancy_sqlx::directory::{
    DatabaseUrl, Placement, TableDirectory, TenantDirectory, TenantEntry,
};
use tenancy_sqlx::lifecycle::append_only_statements;
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::migrate::{self, MigrateError, Migrations, Runner, RunnerOptions, Target};
use tenancy_sqlx::moves::Place;
use tenancy_sqlx::provision::Provisioner;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::{
    CrossTenant, Identifier, KeyValue, OwnerPool, Postgres, RouterOptions, Sqlite, Table,
    TenantPool, TenantPoolOptions, TenantRouter,
};

use crate::schema::{self, ExportAudit};

/// Where each tenant's rows live. On SQLite only [`Isolation::Shared`]
/// exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Isolation {
    /// The shared tables: a `tenant_id` in every row, Row Level Security on
    /// every tenant table.
    #[default]
    Shared,
    /// A schema of its own (`tenant_<id>`) in the shared database, with the
    /// same tables and policies; `search_path` pinned to it per transaction.
    Schema,
    /// A database of its own (`<database>_tenant_<id>`) on the same server,
    /// created by the owner role, with the same tables and policies.
    Database,
}

impl Isolation {
    /// `shared`, `schema` or `database`, as the setting spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::Shared => "shared",
            Isolation::Schema => "schema",
            Isolation::Database => "database",
        }
    }
}

impl std::fmt::Display for Isolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseConfig {
    /// An SQLite database, by sqlx URL (`sqlite://orders.db?mode=rwc`):
    /// the shared model only.
    Sqlite {
        /// The database's URL.
        url: String,
    },
    /// A PostgreSQL database, reached as two roles.
    Postgres(PostgresConfig),
}

/// The PostgreSQL settings: the two roles' URLs, the isolation model of new
/// tenants, and whether the application reaches the server through a
/// transaction-mode pooler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// The application role's URL: no superuser, no `BYPASSRLS`, owns no
    /// table. The service serves every request through it (through
    /// PgBouncer, if it is PgBouncer's address).
    pub app_url: String,
    /// The owner role's URL, straight to PostgreSQL (never through a
    /// transaction-mode pooler: migrations hold session locks): creates the
    /// tables, their policies, tenant schemas and databases, and writes the
    /// demo catalogue.
    pub owner_url: String,
    /// Where new tenants are placed.
    pub isolation: Isolation,
    /// `app_url` is a pooler in transaction mode (PgBouncer's `pool_mode =
    /// transaction`): statements are not named and cached.
    pub transaction_pooler: bool,
}

impl PostgresConfig {
    /// The shared model, straight to PostgreSQL.
    #[must_use]
    pub fn new(app_url: &str, owner_url: &str) -> Self {
        PostgresConfig {
            app_url: app_url.to_owned(),
            owner_url: owner_url.to_owned(),
            isolation: Isolation::Shared,
            transaction_pooler: false,
        }
    }

    /// New tenants placed in `isolation`.
    #[must_use]
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// Whether `app_url` goes through a transaction-mode pooler.
    #[must_use]
    pub fn transaction_pooler(mut self, pooler: bool) -> Self {
        self.transaction_pooler = pooler;
        self
    }

    /// The options of the shared tenant pool and of every tenant
    /// database's pool.
    #[must_use]
    pub fn pool_options(&self) -> TenantPoolOptions {
        let options = TenantPoolOptions::new(&schema::tables());
        match self.transaction_pooler {
            true => options.behind_transaction_pooler(),
            false => options,
        }
    }
}

/// The service's settings, as the command line and the environment give
/// them.
#[derive(Debug, Clone, Default)]
pub struct Settings<'a> {
    /// `DATABASE_URL`: none for the SQLite file of the data directory.
    pub database_url: Option<&'a str>,
    /// `OWNER_DATABASE_URL`: PostgreSQL only.
    pub owner_database_url: Option<&'a str>,
    /// `ORDERS_ISOLATION`.
    pub isolation: Isolation,
    /// `ORDERS_TRANSACTION_POOLER`.
    pub transaction_pooler: bool,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A PostgreSQL URL without the owner URL that sets the schema up.
    #[error(
        "DATABASE_URL is a PostgreSQL URL, so the schema and its row-level security policies are \
         applied as the role that owns the tables: give its URL with --owner-database-url or \
         OWNER_DATABASE_URL (DATABASE_URL itself must be a role without superuser or BYPASSRLS)"
    )]
    MissingOwnerUrl,
    /// A URL of no supported database.
    #[error(
        "unsupported database URL scheme {scheme:?}: use postgres://… (with an owner URL) or \
         sqlite://…, or give none to use the SQLite file in the data directory"
    )]
    UnsupportedUrl {
        /// The URL's scheme (the rest may hold a password).
        scheme: String,
    },
    /// A schema or database per tenant asked of SQLite.
    #[error(
        "--isolation {isolation} (ORDERS_ISOLATION) needs PostgreSQL: SQLite has neither schemas \
         nor databases per tenant, only the shared tables. Give a postgres:// DATABASE_URL and \
         OWNER_DATABASE_URL, or use --isolation shared"
    )]
    IsolationNeedsPostgres {
        /// The model asked for.
        isolation: Isolation,
    },
    /// The pooler setting given for SQLite.
    #[error(
        "--transaction-pooler (ORDERS_TRANSACTION_POOLER) is for a PostgreSQL DATABASE_URL that \
         points at PgBouncer in transaction mode; SQLite has no pooler"
    )]
    PoolerNeedsPostgres,
    /// The owner role could not create a tenant's database.
    #[error(
        "cannot create the database {database:?} of tenant {tenant} as the owner role: {source}. \
         In the database-per-tenant model the owner role creates one database per tenant: \
         give it the right with `ALTER ROLE <owner> CREATEDB`, or create the database yourself, \
         owned by the owner role"
    )]
    CreateDatabase {
        /// The tenant.
        tenant: i64,
        /// The database's name.
        database: String,
        /// What PostgreSQL said.
        source: sqlx::Error,
    },
    /// A tenant's schema or database could not be migrated.
    #[error("provisioning tenant {tenant} in a {isolation} of its own failed: {source}")]
    Provisioning {
        /// The tenant.
        tenant: i64,
        /// Its model.
        isolation: Isolation,
        /// The runner's error.
        source: MigrateError,
    },
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A malformed PostgreSQL URL.
    #[error("invalid PostgreSQL URL: {0}")]
    InvalidUrl(sqlx::Error),
    /// The database refused to connect or to apply the schema.
    #[error(transparent)]
    Database(#[from] tenancy_sqlx::Error),
}

impl From<sqlx::Error> for StartupError {
    fn from(error: sqlx::Error) -> Self {
        StartupError::Database(error.into())
    }
}

impl DatabaseConfig {
    /// The configuration for `settings`; with no database URL, the SQLite
    /// file `orders.db` in `data_dir`.
    pub fn new(settings: &Settings<'_>, data_dir: &Path) -> Result<Self, StartupError> {
        let sqlite = |url: String| {
            if settings.isolation != Isolation::Shared {
                return Err(StartupError::IsolationNeedsPostgres {
                    isolation: settings.isolation,
                });
            }
            if settings.transaction_pooler {
                return Err(StartupError::PoolerNeedsPostgres);
            }
            Ok(DatabaseConfig::Sqlite { url })
        };
        match settings.database_url {
            None => {
                let file = data_dir.join("orders.db");
                let config = sqlite(format!("sqlite://{}?mode=rwc", file.display()))?;
                std::fs::create_dir_all(data_dir).map_err(|source| StartupError::DataDir {
                    path: data_dir.display().to_string(),
                    source,
                })?;
                Ok(config)
            }
            Some(url) if url.starts_with("sqlite:") => sqlite(url.to_owned()),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let owner_url = settings
                    .owner_database_url
                    .ok_or(StartupError::MissingOwnerUrl)?;
                Ok(DatabaseConfig::Postgres(
                    PostgresConfig::new(url, owner_url)
                        .isolation(settings.isolation)
                        .transaction_pooler(settings.transaction_pooler),
                ))
            }
            Some(url) => Err(StartupError::UnsupportedUrl {
                scheme: url.split(':').next().unwrap_or_default().to_owned(),
            }),
        }
    }

    /// What the startup banner says about the database.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            DatabaseConfig::Sqlite { url } => format!(
                "SQLite at {url} (no Row Level Security: the query builder's tenant predicate is the runtime guard)"
            ),
            DatabaseConfig::Postgres(config) => {
                let host = config.app_url.split('@').next_back().unwrap_or_default();
                let pooler = match config.transaction_pooler {
                    true => ", through a transaction-mode pooler",
                    false => "",
                };
                format!(
                    "PostgreSQL at {host}, with Row Level Security{pooler}; new tenants in the {} model",
                    config.isolation
                )
            }
        }
    }
}

/// The capability the owner pool is made with; its creation is logged.
fn setup_capability() -> Result<CrossTenant, tenancy_sqlx::Error> {
    Ok(CrossTenant::with_reason(
        "orders-service start-up: tables, policies and the demo catalogue",
    )?)
}

/// Opens the SQLite database and creates the tables.
pub async fn open_sqlite(
    url: &str,
) -> Result<(TenantPool<Sqlite>, OwnerPool<Sqlite>), StartupError> {
    let pool = TenantPool::<Sqlite>::connect_sqlite(url, TenantPoolOptions::new(&schema::tables()))
        .await?;
    let owner = pool.owner_pool(setup_capability()?);
    owner.apply_schema(&schema::tables()).await?;
    // The export audit is evidence: no one rewrites it (SQLite has no
    // roles, so a trigger is the whole guard there).
    for operation in ["UPDATE", "DELETE"] {
        let trigger = format!(
            "CREATE TRIGGER IF NOT EXISTS export_audit_append_only_{op} BEFORE {operation} ON export_audit \
             BEGIN SELECT RAISE(ABORT, 'export_audit is append-only: {operation} refused'); END",
            op = operation.to_lowercase()
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(trigger))
            .execute(owner.pool())
            .await
            .map_err(tenancy_sqlx::Error::from)?;
    }
    Ok((pool, owner))
}

/// Applies the schema and its Row Level Security policies to the shared
/// database as the owner, granting the application role what it needs,
/// creates the tenant directory, then connects as the application role;
/// the pool refuses a role the policies would not apply to.
pub async fn open_postgres(
    config: &PostgresConfig,
) -> Result<(TenantPool<Postgres>, OwnerPool<Postgres>), StartupError> {
    let app: PgConnectOptions = config.app_url.parse().map_err(StartupError::InvalidUrl)?;
    let tables = schema::tables();
    let owner = OwnerPool::<Postgres>::connect(&config.owner_url, setup_capability()?)
        .await?
        .with_tables(&tables);
    let role = app_role(&app)?;
    owner
        .apply_schema(&tables, &RlsPolicy::for_role(role.as_str())?)
        .await?;
    let mut tx = owner.pool().begin().await?;
    if citus::is_coordinator(&mut tx).await? {
        // Citus runs a distributed table's triggers on its shards, and only
        // when told to: this one raises and reads nothing, which is safe
        // there.
        sqlx::raw_sql("SET LOCAL citus.enable_unsafe_triggers TO on")
            .execute(&mut *tx)
            .await?;
    }
    append_only_audit(&mut tx, &role).await?;
    // Where each tenant lives: read by the router as the application role,
    // changed only by the owner.
    for statement in TableDirectory::create_statements(&role) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let pool = TenantPool::<Postgres>::connect_with(
        PgPoolOptions::new(),
        app_options(&app, config),
        config.pool_options(),
    )
    .await?;
    Ok((pool, owner))
}

/// The export audit is evidence: the application role may only add to it,
/// and a trigger refuses UPDATE and DELETE for everyone. Run in `tx`, whose
/// `search_path` names the schema the audit table is in.
async fn append_only_audit(
    tx: &mut sqlx::PgConnection,
    role: &Identifier,
) -> Result<(), StartupError> {
    for statement in append_only_statements(ExportAudit::meta(), Some(role))? {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

fn app_role(app: &PgConnectOptions) -> Result<Identifier, StartupError> {
    Ok(Identifier::new("role", app.get_username()).map_err(tenancy_sqlx::Error::from)?)
}

/// The application's connection options: behind a transaction-mode pooler,
/// no statement cache (what the next transaction's server connection would
/// not have).
fn app_options(app: &PgConnectOptions, config: &PostgresConfig) -> PgConnectOptions {
    match config.transaction_pooler {
        true => app.clone().statement_cache_capacity(0),
        false => app.clone(),
    }
}

/// The service's tenants on PostgreSQL: the router that opens each
/// tenant's transaction where the directory places it, and what start-up
/// provisioned.
#[derive(Debug)]
pub struct PostgresTenants {
    /// Opens tenant transactions, in every model.
    pub router: TenantRouter<TableDirectory>,
    /// The owner of the shared database's tables.
    pub owner: OwnerPool<Postgres>,
    /// Creates and migrates tenant schemas and databases.
    pub places: TenantPlaces,
    /// Each tenant asked for, with its directory entry after start-up.
    pub placements: Vec<(i64, TenantEntry)>,
}

/// Opens the shared database ([`open_postgres`]), places each of `tenants`
/// that the directory does not know yet in its model (a schema or a
/// database created, migrated with the tables, their policies and grants,
/// and the audit's append-only trigger; then its directory entry), and
/// makes the router. A tenant the directory knows stays where it is: its
/// rows are there (move it with `tenancy_sqlx::moves`).
pub async fn open_router(
    config: &PostgresConfig,
    tenants: &[(i64, Isolation)],
) -> Result<PostgresTenants, StartupError> {
    let (shared, owner) = open_postgres(config).await?;
    let app: PgConnectOptions = config.app_url.parse().map_err(StartupError::InvalidUrl)?;
    let places = TenantPlaces::new(config, &owner)?;
    let directory = TableDirectory::new(owner.pool().clone());
    let mut placements = Vec::new();
    for &(tenant, isolation) in tenants {
        let entry = match directory.entry(KeyValue::I64(tenant)).await? {
            Some(entry) => entry,
            None => {
                places.provision(tenant, isolation).await?;
                directory.entry(KeyValue::I64(tenant)).await?.ok_or(
                    tenancy_sqlx::Error::TenantNotFound {
                        tenant: KeyValue::I64(tenant),
                    },
                )?
            }
        };
        placements.push((tenant, entry));
    }
    let reader = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(app_options(&app, config))
        .await?;
    let router = TenantRouter::new(
        TableDirectory::new(reader),
        shared,
        config.pool_options(),
        RouterOptions::new(),
    )?;
    Ok(PostgresTenants {
        router,
        owner,
        places,
        placements,
    })
}

/// Tenant schemas and databases: their names, and how they are created
/// and migrated (as the owner role) with the tenant tables, their policies
/// and grants.
#[derive(Debug)]
pub struct TenantPlaces {
    owner: PgPool,
    owner_options: PgConnectOptions,
    app_url: String,
    app_role: Identifier,
    shared_database: String,
    provisioner: Provisioner,
    runner: Runner,
}

impl TenantPlaces {
    /// The places of the service configured by `config`, created through
    /// `owner`.
    pub fn new(config: &PostgresConfig, owner: &OwnerPool<Postgres>) -> Result<Self, StartupError> {
        let app: PgConnectOptions = config.app_url.parse().map_err(StartupError::InvalidUrl)?;
        let app_role = app_role(&app)?;
        let manifest = Manifest::new(
            &schema::tenant_tables(),
            &RlsPolicy::for_role(app_role.as_str())?,
        )?;
        let mut migrations = migrate::initial(&manifest, 1, "orders_tenant_tables")
            .map_err(provisioning_error)?
            .migrations();
        migrations.extend(append_only_migration(2, &app_role)?);
        let migrations = Migrations::from_list(migrations).map_err(provisioning_error)?;
        let runner = || {
            Runner::for_owner(owner, migrations.clone())
                .options(RunnerOptions::new().application_name("orders-service"))
        };
        let pool = owner.pool().clone();
        Ok(TenantPlaces {
            owner_options: (*pool.connect_options()).clone(),
            shared_database: pool
                .connect_options()
                .get_database()
                .unwrap_or(app_role.as_str())
                .to_owned(),
            provisioner: Provisioner::new(
                runner(),
                TableDirectory::new(pool.clone()),
                pool.clone(),
            ),
            runner: runner(),
            owner: pool,
            app_url: config.app_url.clone(),
            app_role,
        })
    }

    /// `tenant_<id>` (`tenant_n<id>` for a negative id, so that no two
    /// tenants share one): the schema of a tenant in the schema model.
    pub fn schema_of(tenant: i64) -> Result<Identifier, StartupError> {
        let name = format!("tenant_{}", id_in_name(tenant));
        Ok(Identifier::new("schema", &name).map_err(tenancy_sqlx::Error::from)?)
    }

    /// `<shared database>_tenant_<id>`: the database of a tenant in the
    /// database model.
    pub fn database_of(&self, tenant: i64) -> Result<Identifier, StartupError> {
        let name = format!("{}_tenant_{}", self.shared_database, id_in_name(tenant));
        Ok(Identifier::new("database", &name).map_err(tenancy_sqlx::Error::from)?)
    }

    /// The directory's placement of `tenant` in `isolation`: the schema, or
    /// the application's URL of the database.
    pub fn placement(&self, tenant: i64, isolation: Isolation) -> Result<Placement, StartupError> {
        Ok(match isolation {
            Isolation::Shared => Placement::Shared,
            Isolation::Schema => Placement::Schema(Self::schema_of(tenant)?),
            Isolation::Database => {
                let database = self.database_of(tenant)?;
                Placement::Database(DatabaseUrl::new(with_database(
                    &self.app_url,
                    database.as_str(),
                ))?)
            }
        })
    }

    /// The owner's connection options for the database of `placement`.
    pub fn owner_options(&self, placement: &Placement) -> Result<PgConnectOptions, StartupError> {
        Ok(match placement {
            Placement::Database(url) => {
                let options: PgConnectOptions =
                    url.as_str().parse().map_err(StartupError::InvalidUrl)?;
                let database = options.get_database().unwrap_or_default().to_owned();
                self.owner_options.clone().database(&database)
            }
            _ => self.owner_options.clone(),
        })
    }

    /// `placement` as one end of a move: pools of its database as the
    /// application role (which copies the rows, under row-level security)
    /// and as the owner.
    pub async fn place(&self, placement: &Placement) -> Result<Place, StartupError> {
        let app_url = match placement {
            Placement::Database(url) => url.as_str().to_owned(),
            _ => self.app_url.clone(),
        };
        let app = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(app_url.parse().map_err(StartupError::InvalidUrl)?)
            .await?;
        let owner = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(self.owner_options(placement)?)
            .await?;
        Ok(Place::new(placement.clone(), app, owner))
    }

    /// Creates and migrates the place of `tenant` in `isolation`, then
    /// records it in the directory, active: the library's provisioning.
    pub async fn provision(&self, tenant: i64, isolation: Isolation) -> Result<(), StartupError> {
        let key = KeyValue::I64(tenant);
        let failed = |source| StartupError::Provisioning {
            tenant,
            isolation,
            source,
        };
        match self.placement(tenant, isolation)? {
            Placement::Shared => self.provisioner.shared(key).await.map_err(failed)?,
            Placement::Schema(schema) => {
                self.provisioner
                    .schema(key, &schema)
                    .await
                    .map_err(failed)?;
            }
            Placement::Database(url) => {
                let options = self.create_database(tenant).await?;
                self.provisioner
                    .database(key, options, url)
                    .await
                    .map_err(failed)?;
            }
        }
        Ok(())
    }

    /// Creates and migrates the place of `tenant` in `isolation` without
    /// recording it: the target of a move, which switches the directory
    /// entry itself.
    pub async fn prepare(
        &self,
        tenant: i64,
        isolation: Isolation,
    ) -> Result<Placement, StartupError> {
        let placement = self.placement(tenant, isolation)?;
        let failed = |source| StartupError::Provisioning {
            tenant,
            isolation,
            source,
        };
        let target = match &placement {
            Placement::Shared => return Ok(placement),
            Placement::Schema(schema) => {
                let create = format!("CREATE SCHEMA IF NOT EXISTS {}", schema.quoted());
                sqlx::raw_sql(sqlx::AssertSqlSafe(create))
                    .execute(&self.owner)
                    .await?;
                Target::schema(schema.as_str())?
            }
            Placement::Database(_) => {
                let options = self.create_database(tenant).await?;
                let label = options.get_database().unwrap_or_default().to_owned();
                Target::database(&label, options, None).map_err(failed)?
            }
        };
        let report = self.runner.up(&[target]).await.map_err(failed)?;
        if !report.succeeded() {
            return Err(failed(
                tenancy_sqlx::Error::ProvisioningFailed {
                    target: format!("tenant {tenant}"),
                    report: format!("{:?}", report.failed().collect::<Vec<_>>()),
                }
                .into(),
            ));
        }
        Ok(placement)
    }

    /// The database of `tenant`, created by the owner if it is not there
    /// (the owner role needs `CREATEDB`), connectable by the application
    /// role; the owner's options to reach it.
    async fn create_database(&self, tenant: i64) -> Result<PgConnectOptions, StartupError> {
        let database = self.database_of(tenant)?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)")
                .bind(database.as_str())
                .fetch_one(&self.owner)
                .await?;
        if !exists {
            let create = format!("CREATE DATABASE {}", database.quoted());
            match sqlx::raw_sql(sqlx::AssertSqlSafe(create))
                .execute(&self.owner)
                .await
            {
                Ok(_) => {}
                // Another instance created it first.
                Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42P04") => {}
                Err(source) => {
                    return Err(StartupError::CreateDatabase {
                        tenant,
                        database: database.as_str().to_owned(),
                        source,
                    });
                }
            }
        }
        let grant = format!(
            "GRANT CONNECT ON DATABASE {} TO {}",
            database.quoted(),
            self.app_role.quoted()
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(grant))
            .execute(&self.owner)
            .await?;
        Ok(self.owner_options.clone().database(database.as_str()))
    }
}

/// The second migration of every tenant place: the export audit made
/// append-only there as in the shared database (unqualified, so it lands
/// in the schema the runner migrates).
fn append_only_migration(version: i64, role: &Identifier) -> Result<Vec<Migration>, StartupError> {
    let mut up =
        String::from("-- The export audit is evidence: the application role may only add to it.\n");
    for statement in append_only_statements(ExportAudit::meta(), Some(role))? {
        up.push_str(&statement);
        up.push_str(";\n");
    }
    let down = "DROP TRIGGER IF EXISTS \"append_only\" ON \"export_audit\";\n\
                DROP TRIGGER IF EXISTS \"append_only_truncate\" ON \"export_audit\";\n"
        .to_owned();
    Ok([
        (MigrationType::ReversibleUp, up),
        (MigrationType::ReversibleDown, down),
    ]
    .into_iter()
    .map(|(kind, sql)| {
        Migration::new(
            version,
            "orders export audit append only".into(),
            kind,
            sqlx::AssertSqlSafe(sql).into_sql_str(),
            false,
        )
    })
    .collect())
}

fn provisioning_error(error: MigrateError) -> StartupError {
    StartupError::Database(tenancy_sqlx::Error::ProvisioningFailed {
        target: "the tenant tables' migration".to_owned(),
        report: error.to_string(),
    })
}

/// `url` with its database replaced by `database` (the path between the
/// authority and the query).
pub fn with_database(url: &str, database: &str) -> String {
    let authority = url.find("://").map_or(0, |at| at + 3);
    let path = url[authority..]
        .find(['/', '?'])
        .map_or(url.len(), |at| authority + at);
    let query = url[path..].find('?').map_or(url.len(), |at| path + at);
    format!("{}/{database}{}", &url[..path], &url[query..])
}

/// A tenant id as part of a name: its digits, `n` first when negative.
fn id_in_name(tenant: i64) -> String {
    if tenant < 0 {
        format!("n{}", tenant.unsigned_abs())
    } else {
        tenant.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_tenants_share_a_schema_name() {
        let names: Vec<String> = [7, -7, 0]
            .into_iter()
            .filter_map(|tenant| TenantPlaces::schema_of(tenant).ok())
            .map(|schema| schema.as_str().to_owned())
            .collect();
        assert_eq!(names, ["tenant_7", "tenant_n7", "tenant_0"]);
    }

    #[test]
    fn no_url_means_the_sqlite_file_in_the_data_directory() {
        let dir = std::env::temp_dir().join("orders-service-startup-test");
        let config = DatabaseConfig::new(&Settings::default(), &dir).ok();
        let url = format!("sqlite://{}?mode=rwc", dir.join("orders.db").display());
        assert_eq!(config, Some(DatabaseConfig::Sqlite { url }));
    }

    #[test]
    fn postgres_needs_the_owner_url() {
        let settings = Settings {
            database_url: Some("postgres://app@db/orders"),
            ..Settings::default()
        };
        let config = DatabaseConfig::new(&settings, Path::new("."));
        assert!(matches!(config, Err(StartupError::MissingOwnerUrl)));
    }

    #[test]
    fn other_urls_are_refused_without_echoing_secrets() {
        let settings = Settings {
            database_url: Some("mysql://root:hunter2@db/orders"),
            ..Settings::default()
        };
        let config = DatabaseConfig::new(&settings, Path::new("."));
        let message = config
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(message.contains("\"mysql\""), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn sqlite_refuses_a_schema_or_a_database_per_tenant() {
        for isolation in [Isolation::Schema, Isolation::Database] {
            for database_url in [None, Some("sqlite::memory:")] {
                let settings = Settings {
                    database_url,
                    isolation,
                    ..Settings::default()
                };
                let config = DatabaseConfig::new(&settings, Path::new("."));
                assert!(
                    matches!(config, Err(StartupError::IsolationNeedsPostgres { isolation: i }) if i == isolation),
                    "{config:?}"
                );
            }
        }
        let settings = Settings {
            transaction_pooler: true,
            ..Settings::default()
        };
        let config = DatabaseConfig::new(&settings, Path::new("."));
        assert!(matches!(config, Err(StartupError::PoolerNeedsPostgres)));
    }

    #[test]
    fn a_tenant_database_url_keeps_everything_but_the_database() {
        assert_eq!(
            with_database(
                "postgres://app:pw@db:6432/orders?sslmode=require",
                "orders_tenant_1"
            ),
            "postgres://app:pw@db:6432/orders_tenant_1?sslmode=require"
        );
        assert_eq!(
            with_database("postgres://app@db", "orders_tenant_2"),
            "postgres://app@db/orders_tenant_2"
        );
    }
}
