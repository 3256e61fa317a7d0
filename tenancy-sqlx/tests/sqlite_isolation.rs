//! The SQLite backend: two tenants in one database, every builder path run
//! as tenant A touches none of tenant B's rows, statements of another scope
//! are refused, and the generated DDL's composite foreign keys hold.
//!
//! SQLite has no Row Level Security, so these tests are the whole story
//! there: the builder's predicate is the only runtime guard.

use sqlx::Sqlite;
use tenancy_sqlx::{
    CrossTenant, Delete, Error, Filter, Select, StatementScope, TenantPool, TenantPoolOptions,
    TenantTransaction,
};
use tenancy_test::TestResult;
use tenancy_test::shop::tables::{Customer, Order, Plan, table_set};
use tenancy_test::shop::{A, B, customer, free_plan, order, tenant};

/// What was seeded for one tenant.
struct Seeded {
    customers: Vec<i64>,
    orders: Vec<i64>,
}

/// An in-memory database with the shop's tables, one plan, and for each
/// tenant two customers with an open and a paid order each.
async fn two_tenants() -> TestResult<(TenantPool<Sqlite>, Seeded, Seeded)> {
    let pool =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&table_set())).await?;
    let owner = pool.owner_pool(CrossTenant::with_reason("test set-up")?);
    owner.apply_schema(&table_set()).await?;
    owner.execute(free_plan()).await?;
    let a = seed(&pool, A).await?;
    let b = seed(&pool, B).await?;
    Ok((pool, a, b))
}

async fn seed(pool: &TenantPool<Sqlite>, key: i64) -> Result<Seeded, Error> {
    let tenant = tenant(key);
    let mut tx = pool.begin(&tenant).await?;
    let mut seeded = Seeded {
        customers: Vec::new(),
        orders: Vec::new(),
    };
    for name in ["ada", "bob"] {
        let customer: Customer = tx
            .fetch_one(customer(&tenant, &format!("{name}@tenant{key}.test")).returning_all())
            .await?;
        seeded.customers.push(customer.id);
        for status in ["open", "paid"] {
            let order: Order = tx
                .fetch_one(order(&tenant, customer.id, status).returning_all())
                .await?;
            seeded.orders.push(order.id);
        }
    }
    tx.commit().await?;
    Ok(seeded)
}

/// Every tenant's rows, read past the builder (SQLite filters nothing).
async fn all_orders(tx: &mut TenantTransaction<i64, Sqlite>) -> Result<Vec<Order>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM orders ORDER BY id")
        .fetch_all(tx.raw_connection())
        .await
}

fn assert_all_of(tenant: i64, orders: &[Order]) {
    assert!(
        orders.iter().all(|order| order.tenant_id == tenant),
        "rows of another tenant: {orders:?}"
    );
}

