//! `tenant_sql!` statements through tenant transactions, on PostgreSQL (as
//! the application role, RLS forced) and on SQLite (no RLS: the checked
//! conjuncts are the only guard there). Two tenants have the same ids and
//! names, so a statement that lost its tenant would match the other's
//! rows; their totals say whose a row is. Reads with joins, a `WITH` query
//! and subqueries, updates, deletes and inserts each touch only the
//! transaction's tenant's rows, and a statement made for another tenant is
//! refused before anything is sent.

use sqlx::{PgPool, Sqlite};
use tables::{Customer, Order, Plan};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{
    Backend, BuildError, CrossTenant, Error, OwnerPool, Postgres, TenantId, TenantPool,
    TenantPoolOptions, TenantSql, tenant_sql,
};
use tenancy_test::server::{backends, single_connection_pool};

type TestResult = tenancy_test::TestResult;

mod tables {
    use tenancy_sqlx::{global_table, tenant_scoped};

    #[global_table]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Plan {
        #[tenancy(primary_key)]
        pub id: i64,
        pub name: String,
    }

    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Customer {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub name: String,
        #[tenancy(references = Plan)]
        pub plan_id: i64,
    }

    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Order {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        pub status: String,
        pub total_cents: i64,
    }
}

/// The tenant the tests act as.
const A: i64 = 1;
/// The tenant whose rows must stay out of reach.
const B: i64 = 2;

fn tenant(key: i64) -> TenantId {
    TenantId::from_verified(key)
}

fn table_set() -> TableSet {
    TableSet::new()
        .with::<Plan>()
        .with::<Customer>()
        .with::<Order>()
}

// ---- the statements, the same on both backends ----

fn insert_customer(tenant: &TenantId, id: i64, name: &str, plan: i64) -> TenantSql {
    tenant_sql!(
        tenant,
        "INSERT INTO {Customer} (tenant_id, id, name, plan_id) VALUES ($tenant, $id, $name, $plan)",
        id,
        name,
        plan,
    )
}

fn insert_order(tenant: &TenantId, id: i64, customer: i64, status: &str) -> TenantSql {
    tenant_sql!(
        tenant,
        "INSERT INTO {Order} (tenant_id, id, customer_id, status, total_cents)
         VALUES ($tenant, $id, $customer, $status, $tenant * 1000 + $id)",
        id,
        customer,
        status,
    )
}

/// Per customer with orders of `status`: their sum and count, and the
/// customer's plan (a global table), through a `WITH` query, a join, a
/// left join and an `EXISTS` subquery, each confined.
fn spend_per_customer(tenant: &TenantId, status: &str) -> TenantSql {
    tenant_sql!(
        tenant,
        "WITH spend AS (
             SELECT o.customer_id, CAST(sum(o.total_cents) AS BIGINT) AS total, count(*) AS orders
             FROM {Order} o
             WHERE o.tenant_id = $tenant AND o.status = $status
             GROUP BY o.customer_id
         )
         SELECT c.name, p.name AS plan, spend.total, spend.orders
         FROM {Customer} c
         JOIN spend ON spend.customer_id = c.id
         LEFT JOIN {Plan} p ON p.id = c.plan_id
         WHERE c.tenant_id = $tenant
           AND EXISTS (SELECT 1 FROM {Order} mine
                       WHERE mine.tenant_id = $tenant AND mine.customer_id = c.id)
         ORDER BY c.name",
        status,
    )
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Spend {
    name: String,
    plan: Option<String>,
    total: i64,
    orders: i64,
}

/// Marks the open orders of the customer named `customer` paid.
fn mark_paid(tenant: &TenantId, customer: &str) -> TenantSql {
    tenant_sql!(
        tenant,
        "UPDATE {Order} AS o SET status = 'paid'
         WHERE o.tenant_id = $tenant AND o.status = 'open'
           AND o.customer_id IN (SELECT c.id FROM {Customer} c
                                 WHERE c.tenant_id = $tenant AND c.name = $customer)",
        customer,
    )
}

/// Deletes the orders of `status`.
fn delete_orders(tenant: &TenantId, status: &str) -> TenantSql {
    tenant_sql!(
        tenant,
        "DELETE FROM {Order} AS o WHERE o.tenant_id = $tenant AND o.status = $status",
        status,
    )
}

