//! The shop the PostgreSQL suites run against: a global table and three
//! tenant tables chained by tenant-led composite foreign keys, seed data for
//! any number of tenants, and the pools to reach it as each role.
//!
//! Every tenant gets the *same* ids and e-mail addresses, so a statement that
//! forgets the tenant matches rows of other tenants instead of missing them.

use sqlx::PgPool;
use tenancy_sqlx::rls::{PolicyForm, RlsPolicy};
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{
    CrossTenant, Insert, OwnerPool, Postgres, TenantId, TenantPool, TenantPoolOptions,
};

use crate::TestResult;

/// The tenant the tests act as.
pub const A: i64 = 1;
/// The tenant whose rows must stay out of reach.
pub const B: i64 = 2;

/// Seeded customers per tenant: `ann`, `bob`, `cy` (ids 1–3).
pub const CUSTOMERS_PER_TENANT: i64 = 3;
/// Seeded orders per tenant (ids 1–4).
pub const ORDERS_PER_TENANT: i64 = 4;
/// Seeded order items per tenant (ids 1–8).
pub const ITEMS_PER_TENANT: i64 = 8;

/// Identity values start above the seeded ids, so rows inserted by the
/// tests never collide with seeded ones.
const FIRST_GENERATED_ID: i64 = 1000;

/// The witness of tenant `key`.
pub fn tenant(key: i64) -> TenantId<i64> {
    TenantId::from_verified(key)
}

/// The application's tables, as it would declare them.
pub mod tables {
    use tenancy_sqlx::ddl::TableSet;
    use tenancy_sqlx::{global_table, tenant_scoped};

    /// Plans, shared by every tenant.
    #[global_table]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Plan {
        /// The key.
        #[tenancy(primary_key)]
        pub id: i64,
        /// What it is called.
        pub name: String,
    }

    /// A tenant's customers.
    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Customer {
        /// The tenant.
        pub tenant_id: i64,
        /// The key.
        #[tenancy(primary_key, generated)]
        pub id: i64,
        /// Unique within the tenant.
        #[tenancy(unique)]
        pub email: String,
        /// The name.
        pub name: String,
        /// The customer's plan.
        #[tenancy(references = Plan)]
        pub plan_id: i64,
    }

    /// A tenant's orders.
    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Order {
        /// The tenant.
        pub tenant_id: i64,
        /// The key.
        #[tenancy(primary_key, generated)]
        pub id: i64,
        /// Who ordered.
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        /// `open`, `paid`, `shipped`…
        #[tenancy(index)]
        pub status: String,
        /// `tenant * 1000 + id` when seeded, so that a total names its tenant.
        pub total_cents: i64,
    }

    /// The lines of an order.
    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct OrderItem {
        /// The tenant.
        pub tenant_id: i64,
        /// The key.
        #[tenancy(primary_key, generated)]
        pub id: i64,
        /// The order.
        #[tenancy(references = Order)]
        pub order_id: i64,
        /// `sku-<tenant>-<id>` when seeded.
        pub sku: String,
        /// How many.
        pub quantity: i32,
    }

    /// The tables above, referenced tables first.
    pub fn table_set() -> TableSet {
        TableSet::new()
            .with::<Plan>()
            .with::<Customer>()
            .with::<Order>()
            .with::<OrderItem>()
    }
}

/// A new customer of `tenant` with `email`, on the free plan (plan 1).
pub fn customer(tenant: &TenantId<i64>, email: &str) -> Insert<tables::Customer> {
    use tables::Customer;
    Customer::insert(tenant)
        .set(Customer::EMAIL, email.to_owned())
        .set(Customer::NAME, format!("Customer {email}"))
        .set(Customer::PLAN_ID, 1)
}

/// A new order of `tenant`'s `customer`, with `status`.
pub fn order(tenant: &TenantId<i64>, customer: i64, status: &str) -> Insert<tables::Order> {
    use tables::Order;
    Order::insert(tenant)
        .set(Order::CUSTOMER_ID, customer)
        .set(Order::STATUS, status.to_owned())
        .set(Order::TOTAL_CENTS, 100)
}

/// The free plan (id 1), which [`customer`] refers to; the seed of [`shop`]
/// has it already.
pub fn free_plan() -> Insert<tables::Plan> {
    use tables::Plan;
    Plan::insert()
        .set(Plan::ID, 1)
        .set(Plan::NAME, "free".to_owned())
}

