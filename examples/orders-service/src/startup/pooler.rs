//! Behind a transaction-mode pooler (PgBouncer's `pool_mode =
//! transaction`) consecutive transactions of one connection run on
//! different server connections, so nothing may be cached on a
//! connection across transactions: no named prepared statements. These are
//! the only settings that differ; everything else the library keeps
//! transaction-local already.

use sqlx::postgres::PgConnectOptions;
use tenancy_sqlx::TenantPoolOptions;

use super::{PostgresConfig, StartupError};
use crate::schema;

impl PostgresConfig {
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

    /// The application role's connection options, for the pools the
    /// application opens itself (the directory's reader): behind a
    /// transaction-mode pooler, no statement cache (what the next
    /// transaction's server connection would not have).
    pub(super) fn app_options(&self) -> Result<PgConnectOptions, StartupError> {
        let app: PgConnectOptions = self.app_url.parse().map_err(StartupError::InvalidUrl)?;
        Ok(match self.transaction_pooler {
            true => app.statement_cache_capacity(0),
            false => app,
        })
    }
}