/// Copies each of the tenant's orders under a new id.
fn copy_orders(tenant: &TenantId, offset: i64) -> TenantSql {
    tenant_sql!(
        tenant,
        "INSERT INTO {Order} (tenant_id, id, customer_id, status, total_cents)
         SELECT $tenant, o.id + $offset, o.customer_id, 'copy', o.total_cents
         FROM {Order} o WHERE o.tenant_id = $tenant",
        offset,
    )
}

fn orders(tenant: &TenantId) -> TenantSql {
    tenant_sql!(
        tenant,
        "SELECT o.tenant_id, o.id, o.customer_id, o.status, o.total_cents
         FROM {Order} o WHERE o.tenant_id = $tenant ORDER BY o.id"
    )
}

/// The global plans 1 `free` and 2 `pro`, by the owner.
async fn seed_plans<DB: Backend>(owner: &OwnerPool<DB>) -> Result<(), Error> {
    for (id, name) in [(1, "free"), (2, "pro")] {
        owner
            .execute(
                Plan::insert()
                    .set(Plan::ID, id)
                    .set(Plan::NAME, name.to_owned()),
            )
            .await?;
    }
    Ok(())
}

/// For each tenant: customers 1 `ann` (plan 1) and 2 `bob` (plan 2);
/// orders 1 (ann, open), 2 (ann, paid), 3 (bob, open), each with total
/// `tenant * 1000 + id`. Written with `tenant_sql!` inserts, through tenant
/// transactions (on PostgreSQL under the policies' `WITH CHECK`).
async fn seed<DB: Backend>(pool: &TenantPool<DB>, key: i64) -> TestResult {
    let tenant = tenant(key);
    let mut tx = pool.begin(&tenant).await?;
    for (id, name, plan) in [(1, "ann", 1), (2, "bob", 2)] {
        assert_eq!(
            tx.execute(insert_customer(&tenant, id, name, plan)).await?,
            1
        );
    }
    for (id, customer, status) in [(1, 1, "open"), (2, 1, "paid"), (3, 2, "open")] {
        assert_eq!(
            tx.execute(insert_order(&tenant, id, customer, status))
                .await?,
            1
        );
    }
    tx.commit().await?;
    Ok(())
}

/// The orders of tenant `key`, read with the builder (not with the
/// statements under test).
async fn orders_of<DB: Backend>(pool: &TenantPool<DB>, key: i64) -> Result<Vec<Order>, Error>
where
    Order: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(key);
    let mut tx = pool.begin(&tenant).await?;
    let rows = tx
        .fetch_all(Order::select(&tenant).order_by_asc(Order::ID))
        .await?;
    tx.rollback().await?;
    Ok(rows)
}

fn seeded_orders(key: i64) -> Vec<Order> {
    [(1, 1, "open"), (2, 1, "paid"), (3, 2, "open")]
        .into_iter()
        .map(|(id, customer_id, status)| Order {
            tenant_id: key,
            id,
            customer_id,
            status: status.to_owned(),
            total_cents: key * 1000 + id,
        })
        .collect()
}

