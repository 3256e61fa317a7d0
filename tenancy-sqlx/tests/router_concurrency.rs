//! Many transactions over many tenants in all three placements at once,
//! through one router with a small cache of database pools: no transaction
//! sees a foreign row, and the server never counts more connections to the
//! tenant databases than the cache allows.
//!
//! The default size keeps CI fast; `TENANCY_MODELS_FULL=1` runs 20,000
//! transactions over 1,000 tenants (900 shared, 60 in schemas of their
//! own, 40 in databases of their own) with a cache of 20 database pools.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use tenancy_sqlx::directory::{DatabaseUrl, Placement, StaticDirectory, TenantEntry};
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{Identifier, KeyValue, RouterOptions, TenantPool, TenantRouter};
use tenancy_test::TestResult;
use tenancy_test::models::{add_tenant_schema, seed_through};
use tenancy_test::shop::tables::Order;
use tenancy_test::shop::{order, pool_options, shop, tenant};

struct Size {
    transactions: usize,
    shared: i64,
    schemas: i64,
    databases: i64,
    pools: usize,
    connections: u32,
}

fn size() -> Size {
    match std::env::var("TENANCY_MODELS_FULL").as_deref() {
        Ok("1") => Size {
            transactions: 20_000,
            shared: 900,
            schemas: 60,
            databases: 40,
            pools: 20,
            connections: 40,
        },
        _ => Size {
            transactions: 2_000,
            shared: 80,
            schemas: 12,
            databases: 8,
            pools: 4,
            connections: 8,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_over_every_placement_see_no_foreign_row() -> TestResult {
    let started = Instant::now();
    let size = size();
    let shared: Vec<i64> = (1..=size.shared).collect();
    let main = shop(&shared).await?;
    let mut directory = StaticDirectory::new();
    for key in &shared {
        directory = directory.with(KeyValue::I64(*key), TenantEntry::active(Placement::Shared));
    }
    let schema_keys: Vec<i64> = (0..size.schemas).map(|i| 10_000 + i).collect();
    for key in &schema_keys {
        let name = format!("tenant_{key}");
        add_tenant_schema(&main, &name).await?;
        directory = directory.with(
            KeyValue::I64(*key),
            TenantEntry::active(Placement::Schema(Identifier::new("schema", &name)?)),
        );
    }
    let mut databases: Vec<TestDatabase> = Vec::new();
    let mut all_keys = shared.clone();
    all_keys.extend(&schema_keys);
    for i in 0..size.databases {
        let key = 20_000 + i;
        // Each tenant database also holds another tenant's rows, which a
        // leak there would find.
        let db = shop(&[key, 1]).await?;
        directory = directory.with(
            KeyValue::I64(key),
            TenantEntry::active(Placement::Database(DatabaseUrl::new(db.app_url())?)),
        );
        databases.push(db);
        all_keys.push(key);
    }
    let options = RouterOptions::new()
        .max_database_pools(size.pools)
        .max_database_connections(size.connections);
    let shared_pool = TenantPool::connect(&main.app_url(), pool_options()).await?;
    let router = TenantRouter::new(directory, shared_pool, pool_options(), options)?;
    for key in &schema_keys {
        seed_through(&router, *key).await?;
    }
    let set_up = started.elapsed();

    let admin = main.admin_pool().await?;
    let names: Vec<String> = databases.iter().map(|db| db.name().to_owned()).collect();
    let most = Arc::new(AtomicI64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (most, done) = (Arc::clone(&most), Arc::clone(&done));
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let seen: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND datname = ANY($2)",
                )
                .bind(APP_ROLE)
                .bind(&names)
                .fetch_one(&admin)
                .await?;
                most.fetch_max(seen, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok::<_, sqlx::Error>(())
        })
    };

    let all_keys = Arc::new(all_keys);
    let foreign = Arc::new(AtomicI64::new(0));
    let workers = 16;
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let (router, keys, foreign) = (router.clone(), Arc::clone(&all_keys), Arc::clone(&foreign));
        let count = size.transactions / workers;
        tasks.push(tokio::spawn(async move {
            // A fixed stride through the tenants: every placement, every
            // database, in an order that keeps evicting pools.
            for i in 0..count {
                let key = keys[(worker * 7919 + i * 104_729) % keys.len()];
                let tenant = tenant(key);
                let mut tx = router.begin(&tenant).await?;
                if i % 4 == 0 {
                    tx.execute(order(&tenant, 1, "concurrent")).await?;
                }
                let orders: Vec<Order> = tx.fetch_all(Order::select(&tenant)).await?;
                let raw: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM orders")
                    .persistent(false)
                    .fetch_all(tx.raw_connection())
                    .await?;
                tx.commit().await?;
                let strangers = orders
                    .iter()
                    .map(|o| o.tenant_id)
                    .chain(raw)
                    .filter(|t| *t != key);
                foreign.fetch_add(strangers.count() as i64, Ordering::Relaxed);
            }
            Ok::<_, tenancy_test::BoxError>(())
        }));
    }
    let running = Instant::now();
    for task in tasks {
        task.await??;
    }
    let ran = running.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.await??;
    let most = most.load(Ordering::Relaxed);
    eprintln!(
        "{} transactions over {} tenants ({} shared, {} schemas, {} databases, {} pools of {} \
         connections at most): set-up {set_up:?}, run {ran:?}, {} pools made, at most {most} \
         server connections to the tenant databases",
        size.transactions,
        all_keys.len(),
        size.shared,
        size.schemas,
        size.databases,
        size.pools,
        size.connections,
        router.database_pools_created()
    );
    assert_eq!(foreign.load(Ordering::Relaxed), 0);
    assert!(
        most <= i64::from(size.connections),
        "the server counted {most} connections"
    );
    assert!(
        router.database_pools_created() > size.pools as u64,
        "the cache never evicted"
    );
    Ok(())
}
