//! Two tenants, every read and write path as tenant A, and B's rows exactly
//! as they were — with both layers, and with each layer alone: the builder's
//! predicate without Row Level Security, and Row Level Security without the
//! builder.

use sqlx::PgConnection;
use tenancy_sqlx::{Filter, TenantTransaction};
use tenancy_test::TestResult;
use tenancy_test::shop::tables::{Customer, Order, OrderItem, Plan};
use tenancy_test::shop::{A, B, rows_outside, shop, tenant, tenant_pool};

/// Raw SQL without any tenant predicate, each statement returning the tenant
/// of every row it read or wrote, with the number of those rows that are
/// tenant A's. Ids and e-mail addresses are the same in every tenant, so
/// each statement matches B's rows too unless something filters them.
const UNFILTERED: [(&str, usize); 9] = [
    ("SELECT tenant_id FROM customers", 3),
    (
        "SELECT o.tenant_id FROM orders o JOIN customers c ON c.id = o.customer_id",
        4,
    ),
    // Totals above 2000 are B's.
    ("SELECT tenant_id FROM orders WHERE total_cents > 2000", 0),
    (
        "SELECT tenant_id FROM customers
         WHERE id IN (SELECT customer_id FROM orders WHERE total_cents > 2000)",
        0,
    ),
    (
        "SELECT c.tenant_id FROM customers c JOIN plans p ON p.id = c.plan_id
         WHERE c.email = 'ann@example.test'",
        1,
    ),
    ("UPDATE orders SET status = 'raw' RETURNING tenant_id", 4),
    (
        "UPDATE customers SET name = name || '!' WHERE email = 'ann@example.test'
         RETURNING tenant_id",
        1,
    ),
    (
        "DELETE FROM order_items WHERE id > 6 RETURNING tenant_id",
        2,
    ),
    (
        "UPDATE orders SET total_cents = 0 WHERE total_cents > 2000 RETURNING tenant_id",
        0,
    ),
];

/// The statements of [`UNFILTERED`] that only read.
fn unfiltered_reads() -> impl Iterator<Item = (&'static str, usize)> {
    UNFILTERED
        .into_iter()
        .filter(|(sql, _)| sql.starts_with("SELECT"))
}

async fn tenants_touched(conn: &mut PgConnection, sql: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(conn)
        .await
}

#[tokio::test]
async fn every_path_as_tenant_a_leaves_tenant_b_untouched() -> TestResult {
    let db = shop(&[A, B]).await?;
    let admin = db.admin_pool().await?;
    let pool = tenant_pool(&db).await?;
    let before = rows_outside(&admin, A).await?;

    let mut tx = pool.begin(&tenant(A)).await?;
    every_builder_path(&mut tx).await?;
    tx.commit().await?;

    assert_eq!(rows_outside(&admin, A).await?, before, "B's rows changed");
    assert_a_was_written(&admin).await
}

/// Layer 3 alone: raw SQL through the transaction's escape hatch carries no
/// tenant predicate, and the policies still confine it to A.
#[tokio::test]
async fn without_the_builder_row_level_security_alone_confines_raw_sql() -> TestResult {
    let db = shop(&[A, B]).await?;
    let admin = db.admin_pool().await?;
    let owner = db.owner_pool().await?;

    // The same SQL with the policies out of the way — the owner, RLS
    // disabled inside a transaction that is then rolled back — reaches B.
    let mut unprotected = owner.begin().await?;
    sqlx::raw_sql(
        "ALTER TABLE customers DISABLE ROW LEVEL SECURITY;
         ALTER TABLE orders DISABLE ROW LEVEL SECURITY;
         ALTER TABLE order_items DISABLE ROW LEVEL SECURITY;",
    )
    .execute(&mut *unprotected)
    .await?;
    for (sql, _) in UNFILTERED {
        let touched = tenants_touched(&mut unprotected, sql).await?;
        assert!(
            touched.contains(&B),
            "without RLS, {sql:?} should reach B: {touched:?}"
        );
    }
    unprotected.rollback().await?;

    let before = rows_outside(&admin, A).await?;
    let pool = tenant_pool(&db).await?;
    let mut tx = pool.begin(&tenant(A)).await?;
    for (sql, rows_of_a) in UNFILTERED {
        let touched = tenants_touched(tx.raw_connection(), sql).await?;
        assert_eq!(touched, vec![A; rows_of_a], "as tenant A: {sql:?}");
    }
    tx.commit().await?;
    assert_eq!(rows_outside(&admin, A).await?, before, "B's rows changed");

    let written: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT status FROM orders WHERE tenant_id = $1")
            .bind(A)
            .fetch_all(&admin)
            .await?;
    assert_eq!(written, ["raw"], "A's own rows were not written");
    Ok(())
}