/// Runs every statement as tenant A and checks what A sees and what is
/// left of B's rows (read with the builder) after each write.
async fn exercise<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Order: for<'r> sqlx::FromRow<'r, DB::Row>,
    Spend: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let a = tenant(A);
    let theirs = seeded_orders(B);

    // Reads.
    let mut tx = pool.begin(&a).await?;
    let open: Vec<Spend> = tx.fetch_all(spend_per_customer(&a, "open")).await?;
    assert_eq!(
        open,
        [
            Spend {
                name: "ann".into(),
                plan: Some("free".into()),
                total: 1001,
                orders: 1
            },
            Spend {
                name: "bob".into(),
                plan: Some("pro".into()),
                total: 1003,
                orders: 1
            },
        ]
    );
    // A value is bound, never read as SQL.
    let hostile = spend_per_customer(&a, "open' OR 'x' = 'x");
    let built = tenancy_sqlx::BuildStatement::build(&hostile, DB::DIALECT)?;
    assert!(!built.sql().contains("'x'"), "{}", built.sql());
    let none: Vec<Spend> = tx.fetch_all(hostile).await?;
    assert_eq!(none, []);
    let all: Vec<Order> = tx.fetch_all(orders(&a)).await?;
    assert_eq!(all, seeded_orders(A));
    let first: Option<Order> = tx.fetch_optional(orders(&a)).await?;
    assert_eq!(first.map(|order| order.total_cents), Some(1001));
    let one: Order = tx.fetch_one(orders(&a)).await?;
    assert_eq!(one.id, 1);
    tx.commit().await?;

    // An update: only A's open order of ann.
    let mut tx = pool.begin(&a).await?;
    assert_eq!(tx.execute(mark_paid(&a, "ann")).await?, 1);
    tx.commit().await?;
    let mine = orders_of(pool, A).await?;
    let statuses: Vec<&str> = mine.iter().map(|order| order.status.as_str()).collect();
    assert_eq!(statuses, ["paid", "paid", "open"]);
    assert_eq!(orders_of(pool, B).await?, theirs, "B's rows were updated");

    // An insert from a select: copies of A's orders only.
    let mut tx = pool.begin(&a).await?;
    assert_eq!(tx.execute(copy_orders(&a, 100)).await?, 3);
    tx.commit().await?;
    let mine = orders_of(pool, A).await?;
    let copies: Vec<(i64, i64)> = mine
        .iter()
        .filter(|order| order.status == "copy")
        .map(|order| (order.id, order.total_cents))
        .collect();
    assert_eq!(copies, [(101, 1001), (102, 1002), (103, 1003)]);
    assert_eq!(
        orders_of(pool, B).await?,
        theirs,
        "B's rows were copied or changed"
    );

    // A delete: only A's copies.
    let mut tx = pool.begin(&a).await?;
    assert_eq!(tx.execute(delete_orders(&a, "copy")).await?, 3);
    assert_eq!(tx.execute(delete_orders(&a, "open")).await?, 1);
    tx.commit().await?;
    assert_eq!(orders_of(pool, A).await?.len(), 2);
    assert_eq!(orders_of(pool, B).await?, theirs, "B's rows were deleted");
    Ok(())
}

/// A's statement in B's transaction is refused by the transaction itself,
/// whatever it is, and the transaction goes on.
async fn refuse_other_tenant<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Order: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let (a, b) = (tenant(A), tenant(B));
    let mut tx = pool.begin(&b).await?;
    let refused = tx.fetch_all::<Order>(orders(&a)).await;
    assert!(
        matches!(
            refused,
            Err(Error::TenantMismatch { statement, transaction })
                if statement == a.key_value() && transaction == b.key_value()
        ),
        "{refused:?}"
    );
    let refused = tx.execute(delete_orders(&a, "open")).await;
    assert!(
        matches!(refused, Err(Error::TenantMismatch { .. })),
        "{refused:?}"
    );
    let still: Vec<Order> = tx.fetch_all(orders(&b)).await?;
    assert_eq!(still, seeded_orders(B));
    tx.commit().await?;
    Ok(())
}

/// In tenant transaction `$tx` (of tenant A): shadows `orders` with a
/// temporary table of one row, shows that unqualified raw SQL now reads the
/// shadow, and that `tenant_sql!` statements still read and write the real
/// table, whose name they qualify. (A macro: the raw SQL is the same on
/// both backends, its executor types are not.)
macro_rules! shadowed {
    ($tx:expr) => {{
        let tx = $tx;
        let a = tenant(A);
        sqlx::raw_sql(
            "CREATE TEMPORARY TABLE orders
                 (tenant_id BIGINT, id BIGINT, customer_id BIGINT, status TEXT, total_cents BIGINT);
             INSERT INTO orders VALUES (1, 99, 1, 'open', 99)",
        )
        .execute(&mut *tx.raw_connection())
        .await?;
        let unqualified: Vec<i64> = sqlx::query_scalar("SELECT id FROM orders")
            .fetch_all(&mut *tx.raw_connection())
            .await?;
        assert_eq!(unqualified, [99], "the shadow does not capture raw SQL");

        let read: Vec<Order> = tx.fetch_all(orders(&a)).await?;
        assert_eq!(read, seeded_orders(A));
        assert_eq!(tx.execute(mark_paid(&a, "ann")).await?, 1);
        let shadow: Vec<String> = sqlx::query_scalar("SELECT status FROM orders")
            .fetch_all(&mut *tx.raw_connection())
            .await?;
        assert_eq!(shadow, ["open"], "a tenant_sql! write reached the shadow");
    }};
}

