//! Opening the database: SQLite with no set-up, or PostgreSQL with the
//! schema and its Row Level Security policies applied by the owner role and
//! the service running as a role the policies apply to.

use std::path::Path;

use sqlx::postgres::PgConnectOptions;
use tenancy_sqlx::lifecycle::append_only_statements;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::{
    CrossTenant, OwnerPool, Postgres, Sqlite, Table, TenantPool, TenantPoolOptions,
};

use crate::schema::{self, ExportAudit};

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseConfig {
    /// An SQLite database, by sqlx URL (`sqlite://orders.db?mode=rwc`).
    Sqlite {
        /// The database's URL.
        url: String,
    },
    /// A PostgreSQL database, reached as two roles.
    Postgres {
        /// The application role's URL: no superuser, no `BYPASSRLS`, owns no
        /// table. The service serves every request through it.
        app_url: String,
        /// The owner role's URL: creates the tables and their policies, and
        /// writes the demo catalogue.
        owner_url: String,
    },
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

impl DatabaseConfig {
    /// The configuration for the given URLs; with no `database_url`, the
    /// SQLite file `orders.db` in `data_dir`.
    pub fn from_urls(
        database_url: Option<&str>,
        owner_database_url: Option<&str>,
        data_dir: &Path,
    ) -> Result<Self, StartupError> {
        match database_url {
            None => {
                std::fs::create_dir_all(data_dir).map_err(|source| StartupError::DataDir {
                    path: data_dir.display().to_string(),
                    source,
                })?;
                let file = data_dir.join("orders.db");
                Ok(DatabaseConfig::Sqlite {
                    url: format!("sqlite://{}?mode=rwc", file.display()),
                })
            }
            Some(url) if url.starts_with("sqlite:") => Ok(DatabaseConfig::Sqlite {
                url: url.to_owned(),
            }),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let owner_url = owner_database_url.ok_or(StartupError::MissingOwnerUrl)?;
                Ok(DatabaseConfig::Postgres {
                    app_url: url.to_owned(),
                    owner_url: owner_url.to_owned(),
                })
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
            DatabaseConfig::Postgres { app_url, .. } => {
                let host = app_url.split('@').next_back().unwrap_or_default();
                format!("PostgreSQL at {host}, with Row Level Security")
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

/// Applies the schema and its Row Level Security policies as the owner,
/// granting the application role what it needs, then connects as the
/// application role; the pool refuses a role the policies would not apply to.
pub async fn open_postgres(
    app_url: &str,
    owner_url: &str,
) -> Result<(TenantPool<Postgres>, OwnerPool<Postgres>), StartupError> {
    let app: PgConnectOptions = app_url.parse().map_err(StartupError::InvalidUrl)?;
    let tables = schema::tables();
    let owner = OwnerPool::<Postgres>::connect(owner_url, setup_capability()?)
        .await?
        .with_tables(&tables);
    let policy = RlsPolicy::for_role(app.get_username())?;
    owner.apply_schema(&tables, &policy).await?;
    // The export audit is evidence: the application role may only add to
    // it, and a trigger refuses UPDATE and DELETE for everyone.
    let role = tenancy_sqlx::Identifier::new("role", app.get_username())
        .map_err(tenancy_sqlx::Error::from)?;
    for statement in append_only_statements(ExportAudit::meta(), Some(&role))? {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(owner.pool())
            .await
            .map_err(tenancy_sqlx::Error::from)?;
    }
    let options = TenantPoolOptions::new(&tables);
    let pool = TenantPool::<Postgres>::connect(app_url, options).await?;
    Ok((pool, owner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_url_means_the_sqlite_file_in_the_data_directory() {
        let dir = std::env::temp_dir().join("orders-service-startup-test");
        let config = DatabaseConfig::from_urls(None, None, &dir).ok();
        let url = format!("sqlite://{}?mode=rwc", dir.join("orders.db").display());
        assert_eq!(config, Some(DatabaseConfig::Sqlite { url }));
    }

    #[test]
    fn postgres_needs_the_owner_url() {
        let config =
            DatabaseConfig::from_urls(Some("postgres://app@db/orders"), None, Path::new("."));
        assert!(matches!(config, Err(StartupError::MissingOwnerUrl)));
    }

    #[test]
    fn other_urls_are_refused_without_echoing_secrets() {
        let config =
            DatabaseConfig::from_urls(Some("mysql://root:hunter2@db/orders"), None, Path::new("."));
        let message = config
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(message.contains("\"mysql\""), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}
