//! The service's settings, checked once: which database, where new tenants
//! live, and whether the application's URL is a transaction-mode pooler.
//! Everything later in start-up reads a [`DatabaseConfig`], so a setting
//! that cannot work (a schema per tenant on SQLite, a PostgreSQL URL
//! without the owner's) stops the service here, before anything connects.

use std::path::Path;

use sqlx::postgres::PgConnectOptions;
use tenancy_sqlx::Identifier;

use super::StartupError;

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

    /// The application role, as `app_url` names it: the role the policies
    /// and grants are written for.
    pub(super) fn app_role(&self) -> Result<Identifier, StartupError> {
        let app: PgConnectOptions = self.app_url.parse().map_err(StartupError::InvalidUrl)?;
        Ok(Identifier::new("role", app.get_username()).map_err(tenancy_sqlx::Error::from)?)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
