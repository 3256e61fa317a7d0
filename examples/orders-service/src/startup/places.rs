//! Tenant schemas and databases, made by the owner role: a database
//! created (the owner needs `CREATEDB`), a schema or database migrated
//! with the tenant tables, then the tenant recorded in the directory, with
//! the library's provisioning. Also the two ends of a move, as pools.

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tenancy_sqlx::directory::{Placement, TableDirectory};
use tenancy_sqlx::migrate::{Runner, RunnerOptions};
use tenancy_sqlx::moves::Place;
use tenancy_sqlx::provision::Provisioner;
use tenancy_sqlx::{Identifier, KeyValue, OwnerPool, Postgres};

use super::{Isolation, PlaceNames, PostgresConfig, StartupError, migrations};

/// Tenant schemas and databases: their names, and how they are created
/// and migrated (as the owner role) with the tenant tables, their policies
/// and grants.
#[derive(Debug)]
pub struct TenantPlaces {
    owner: PgPool,
    owner_options: PgConnectOptions,
    app_role: Identifier,
    names: PlaceNames,
    provisioner: Provisioner,
}

impl TenantPlaces {
    /// The places of the service configured by `config`, created through
    /// `owner`.
    pub fn new(config: &PostgresConfig, owner: &OwnerPool<Postgres>) -> Result<Self, StartupError> {
        let app_role = config.app_role()?;
        let runner = Runner::for_owner(owner, migrations::tenant_migrations(&app_role)?)
            .options(RunnerOptions::new().application_name("orders-service"));
        let pool = owner.pool().clone();
        let owner_options = (*pool.connect_options()).clone();
        let shared_database = owner_options
            .get_database()
            .unwrap_or(app_role.as_str())
            .to_owned();
        Ok(TenantPlaces {
            names: PlaceNames::new(&shared_database, &config.app_url),
            provisioner: Provisioner::new(runner, TableDirectory::new(pool.clone()), pool.clone()),
            owner_options,
            owner: pool,
            app_role,
        })
    }

    /// What the places are called.
    #[must_use]
    pub fn names(&self) -> &PlaceNames {
        &self.names
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
            Placement::Database(url) => url.as_str(),
            _ => self.names.app_url(),
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
        match self.names.placement(tenant, isolation)? {
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
        let placement = self.names.placement(tenant, isolation)?;
        let failed = |source| StartupError::Provisioning {
            tenant,
            isolation,
            source,
        };
        match &placement {
            Placement::Shared => {}
            Placement::Schema(schema) => {
                self.provisioner
                    .prepare_schema(schema)
                    .await
                    .map_err(failed)?;
            }
            Placement::Database(_) => {
                let options = self.create_database(tenant).await?;
                self.provisioner
                    .prepare_database(options)
                    .await
                    .map_err(failed)?;
            }
        }
        Ok(placement)
    }

    /// The database of `tenant`, created by the owner if it is not there
    /// (the owner role needs `CREATEDB`), connectable by the application
    /// role; the owner's options to reach it.
    async fn create_database(&self, tenant: i64) -> Result<PgConnectOptions, StartupError> {
        let database = self.names.database_of(tenant)?;
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
