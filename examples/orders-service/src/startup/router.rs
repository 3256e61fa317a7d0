//! The whole start-up on PostgreSQL: the shared database opened, each demo
//! tenant the directory does not know yet placed in the chosen model, and
//! the router that opens every tenant's transaction where the directory
//! places it. What the binary and the tests start the service with.

use sqlx::postgres::PgPoolOptions;
use tenancy_sqlx::directory::{TableDirectory, TenantDirectory, TenantEntry};
use tenancy_sqlx::{KeyValue, OwnerPool, Postgres, RouterOptions, TenantRouter};

use super::{Isolation, PostgresConfig, StartupError, TenantPlaces, open_postgres};

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
    // The router reads the directory as the application role, through the
    // same URL (and pooler) as every tenant transaction.
    let reader = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(config.app_options()?)
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
