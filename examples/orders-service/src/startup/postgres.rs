//! The shared PostgreSQL database, set up by the owner role: the tables
//! and their Row Level Security policies, the append-only audit, the
//! tenant directory; then the application's pool, which refuses a role the
//! policies would not apply to. Every model needs it: the global tables
//! (API keys, the tenant registry, the plan catalogue) and the directory
//! live here even when a tenant's rows do not.

use sqlx::postgres::PgPoolOptions;
use tenancy_sqlx::citus;
use tenancy_sqlx::directory::TableDirectory;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::{OwnerPool, Postgres, TenantPool};

use super::{PostgresConfig, StartupError, audit, setup_capability};
use crate::schema;

/// Applies the schema and its Row Level Security policies to the shared
/// database as the owner, granting the application role what it needs,
/// creates the tenant directory, then connects as the application role;
/// the pool refuses a role the policies would not apply to.
pub async fn open_postgres(
    config: &PostgresConfig,
) -> Result<(TenantPool<Postgres>, OwnerPool<Postgres>), StartupError> {
    let app = config.app_options()?;
    let tables = schema::tables();
    let owner = OwnerPool::<Postgres>::connect(&config.owner_url, setup_capability()?)
        .await?
        .with_tables(&tables);
    let role = config.app_role()?;
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
    audit::append_only_on_postgres(&mut tx, &role).await?;
    // Where each tenant lives: read by the router as the application role,
    // changed only by the owner.
    for statement in TableDirectory::create_statements(&role) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let pool =
        TenantPool::<Postgres>::connect_with(PgPoolOptions::new(), app, config.pool_options())
            .await?;
    Ok((pool, owner))
}