// ---- PostgreSQL ----

/// A fresh database with the tables, RLS forced for the application role,
/// plans seeded by the owner, and both tenants' rows seeded through the
/// application's tenant pool.
async fn postgres() -> Result<(TestDatabase, TenantPool), tenancy_test::BoxError> {
    let db = TestDatabase::create().await?;
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("tenant_sql! tests: set-up")?,
    )
    .with_tables(&table_set());
    owner
        .apply_schema(&table_set(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    seed_plans(&owner).await?;
    let pool = TenantPool::<Postgres>::connect(&db.app_url(), TenantPoolOptions::new(&table_set()))
        .await?;
    seed(&pool, A).await?;
    seed(&pool, B).await?;
    Ok((db, pool))
}

/// Every row of tenant `key` with its `xmin` and `ctid`, read as the
/// superuser (whom no policy filters): a write to a row, even one that
/// changes nothing, gives it a new version.
async fn versions(admin: &PgPool, key: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT 'orders ' || xmin::text || ' ' || ctid::text || ' ' || t::text
         FROM orders t WHERE tenant_id = $1
         UNION ALL
         SELECT 'customers ' || xmin::text || ' ' || ctid::text || ' ' || t::text
         FROM customers t WHERE tenant_id = $1
         ORDER BY 1",
    )
    .bind(key)
    .fetch_all(admin)
    .await
}

#[tokio::test]
async fn postgres_statements_touch_only_the_tenant_s_rows() -> TestResult {
    let (db, pool) = postgres().await?;
    let admin = db.admin_pool().await?;
    let before = versions(&admin, B).await?;
    assert_eq!(before.len(), 5);
    exercise(&pool).await?;
    assert_eq!(
        versions(&admin, B).await?,
        before,
        "a write reached B's rows"
    );
    Ok(())
}

#[tokio::test]
async fn postgres_upsert_updates_only_the_tenant_s_row() -> TestResult {
    let (db, pool) = postgres().await?;
    let admin = db.admin_pool().await?;
    let before = versions(&admin, B).await?;
    let a = tenant(A);
    let mut tx = pool.begin(&a).await?;
    // Order 3 exists for both tenants: the conflict is on A's.
    let (total,): (i64,) = tx
        .fetch_one(tenant_sql!(
            &a,
            "INSERT INTO {Order} AS o (tenant_id, id, customer_id, status, total_cents)
             VALUES ($tenant, 3, 2, 'open', $extra)
             ON CONFLICT (tenant_id, id) DO UPDATE SET total_cents = o.total_cents + excluded.total_cents
             RETURNING o.total_cents",
            extra = 10_i64,
        ))
        .await?;
    assert_eq!(total, 1013);
    // UPDATE .. FROM and DELETE .. USING, PostgreSQL's forms.
    let moved = tx
        .execute(tenant_sql!(
            &a,
            "UPDATE {Order} AS o SET status = 'vip' FROM {Customer} c
             WHERE o.tenant_id = $tenant AND c.tenant_id = $tenant
               AND c.id = o.customer_id AND c.plan_id = $plan",
            plan = 2_i64,
        ))
        .await?;
    assert_eq!(moved, 1);
    let gone = tx
        .execute(tenant_sql!(
            &a,
            "DELETE FROM {Order} AS o USING {Customer} c
             WHERE o.tenant_id = $tenant AND c.tenant_id = $tenant
               AND c.id = o.customer_id AND c.name = 'ann' AND o.status = 'paid'"
        ))
        .await?;
    assert_eq!(gone, 1);
    tx.commit().await?;
    assert_eq!(
        versions(&admin, B).await?,
        before,
        "a write reached B's rows"
    );
    Ok(())
}