#[tokio::test]
async fn every_read_path_as_a_returns_none_of_b() -> TestResult {
    let (pool, a_rows, b_rows) = two_tenants().await?;
    let a = tenant(A);
    let mut tx = pool.begin(&a).await?;

    let plain: Vec<Order> = tx.fetch_all(Order::select(&a)).await?;
    assert_eq!(plain.len(), 4);
    assert_all_of(A, &plain);

    // Naming B's ids, or OR-ing a filter that matches every row, does not
    // reach past the tenant predicate.
    let b_ids: Vec<Order> = tx
        .fetch_all(Order::select(&a).filter(Order::ID.is_in(b_rows.orders.clone())))
        .await?;
    assert!(b_ids.is_empty(), "{b_ids:?}");
    let escaped: Vec<Order> = tx
        .fetch_all(Order::select(&a).filter(Order::STATUS.eq("open").or(Order::ID.gt(0))))
        .await?;
    assert_eq!(escaped.len(), 4);
    assert_all_of(A, &escaped);

    // Joins: the joined table is scoped too.
    let joined: Vec<Order> = tx
        .fetch_all(
            Order::select(&a)
                .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
                .join_global::<Plan>(Plan::ID.eq_col(Customer::PLAN_ID)),
        )
        .await?;
    assert_eq!(joined.len(), 4);
    assert_all_of(A, &joined);
    let left_joined: Vec<Order> = tx
        .fetch_all(Order::select(&a).left_join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID)))
        .await?;
    assert_eq!(left_joined.len(), 4);
    assert_all_of(A, &left_joined);
    let b_customers: Vec<Customer> = tx
        .fetch_all(
            Customer::select(&a)
                .join::<Order>(Order::CUSTOMER_ID.eq_col(Customer::ID))
                .filter(Order::ID.is_in(b_rows.orders.clone())),
        )
        .await?;
    assert!(b_customers.is_empty(), "{b_customers:?}");

    // Subqueries: IN and EXISTS are scoped with the outer tenant.
    let every_customer = Customer::ID.subquery(Customer::EMAIL.like("%"));
    let in_subquery: Vec<Order> = tx
        .fetch_all(Order::select(&a).filter(Order::CUSTOMER_ID.in_subquery(every_customer)))
        .await?;
    assert_eq!(in_subquery.len(), 4);
    assert_all_of(A, &in_subquery);
    let with_b_orders: Vec<Customer> = tx
        .fetch_all(
            Customer::select(&a).filter(Filter::exists::<Order>(Filter::all([
                Order::CUSTOMER_ID.eq_col(Customer::ID),
                Order::ID.is_in(b_rows.orders.clone()),
            ]))),
        )
        .await?;
    assert!(with_b_orders.is_empty(), "{with_b_orders:?}");

    // Projections, counts and existence.
    let ids: Vec<(i64,)> = tx
        .fetch_all(Order::select(&a).column(Order::ID).order_by_asc(Order::ID))
        .await?;
    assert_eq!(
        ids.into_iter().map(|(id,)| id).collect::<Vec<_>>(),
        a_rows.orders
    );
    let (count,): (i64,) = tx.fetch_one(Order::select(&a).count()).await?;
    assert_eq!(count, 4);
    let (any_of_b,): (bool,) = tx
        .fetch_one(
            Order::select(&a)
                .filter(Order::ID.eq(b_rows.orders[0]))
                .exists(),
        )
        .await?;
    assert!(!any_of_b);

    // All the while, B's rows are there: the tests above could have failed.
    assert_eq!(all_orders(&mut tx).await?.len(), 8);
    tx.rollback().await?;
    Ok(())
}

#[tokio::test]
async fn every_write_path_as_a_leaves_b_untouched() -> TestResult {
    let (pool, _, b_rows) = two_tenants().await?;
    let a = tenant(A);
    let b = tenant(B);
    let b_before: Vec<Order> = {
        let mut tx = pool.begin(&b).await?;
        let rows = tx
            .fetch_all(Order::select(&b).order_by_asc(Order::ID))
            .await?;
        tx.rollback().await?;
        rows
    };

    let mut tx = pool.begin(&a).await?;
    let aimed_at_b = tx
        .execute(
            Order::update(&a)
                .set(Order::STATUS, "hijacked".to_owned())
                .filter(Order::ID.is_in(b_rows.orders.clone())),
        )
        .await?;
    assert_eq!(aimed_at_b, 0);
    let everything = tx
        .execute(
            Order::update(&a)
                .set(Order::STATUS, "archived".to_owned())
                .filter(Order::ID.gt(0).or(Order::ID.lte(0))),
        )
        .await?;
    assert_eq!(everything, 4);
    let deleted_of_b = tx
        .execute(Order::delete(&a).filter(Order::ID.eq(b_rows.orders[0])))
        .await?;
    assert_eq!(deleted_of_b, 0);
    let returned: Vec<Order> = tx
        .fetch_all(
            Order::update(&a)
                .set(Order::STATUS, "closed".to_owned())
                .returning_all(),
        )
        .await?;
    assert_eq!(returned.len(), 4);
    assert_all_of(A, &returned);

    // Inserts take the tenant from the witness; an upsert on B's unique
    // email conflicts only within A.
    let upserted: Customer = tx
        .fetch_one(
            customer(&a, &format!("ada@tenant{B}.test"))
                .on_conflict_do_update((Customer::EMAIL,), (Customer::PLAN_ID,))
                .returning_all(),
        )
        .await?;
    assert_eq!(upserted.tenant_id, A);
    let deleted = tx.execute(Order::delete(&a)).await?;
    assert_eq!(deleted, 4);
    tx.commit().await?;

    let mut tx = pool.begin(&b).await?;
    let b_after: Vec<Order> = tx
        .fetch_all(Order::select(&b).order_by_asc(Order::ID))
        .await?;
    let b_customers: Vec<Customer> = tx.fetch_all(Customer::select(&b)).await?;
    tx.rollback().await?;
    assert_eq!(b_after, b_before);
    assert_eq!(b_customers.len(), 2);
    Ok(())
}