/// Layer 2 alone: with RLS disabled on every table, the builder's predicate
/// is all that keeps tenant A to its rows.
#[tokio::test]
async fn without_row_level_security_the_builder_alone_confines_the_tenant() -> TestResult {
    let db = shop(&[A, B]).await?;
    let admin = db.admin_pool().await?;
    sqlx::raw_sql(
        "ALTER TABLE customers DISABLE ROW LEVEL SECURITY;
         ALTER TABLE orders DISABLE ROW LEVEL SECURITY;
         ALTER TABLE order_items DISABLE ROW LEVEL SECURITY;",
    )
    .execute(&db.owner_pool().await?)
    .await?;
    let pool = tenant_pool(&db).await?;
    let before = rows_outside(&admin, A).await?;

    let mut tx = pool.begin(&tenant(A)).await?;
    // The database no longer filters anything for the application role...
    for (sql, _) in unfiltered_reads() {
        let touched = tenants_touched(tx.raw_connection(), sql).await?;
        assert!(
            touched.contains(&B),
            "RLS still filters {sql:?}: {touched:?}"
        );
    }
    // ...and every statement the builder makes still stays within A.
    every_builder_path(&mut tx).await?;
    tx.commit().await?;

    assert_eq!(rows_outside(&admin, A).await?, before, "B's rows changed");
    assert_a_was_written(&admin).await
}

/// Reads and writes through every kind of statement the builder makes, as
/// the transaction's tenant (A), asserting that each sees and changes only
/// A's rows. Statements that would match B's rows without the tenant
/// predicate are chosen on purpose.
async fn every_builder_path(tx: &mut TenantTransaction) -> TestResult {
    let a = *tx.tenant();

    // Plain select, and a filter that matches a row in every tenant.
    let customers: Vec<Customer> = tx
        .fetch_all(Customer::select(&a).order_by_asc(Customer::ID))
        .await?;
    assert_eq!(keys(&customers), [(A, 1), (A, 2), (A, 3)]);
    let ann: Vec<Customer> = tx
        .fetch_all(Customer::select(&a).filter(Customer::EMAIL.eq("ann@example.test")))
        .await?;
    assert_eq!(keys(&ann), [(A, 1)]);

    // A user `OR` that is true for every row of every tenant.
    let widened: Vec<Order> = tx
        .fetch_all(
            Order::select(&a)
                .filter(Order::STATUS.eq("open").or(Order::TOTAL_CENTS.gt(0)))
                .order_by_asc(Order::ID),
        )
        .await?;
    assert_eq!(keys(&widened), [(A, 1), (A, 2), (A, 3), (A, 4)]);

    // Joins: an unscoped join would pair each order with the customer of the
    // same id in every tenant.
    let joined: Vec<(i64, String)> = tx
        .fetch_all(
            Order::select(&a)
                .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
                .columns((Order::ID, Customer::NAME))
                .order_by_asc(Order::ID),
        )
        .await?;
    let expected_names = [
        (1, "Ann of tenant 1"),
        (2, "Bob of tenant 1"),
        (3, "Cy of tenant 1"),
        (4, "Ann of tenant 1"),
    ]
    .map(|(id, name)| (id, name.to_owned()));
    assert_eq!(joined, expected_names);
    let items: Vec<(i64, Option<String>)> = tx
        .fetch_all(
            Order::select(&a)
                .left_join::<OrderItem>(OrderItem::ORDER_ID.eq_col(Order::ID))
                .columns((Order::ID, OrderItem::SKU))
                .order_by_asc(OrderItem::ID),
        )
        .await?;
    let skus: Vec<String> = items.into_iter().filter_map(|(_, sku)| sku).collect();
    assert_eq!(
        skus,
        (1..=8).map(|i| format!("sku-1-{i}")).collect::<Vec<_>>()
    );
    let plans: Vec<(String, String)> = tx
        .fetch_all(
            Customer::select(&a)
                .join_global::<Plan>(Plan::ID.eq_col(Customer::PLAN_ID))
                .columns((Customer::EMAIL, Plan::NAME))
                .order_by_asc(Customer::ID),
        )
        .await?;
    assert_eq!(plans.len(), 3, "{plans:?}");

    // Subqueries: B's orders (totals above 2000) must not exist for A, in
    // `IN (..)` or `EXISTS (..)`.
    let b_customers: Vec<Customer> = tx
        .fetch_all(Customer::select(&a).filter(
            Customer::ID.in_subquery(Order::CUSTOMER_ID.subquery(Order::TOTAL_CENTS.gt(2000))),
        ))
        .await?;
    assert_eq!(keys(&b_customers), []);
    let with_b_orders: Vec<Customer> = tx
        .fetch_all(
            Customer::select(&a).filter(Filter::exists::<Order>(
                Order::CUSTOMER_ID
                    .eq_col(Customer::ID)
                    .and(Order::TOTAL_CENTS.gt(2000)),
            )),
        )
        .await?;
    assert_eq!(keys(&with_b_orders), []);
    let with_orders: Vec<Customer> = tx
        .fetch_all(
            Customer::select(&a)
                .filter(Filter::exists::<Order>(
                    Order::CUSTOMER_ID.eq_col(Customer::ID),
                ))
                .order_by_asc(Customer::ID),
        )
        .await?;
    assert_eq!(keys(&with_orders), [(A, 1), (A, 2), (A, 3)]);

    // Count and exists.
    let (orders,): (i64,) = tx.fetch_one(Order::select(&a).count()).await?;
    assert_eq!(orders, 4);
    let (b_totals,): (i64,) = tx
        .fetch_one(
            Order::select(&a)
                .filter(Order::TOTAL_CENTS.gt(2000))
                .count(),
        )
        .await?;
    assert_eq!(b_totals, 0);
    let (b_order_exists,): (bool,) = tx
        .fetch_one(
            Order::select(&a)
                .filter(Order::TOTAL_CENTS.eq(2001))
                .exists(),
        )
        .await?;
    assert!(!b_order_exists);
    let (a_order_exists,): (bool,) = tx
        .fetch_one(
            Order::select(&a)
                .filter(Order::TOTAL_CENTS.eq(1001))
                .exists(),
        )
        .await?;
    assert!(a_order_exists);

    // Inserts take the tenant from the witness, even from a struct that says
    // it belongs to B.
    let dee: Customer = tx
        .fetch_one(
            Customer::insert(&a)
                .set(Customer::EMAIL, "dee@example.test")
                .set(Customer::NAME, "Dee")
                .set(Customer::PLAN_ID, 1)
                .returning_all(),
        )
        .await?;
    assert_eq!(dee.tenant_id, A);
    let claims_b = Customer {
        tenant_id: B,
        id: 0,
        email: "eve@example.test".to_owned(),
        name: "Eve".to_owned(),
        plan_id: 2,
    };
    let eve: Customer = tx
        .fetch_one(Customer::insert(&a).row(&claims_b).returning_all())
        .await?;
    assert_eq!((eve.tenant_id, eve.email.as_str()), (A, "eve@example.test"));

    // Upserts on a key that every tenant has.
    let renamed: Customer = tx
        .fetch_one(
            Customer::insert(&a)
                .set(Customer::EMAIL, "ann@example.test")
                .set(Customer::NAME, "Ann, renamed")
                .set(Customer::PLAN_ID, 2)
                .on_conflict_do_update((Customer::EMAIL,), (Customer::NAME, Customer::PLAN_ID))
                .returning_all(),
        )
        .await?;
    assert_eq!((renamed.tenant_id, renamed.id), (A, 1));
    let ignored = tx
        .execute(
            Customer::insert(&a)
                .set(Customer::EMAIL, "bob@example.test")
                .set(Customer::NAME, "Bob, again")
                .set(Customer::PLAN_ID, 1)
                .on_conflict_do_nothing((Customer::EMAIL,)),
        )
        .await?;
    assert_eq!(ignored, 0);

    // Updates: every row of the tenant, then a row whose id every tenant has.
    let archived = tx
        .execute(Order::update(&a).set(Order::STATUS, "archived"))
        .await?;
    assert_eq!(archived, 4);
    let zeroed: Vec<Order> = tx
        .fetch_all(
            Order::update(&a)
                .set(Order::TOTAL_CENTS, 0)
                .filter(Order::ID.eq(1))
                .returning_all(),
        )
        .await?;
    assert_eq!(keys(&zeroed), [(A, 1)]);

    // Deletes: a filter, a bare delete of the tenant's rows, and RETURNING.
    let removed: Vec<OrderItem> = tx
        .fetch_all(
            OrderItem::delete(&a)
                .filter(OrderItem::ID.gt(6))
                .returning_all(),
        )
        .await?;
    assert_eq!(keys(&removed), [(A, 7), (A, 8)]);
    let rest = tx.execute(OrderItem::delete(&a)).await?;
    assert_eq!(rest, 6);
    let newcomers = tx
        .execute(Customer::delete(&a).filter(Customer::ID.gte(1000)))
        .await?;
    assert_eq!(newcomers, 2);
    Ok(())
}

