//! The router's cache of tenant databases' pools: made once under
//! concurrent first requests, bounded in pools and in connections (counted
//! on the server), least recently used evicted first, idle pools closed.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use tenancy_sqlx::directory::{DatabaseUrl, Placement, StaticDirectory, TenantEntry};
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{Error, KeyValue, RouterOptions, TenantPool, TenantRouter};
use tenancy_test::TestResult;
use tenancy_test::models::visible_tenants;
use tenancy_test::server::SETTLE;
use tenancy_test::shop::{ORDERS_PER_TENANT, pool_options, shop, tenant};

/// Tenants 10, 11, ... each in a database of its own, behind one router.
struct Fleet {
    router: TenantRouter<StaticDirectory>,
    databases: Vec<TestDatabase>,
    admin: PgPool,
}

async fn fleet(count: i64, options: RouterOptions) -> TestResult<Fleet> {
    let main = shop(&[]).await?;
    let mut directory = StaticDirectory::new();
    let mut databases = Vec::new();
    for key in 10..10 + count {
        let db = shop(&[key]).await?;
        let url = DatabaseUrl::new(db.app_url())?;
        directory = directory.with(
            KeyValue::I64(key),
            TenantEntry::active(Placement::Database(url)),
        );
        databases.push(db);
    }
    let shared = TenantPool::connect(&main.app_url(), pool_options()).await?;
    Ok(Fleet {
        router: TenantRouter::new(directory, shared, pool_options(), options)?,
        admin: main.admin_pool().await?,
        databases,
    })
}

impl Fleet {
    /// The application role's connections to the tenant databases, as the
    /// server counts them.
    async fn server_connections(&self) -> TestResult<i64> {
        let names: Vec<String> = self
            .databases
            .iter()
            .map(|db| db.name().to_owned())
            .collect();
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND datname = ANY($2)",
        )
        .bind(APP_ROLE)
        .bind(names)
        .fetch_one(&self.admin)
        .await?)
    }

    /// Waits until the server counts at most `most` connections.
    async fn settle_at_most(&self, most: i64) -> TestResult<i64> {
        let deadline = Instant::now() + SETTLE;
        loop {
            let seen = self.server_connections().await?;
            if seen <= most || Instant::now() > deadline {
                return Ok(seen);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Thirty-two first requests for one database at once make one pool, and
/// every one of them gets a transaction of its tenant.
#[tokio::test]
async fn concurrent_first_requests_make_one_pool() -> TestResult {
    let f = fleet(1, RouterOptions::new().max_database_connections(64)).await?;
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let router = f.router.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = router.begin(&tenant(10)).await?;
            let seen = visible_tenants(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, tenancy_test::BoxError>(seen)
        }));
    }
    for task in tasks {
        let (built, raw) = task.await??;
        assert_eq!(built, vec![10; ORDERS_PER_TENANT as usize]);
        assert_eq!(raw, built);
    }
    assert_eq!(f.router.database_pools_created(), 1);
    assert_eq!(f.router.open_database_pools(), 1);
    Ok(())
}

/// With room for two pools of one connection, a third database evicts the
/// least recently used pool, the server never counts more than two
/// connections, and every tenant is still served.
#[tokio::test]
async fn the_least_recently_used_pool_is_evicted_within_the_bounds() -> TestResult {
    let options = RouterOptions::new()
        .max_database_pools(2)
        .max_database_connections(2);
    let f = fleet(3, options).await?;
    let mut most = 0;
    for round in [10, 11, 10, 12, 11, 10, 12] {
        let mut tx = f.router.begin(&tenant(round)).await?;
        let (built, _) = visible_tenants(&mut tx).await?;
        assert_eq!(built, vec![round; ORDERS_PER_TENANT as usize]);
        most = most.max(f.server_connections().await?);
        tx.commit().await?;
        assert!(f.router.open_database_pools() <= 2);
    }
    assert!(most <= 2, "the server counted {most} connections");
    // 10 and 11 are made and 10 used again; then 12 evicts 11 (used
    // longest ago), 11 evicts 10, 10 evicts 12 and 12 evicts 11.
    assert_eq!(f.router.database_pools_created(), 6);
    assert!(f.settle_at_most(2).await? <= 2);
    Ok(())
}

/// A pool unused for longer than the idle timeout is closed, and its
/// connections with it, when the cache is next used.
#[tokio::test]
async fn idle_pools_are_closed() -> TestResult {
    let options = RouterOptions::new().idle_pool_timeout(Duration::from_millis(200));
    let f = fleet(2, options).await?;
    f.router.begin(&tenant(10)).await?.commit().await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    f.router.begin(&tenant(11)).await?.commit().await?;
    assert_eq!(f.router.open_database_pools(), 1);
    assert_eq!(f.settle_at_most(1).await?, 1);
    Ok(())
}

/// Options that cannot hold are refused when the router is made.
#[tokio::test]
async fn impossible_bounds_are_refused() -> TestResult {
    let result = fleet(
        0,
        RouterOptions::new()
            .max_database_pools(4)
            .max_database_connections(3),
    )
    .await;
    let error = result
        .err()
        .ok_or("three connections for four pools were accepted")?;
    let error = error.downcast::<Error>()?;
    assert!(
        matches!(*error, Error::InvalidRouterOptions { .. }),
        "{error}"
    );
    Ok(())
}
