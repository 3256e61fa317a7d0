//! The embedded default: an SQLite file (or memory) with the tables
//! created, no roles and no policies, so the query builder's tenant
//! predicate is the guard. Only the shared model exists here.

use tenancy_sqlx::{OwnerPool, Sqlite, TenantPool, TenantPoolOptions};

use super::{StartupError, audit, setup_capability};
use crate::schema;

/// Opens the SQLite database and creates the tables.
pub async fn open_sqlite(
    url: &str,
) -> Result<(TenantPool<Sqlite>, OwnerPool<Sqlite>), StartupError> {
    let pool = TenantPool::<Sqlite>::connect_sqlite(url, TenantPoolOptions::new(&schema::tables()))
        .await?;
    let owner = pool.owner_pool(setup_capability()?);
    owner.apply_schema(&schema::tables()).await?;
    audit::append_only_on_sqlite(&owner).await?;
    Ok((pool, owner))
}
