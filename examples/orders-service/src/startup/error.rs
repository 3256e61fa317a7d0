//! Why start-up stopped. Each message says what was wrong and what to do
//! about it (which setting to give, which privilege to grant).

use tenancy_sqlx::migrate::MigrateError;

use super::Isolation;

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
