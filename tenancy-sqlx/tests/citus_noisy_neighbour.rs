//! A large tenant moved out of its neighbours' way on a real Citus cluster:
//! isolated into shards of its own, then moved to the other worker, with its
//! reads and writes working before and after and its neighbours untouched.

use tenancy_sqlx::citus::{self, ShardPlacement, TenantShard};
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, CitusTestDatabase};
use tenancy_sqlx::{CrossTenant, OwnerPool, Postgres, Table, TenantPool};
use tenancy_test::TestResult;
use tenancy_test::shop::tables::{Customer, Order, OrderItem, table_set};
use tenancy_test::shop::{customer, order, pool_options, tenant};

const LARGE: i64 = 7;
const NEIGHBOUR: i64 = 8;

/// Writes an order for `key` and returns how many orders it has.
async fn write_and_count(pool: &TenantPool, key: i64) -> TestResult<usize> {
    let tenant = tenant(key);
    let mut tx = pool.begin(&tenant).await?;
    let existing: Option<Customer> = tx.fetch_optional(Customer::select(&tenant)).await?;
    let customer_id = match existing {
        Some(found) => found.id,
        None => {
            tx.execute(customer(&tenant, "big@example.test")).await?;
            tx.fetch_one::<Customer>(Customer::select(&tenant))
                .await?
                .id
        }
    };
    tx.execute(order(&tenant, customer_id, "open")).await?;
    let orders: Vec<Order> = tx.fetch_all(Order::select(&tenant)).await?;
    assert!(orders.iter().all(|order| order.tenant_id == key));
    tx.commit().await?;
    Ok(orders.len())
}

#[tokio::test]
async fn a_tenant_isolated_and_moved_keeps_reading_and_writing() -> TestResult {
    let db = CitusTestDatabase::create().await?;
    let owner = OwnerPool::from_pool(
        db.coordinator().owner_pool().await?,
        CrossTenant::with_reason("test set-up: the distributed shop")?,
    );
    owner
        .apply_schema(&table_set(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    let admin = db.coordinator().admin_pool().await?;
    sqlx::query("INSERT INTO plans (id, name) VALUES (1, 'free')")
        .execute(&admin)
        .await?;
    let pool = TenantPool::<Postgres>::connect(&db.coordinator().app_url(), pool_options()).await?;
    assert_eq!(write_and_count(&pool, LARGE).await?, 1);
    assert_eq!(write_and_count(&pool, NEIGHBOUR).await?, 1);

    // Isolating and moving shards is the superuser's work in Citus.
    let mut operator = admin.acquire().await?;
    let orders = TenantShard::of(Order::meta(), LARGE)?;
    let before = citus::tenant_placement(&mut operator, &orders).await?;
    let isolated = citus::isolate_tenant(&mut operator, &orders).await?;
    assert!(!before.isolated);
    assert_ne!(isolated.shard_id, before.shard_id);
    assert!(isolated.isolated);
    let (min, max): (String, String) =
        sqlx::query_as("SELECT shardminvalue, shardmaxvalue FROM pg_dist_shard WHERE shardid = $1")
            .bind(isolated.shard_id)
            .fetch_one(&mut *operator)
            .await?;
    assert_eq!(min, max, "the new shard holds one hash value: the tenant's");
    // Every colocated table followed.
    for table in [Customer::meta(), OrderItem::meta()] {
        let placement =
            citus::tenant_placement(&mut operator, &TenantShard::of(table, LARGE)?).await?;
        let (min, max): (String, String) = sqlx::query_as(
            "SELECT shardminvalue, shardmaxvalue FROM pg_dist_shard WHERE shardid = $1",
        )
        .bind(placement.shard_id)
        .fetch_one(&mut *operator)
        .await?;
        assert_eq!(min, max, "{}", table.name);
    }
    // Again: nothing changes.
    assert_eq!(
        citus::isolate_tenant(&mut operator, &orders).await?,
        isolated
    );
    assert_eq!(write_and_count(&pool, LARGE).await?, 2);
    assert_eq!(write_and_count(&pool, NEIGHBOUR).await?, 2);

    // To the other worker.
    let other = db
        .workers()
        .iter()
        .map(|worker| i32::from(port_of(worker.app_url().as_str())))
        .find(|port| *port != isolated.port)
        .ok_or("one worker only")?;
    let moved: ShardPlacement =
        citus::move_tenant(&mut operator, &orders, &isolated.host, other).await?;
    assert_eq!(moved.shard_id, isolated.shard_id);
    assert_eq!(moved.port, other);
    assert_eq!(
        citus::tenant_placement(&mut operator, &TenantShard::of(Customer::meta(), LARGE)?)
            .await?
            .port,
        other
    );
    assert_eq!(write_and_count(&pool, LARGE).await?, 3);
    assert_eq!(write_and_count(&pool, NEIGHBOUR).await?, 3);
    Ok(())
}

fn port_of(url: &str) -> u16 {
    url::Url::parse(url)
        .ok()
        .and_then(|url| url.port())
        .unwrap_or(5432)
}