/// The writes of [`every_builder_path`] did happen, to A's rows: the
/// comparison of B's rows is not vacuous.
async fn assert_a_was_written(admin: &sqlx::PgPool) -> TestResult {
    let (statuses, items, ann): (Vec<String>, i64, String) = sqlx::query_as(
        "SELECT ARRAY(SELECT DISTINCT status FROM orders WHERE tenant_id = $1),
                (SELECT count(*) FROM order_items WHERE tenant_id = $1),
                (SELECT name FROM customers WHERE tenant_id = $1 AND id = 1)",
    )
    .bind(A)
    .fetch_one(admin)
    .await?;
    assert_eq!(
        (statuses, items, ann.as_str()),
        (vec!["archived".to_owned()], 0, "Ann, renamed")
    );
    Ok(())
}

trait Keyed {
    fn key(&self) -> (i64, i64);
}

impl Keyed for Customer {
    fn key(&self) -> (i64, i64) {
        (self.tenant_id, self.id)
    }
}

impl Keyed for Order {
    fn key(&self) -> (i64, i64) {
        (self.tenant_id, self.id)
    }
}

impl Keyed for OrderItem {
    fn key(&self) -> (i64, i64) {
        (self.tenant_id, self.id)
    }
}

/// `(tenant, id)` of each row, in order.
fn keys<R: Keyed>(rows: &[R]) -> Vec<(i64, i64)> {
    rows.iter().map(Keyed::key).collect()
}