#[tokio::test]
async fn statements_of_another_scope_are_refused_before_running() -> TestResult {
    let (pool, _, _) = two_tenants().await?;
    let (a, b) = (tenant(A), tenant(B));
    let mut tx = pool.begin(&a).await?;

    let refused = tx.execute(Order::delete(&b)).await;
    match refused {
        Err(Error::TenantMismatch {
            statement,
            transaction,
        }) => {
            assert_eq!((statement, transaction), (b.key_value(), a.key_value()));
        }
        other => return Err(format!("expected TenantMismatch, got {other:?}").into()),
    }
    let capability = CrossTenant::with_reason("test: a cross-tenant statement in the wrong place")
        .expect("a stated reason");
    let refused = tx
        .execute(Delete::<Order>::across_tenants(&capability))
        .await;
    assert!(
        matches!(refused, Err(Error::CrossTenantInTenantTransaction { .. })),
        "{refused:?}"
    );
    assert_eq!(
        all_orders(&mut tx).await?.len(),
        8,
        "a refused statement ran"
    );
    tx.rollback().await?;

    // The owner pool runs cross-tenant statements and refuses tenant ones.
    let owner = pool.owner_pool(capability);
    let everyone: Vec<Order> = owner
        .fetch_all(Select::<Order>::across_tenants(
            &CrossTenant::with_reason("test: read all").expect("a stated reason"),
        ))
        .await?;
    assert_eq!(everyone.len(), 8);
    let refused = owner.execute(Order::delete(&a)).await;
    assert!(
        matches!(refused, Err(Error::TenantStatementOnOwnerPool { .. })),
        "{refused:?}"
    );
    Ok(())
}

#[tokio::test]
async fn statements_are_built_in_the_sqlite_dialect() -> TestResult {
    use tenancy_sqlx::BuildStatement;
    let statement = Order::select(&tenant(A))
        .filter(Order::STATUS.eq("open"))
        .to_sqlite()?;
    assert!(
        statement.sql().contains(r#""orders"."tenant_id" = ?"#),
        "{}",
        statement.sql()
    );
    assert_eq!(
        statement.scope(),
        StatementScope::Tenant(tenant(A).key_value())
    );
    Ok(())
}

#[tokio::test]
async fn composite_foreign_keys_keep_rows_inside_their_tenant() -> TestResult {
    let (pool, _, b_rows) = two_tenants().await?;
    let a = tenant(A);
    let mut tx = pool.begin(&a).await?;
    let (enforced,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(tx.raw_connection())
        .await?;
    assert_eq!(enforced, 1);

    // B's customer exists, but not in A: (A, B's id) references nothing.
    let pointing_into_b = tx.execute(order(&a, b_rows.customers[0], "open")).await;
    match pointing_into_b {
        Err(Error::Database(sqlx::Error::Database(error))) => {
            assert!(error.message().contains("FOREIGN KEY"), "{error}");
        }
        other => return Err(format!("expected a foreign key violation, got {other:?}").into()),
    }
    tx.rollback().await?;
    Ok(())
}

#[tokio::test]
async fn raw_sql_is_not_filtered_on_sqlite() -> TestResult {
    // What the documentation warns about: without RLS, raw SQL in A's
    // transaction sees B's rows.
    let (pool, _, _) = two_tenants().await?;
    let mut tx = pool.begin(&tenant(A)).await?;
    let raw = all_orders(&mut tx).await?;
    assert!(raw.iter().any(|order| order.tenant_id == B));
    tx.commit().await?;
    Ok(())
}
