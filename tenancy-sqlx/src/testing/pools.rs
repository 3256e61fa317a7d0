//! The library's own pools on a test database: the owner pool and the
//! tenant pool, for tables of the test's own.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tenancy_core::CrossTenant;
use tenancy_core::ddl::TableSet;

use super::database::{POOL_SIZE, TestDatabase};
use super::error::TestSupportError;
use crate::{Error, OwnerPool, Postgres, TenantPool, TenantPoolOptions};

impl TestDatabase {
    /// The library's [`OwnerPool`] on this database: a small pool of the
    /// owner role ([`owner_pool`](Self::owner_pool)), under `capability`,
    /// with `tables` registered (its statements are checked against them;
    /// [`apply_schema`](OwnerPool::apply_schema) takes its tables itself).
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// use tenancy_sqlx::CrossTenant;
    /// use tenancy_sqlx::ddl::TableSet;
    /// use tenancy_sqlx::rls::RlsPolicy;
    /// use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
    ///
    /// # let tables = TableSet::new();
    /// let db = TestDatabase::create().await?;
    /// let owner = db
    ///     .library_owner_pool(CrossTenant::with_reason("test set-up")?, &tables)
    ///     .await?;
    /// owner.apply_schema(&tables, &RlsPolicy::for_role(APP_ROLE)?).await?;
    /// let pool = db.library_tenant_pool(&tables).await?;
    /// # let _ = pool;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`TestSupportError::Database`] if the connection fails.
    pub async fn library_owner_pool(
        &self,
        capability: CrossTenant,
        tables: &TableSet,
    ) -> Result<OwnerPool, TestSupportError> {
        Ok(OwnerPool::from_pool(self.owner_pool().await?, capability).with_tables(tables))
    }

    /// The library's [`TenantPool`] on this database, as the application
    /// role ([`app_url`](Self::app_url)), with `tables` registered and the
    /// pool as small as [`app_pool`](Self::app_pool)'s.
    ///
    /// # Errors
    ///
    /// What [`TenantPool::connect_with`] returns: the connection fails, or
    /// the role or the tables are refused.
    pub async fn library_tenant_pool(&self, tables: &TableSet) -> Result<TenantPool, Error> {
        let url: PgConnectOptions = self.app_url().parse()?;
        TenantPool::<Postgres>::connect_with(
            PgPoolOptions::new().max_connections(POOL_SIZE),
            url,
            TenantPoolOptions::new(tables),
        )
        .await
    }
}
