//! A shop behind a tenant pool of one connection, so that the next borrower
//! always gets the very connection the previous transaction used, or a new
//! one if that one was closed — which the backend's pid tells.

use sqlx::PgPool;
use tenancy_sqlx::testing::TestDatabase;
use tenancy_sqlx::{TenantPool, TenantPoolOptions};

use crate::TestResult;
use crate::probe::{SessionState, next_borrower};
use crate::server::{assert_no_open_transaction, single_connection_pool};
use crate::shop::{A, B, ORDERS_PER_TENANT, pool_options, shop, tenant};

/// The shop seeded for tenants A and B, the pool, and what a fresh
/// connection of it finds: the state every later borrower must find too.
pub struct PooledShop {
    /// The superuser, to see what the server sees.
    pub admin: PgPool,
    /// One connection, as the application role (or the role asked for).
    pub pool: TenantPool,
    /// The pool's `application_name`.
    pub name: String,
    /// What tenant B's first transaction found.
    pub fresh: SessionState,
    /// The database, kept for the test's lifetime.
    pub db: TestDatabase,
}

impl PooledShop {
    /// The shop, and a pool named `name` as the application role.
    pub async fn new(name: &str) -> TestResult<Self> {
        let db = shop(&[A, B]).await?;
        let url = db.app_url();
        Self::with(db, name, &url, pool_options()).await
    }

    /// A pool named `name` on `db`, connected as `url` with `options`.
    pub async fn with(
        db: TestDatabase,
        name: &str,
        url: &str,
        options: TenantPoolOptions,
    ) -> TestResult<Self> {
        let pool = single_connection_pool(url, name, options).await?;
        let (_, fresh) = next_borrower(&pool, B).await?;
        Ok(PooledShop {
            admin: db.admin_pool().await?,
            pool,
            name: name.to_owned(),
            fresh,
            db,
        })
    }

    /// The next borrower, tenant B, finds no open transaction on the server,
    /// the session as a fresh connection does, and only B's rows through
    /// raw SQL; returns its backend's pid. Fails with a message naming
    /// `case` rather than panicking, so that a test can also show that it
    /// does fail.
    pub async fn assert_next_borrower_is_clean(&self, case: &str) -> TestResult<i32> {
        assert_no_open_transaction(&self.admin, &self.name)
            .await
            .map_err(|error| format!("after {case}: {error}"))?;
        let (pid, state) = next_borrower(&self.pool, B).await?;
        if state != self.fresh {
            return Err(format!(
                "after {case}, the next borrower found {state:#?}\ninstead of {:#?}",
                self.fresh
            )
            .into());
        }
        let mut tx = self.pool.begin(&tenant(B)).await?;
        let seen: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM orders")
            .fetch_all(tx.raw_connection())
            .await?;
        tx.rollback().await?;
        if seen != vec![B; ORDERS_PER_TENANT as usize] {
            return Err(format!("after {case}, a transaction for B saw tenants {seen:?}").into());
        }
        Ok(pid)
    }
}