/// Seed rows, identical in shape for every tenant: customers 1–3
/// (`ann`, `bob`, `cy` @example.test), orders 1–4 (`total_cents` is
/// `tenant * 1000 + id`), items 1–8 (two per order, `sku-<tenant>-<id>`).
/// Each statement takes the tenants as `$1`; the plans (`free`, `pro`) are
/// seeded whatever the tenants.
const SEED: [&str; 4] = [
    "INSERT INTO plans (id, name) VALUES (1, 'free'), (2, 'pro')
     ON CONFLICT DO NOTHING",
    "INSERT INTO customers (tenant_id, id, email, name, plan_id)
     SELECT t, c, who || '@example.test', initcap(who) || ' of tenant ' || t, 1 + c % 2
     FROM unnest($1::bigint[]) AS t,
          unnest(ARRAY['ann', 'bob', 'cy']) WITH ORDINALITY AS w(who, c)",
    "INSERT INTO orders (tenant_id, id, customer_id, status, total_cents)
     SELECT t, o, 1 + (o - 1) % 3, (ARRAY['open', 'paid', 'shipped', 'open'])[o], t * 1000 + o
     FROM unnest($1::bigint[]) AS t, generate_series(1, 4) AS o",
    "INSERT INTO order_items (tenant_id, id, order_id, sku, quantity)
     SELECT t, i, 1 + (i - 1) % 4, 'sku-' || t || '-' || i, i
     FROM unnest($1::bigint[]) AS t, generate_series(1, 8) AS i",
];

/// A fresh database with the shop's tables, seeded for `tenants` (none for
/// an empty shop, which still has its plans), then protected by the
/// library's RLS DDL for the application role — all as the owner role, the
/// way a deployment's migrations run. The application role gets exactly the
/// generated grants.
pub async fn shop(tenants: &[i64]) -> TestResult<TestDatabase> {
    shop_with_policy(tenants, &RlsPolicy::for_role(APP_ROLE)?).await
}

/// [`shop`], its policies written in `form`.
pub async fn shop_in_form(tenants: &[i64], form: PolicyForm) -> TestResult<TestDatabase> {
    shop_with_policy(tenants, &RlsPolicy::for_role(APP_ROLE)?.with_form(form)).await
}

/// [`shop`], with another policy (say, one `TO PUBLIC`, which applies to the
/// owner as well, and grants nothing).
pub async fn shop_with_policy(tenants: &[i64], policy: &RlsPolicy) -> TestResult<TestDatabase> {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    // Rows go in before RLS is switched on: once it is forced, the owner
    // may write only the rows a policy lets it write.
    let mut tx = owner.begin().await?;
    for statement in tables::table_set().create_statements(tenancy_sqlx::Dialect::Postgres)? {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await?;
    }
    for statement in SEED {
        sqlx::query(statement)
            .bind(tenants)
            .execute(&mut *tx)
            .await?;
    }
    for table in ["customers", "orders", "order_items"] {
        sqlx::query("SELECT setval(pg_get_serial_sequence($1, 'id'), $2)")
            .bind(table)
            .bind(FIRST_GENERATED_ID)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    owner_pool(&db)
        .await?
        .apply_rls(&tables::table_set(), policy)
        .await?;
    Ok(db)
}

/// The owner role, through the library's owner pool.
pub async fn owner_pool(db: &TestDatabase) -> TestResult<OwnerPool> {
    Ok(OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("test set-up: the shop")?,
    )
    .with_tables(&tables::table_set()))
}

/// The application's tenant pool, as the application role.
pub async fn tenant_pool(db: &TestDatabase) -> TestResult<TenantPool> {
    Ok(TenantPool::<Postgres>::connect(&db.app_url(), pool_options()).await?)
}

/// The tenant pool's options: the shop's tables registered.
pub fn pool_options() -> TenantPoolOptions {
    TenantPoolOptions::new(&tables::table_set())
}

/// Every row that does not belong to `tenant`, in every table, with its
/// `xmin` and `ctid`: any write to a row — even one that sets a column to the
/// value it had — gives it a new version and changes its line. Read as the
/// superuser, so no policy hides a row from the comparison.
pub async fn rows_outside(admin: &PgPool, tenant: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT 'plans ' || xmin::text || ' ' || ctid::text || ' ' || t::text FROM plans t
         UNION ALL
         SELECT 'customers ' || xmin::text || ' ' || ctid::text || ' ' || t::text
         FROM customers t WHERE tenant_id <> $1
         UNION ALL
         SELECT 'orders ' || xmin::text || ' ' || ctid::text || ' ' || t::text
         FROM orders t WHERE tenant_id <> $1
         UNION ALL
         SELECT 'order_items ' || xmin::text || ' ' || ctid::text || ' ' || t::text
         FROM order_items t WHERE tenant_id <> $1
         ORDER BY 1",
    )
    .bind(tenant)
    .fetch_all(admin)
    .await
}