#[tokio::test]
async fn postgres_refuses_another_tenant_s_statement_before_sending_it() -> TestResult {
    let (db, _) = postgres().await?;
    let admin = db.admin_pool().await?;
    let pool = single_connection_pool(
        &db.app_url(),
        "tenant-sql-mismatch",
        TenantPoolOptions::new(&table_set()),
    )
    .await?;
    let (a, b) = (tenant(A), tenant(B));
    let mut tx = pool.begin(&b).await?;
    let before = backends(&admin, "tenant-sql-mismatch").await?;
    let refused = tx.execute(delete_orders(&a, "open")).await;
    assert!(
        matches!(refused, Err(Error::TenantMismatch { .. })),
        "{refused:?}"
    );
    let after = backends(&admin, "tenant-sql-mismatch").await?;
    assert_eq!(after, before, "the refused statement reached the server");
    tx.rollback().await?;
    refuse_other_tenant(&pool).await
}

#[tokio::test]
async fn postgres_runs_postgres_only_syntax() -> TestResult {
    let (_db, pool) = postgres().await?;
    let a = tenant(A);
    let mut tx = pool.begin(&a).await?;
    let labels: Vec<(String,)> = tx
        .fetch_all(tenant_sql!(
            &a,
            "SELECT o.total_cents::text || ':' || o.status FROM {Order} o
             WHERE o.tenant_id = $tenant ORDER BY o.id"
        ))
        .await?;
    let labels: Vec<String> = labels.into_iter().map(|(label,)| label).collect();
    assert_eq!(labels, ["1001:open", "1002:paid", "1003:open"]);
    Ok(())
}

#[tokio::test]
async fn postgres_a_temporary_table_cannot_capture_a_statement() -> TestResult {
    let (_db, pool) = postgres().await?;
    let mut tx = pool.begin(&tenant(A)).await?;
    shadowed!(&mut tx);
    tx.rollback().await?;
    Ok(())
}

// ---- SQLite ----

async fn sqlite() -> Result<TenantPool<Sqlite>, tenancy_test::BoxError> {
    let pool =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&table_set())).await?;
    let owner = pool.owner_pool(CrossTenant::with_reason("tenant_sql! tests: set-up")?);
    owner.apply_schema(&table_set()).await?;
    seed_plans(&owner).await?;
    seed(&pool, A).await?;
    seed(&pool, B).await?;
    Ok(pool)
}

#[tokio::test]
async fn sqlite_statements_touch_only_the_tenant_s_rows() -> TestResult {
    let pool = sqlite().await?;
    exercise(&pool).await
}

#[tokio::test]
async fn sqlite_refuses_another_tenant_s_statement() -> TestResult {
    let pool = sqlite().await?;
    refuse_other_tenant(&pool).await
}

#[tokio::test]
async fn sqlite_refuses_postgres_only_syntax_before_sending_it() -> TestResult {
    let pool = sqlite().await?;
    let a = tenant(A);
    let mut tx = pool.begin(&a).await?;
    let refused = tx
        .fetch_all::<(String,)>(tenant_sql!(
            &a,
            "SELECT o.total_cents::text FROM {Order} o WHERE o.tenant_id = $tenant"
        ))
        .await;
    match refused {
        Err(Error::Build(BuildError::PostgresOnlySql { reason })) => {
            assert!(
                reason.starts_with("`::` is PostgreSQL-only syntax"),
                "{reason}"
            );
        }
        other => return Err(format!("expected PostgresOnlySql, got {other:?}").into()),
    }
    // The transaction is untouched: SQLite never saw the statement.
    let portable: Vec<(String,)> = tx
        .fetch_all(tenant_sql!(
            &a,
            "SELECT CAST(o.total_cents AS TEXT) FROM {Order} o WHERE o.tenant_id = $tenant ORDER BY o.id"
        ))
        .await?;
    assert_eq!(portable.len(), 3);
    assert_eq!(portable[0].0, "1001");
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn sqlite_a_temporary_table_cannot_capture_a_statement() -> TestResult {
    let pool = sqlite().await?;
    let mut tx = pool.begin(&tenant(A)).await?;
    shadowed!(&mut tx);
    tx.rollback().await?;
    Ok(())
}
