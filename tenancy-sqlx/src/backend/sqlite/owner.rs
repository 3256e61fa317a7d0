//! The owner pool on SQLite: plain DDL, no policies.

use sqlx::Sqlite;
use sqlx::sqlite::SqlitePoolOptions;
use tenancy_core::CrossTenant;
use tenancy_core::ddl::TableSet;

use super::pool::options_for_url;
use crate::backend::Backend;
use crate::{Error, OwnerPool};

impl OwnerPool<Sqlite> {
    /// Opens the SQLite database at `url` for migrations and cross-tenant
    /// work, with foreign keys enforced. For an in-memory database use
    /// [`TenantPool::owner_pool`](crate::TenantPool::owner_pool) instead:
    /// another pool on `sqlite::memory:` is another, empty, database.
    pub async fn connect_sqlite(url: &str, capability: CrossTenant) -> Result<Self, Error> {
        let pool = SqlitePoolOptions::new()
            .connect_with(options_for_url(url)?)
            .await?;
        Ok(Self::from_pool(pool, capability))
    }

    /// Creates the tables (`CREATE TABLE/INDEX IF NOT EXISTS`, every key led
    /// by the tenant column, foreign keys between tenant tables composite:
    /// [`ddl`](crate::ddl)) in one transaction: either all of it happens or
    /// none. Safe to run again.
    ///
    /// There is no Row Level Security to set up: SQLite has none, and the
    /// builder's predicate is the only runtime guard.
    pub async fn apply_schema(&self, tables: &TableSet) -> Result<(), Error> {
        self.run_ddl(tables.create_statements(Sqlite::DIALECT)?)
            .await
    }
}
