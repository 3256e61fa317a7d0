//! The builder's edge values run within the tenant on both backends: empty
//! lists and empty combinators (which render as `TRUE`, `FALSE` and their
//! negations, never `IN ()`, which PostgreSQL refuses) and row counts at
//! their extremes (bound, and capped where databases count in signed 64
//! bits).

use tenancy_sqlx::{
    CrossTenant, Error, TenantId, TenantPool, TenantPoolOptions, TenantTransaction,
};
use tenancy_test::TestResult;
use tenancy_test::shop::tables::{Customer, table_set};
use tenancy_test::shop::{customer, free_plan, shop, tenant_pool};

/// Empty lists and empty combinators, which render as `TRUE`, `FALSE` and
/// their negations (never `IN ()`, which PostgreSQL refuses), with what each
/// must match: all of the tenant's rows, or none; never another tenant's.
fn empty_filters() -> Vec<(&'static str, tenancy_sqlx::Filter, bool)> {
    use tenancy_sqlx::Filter;
    let none: Vec<String> = Vec::new();
    vec![
        ("is_in([])", Customer::EMAIL.is_in(none.clone()), false),
        (
            "is_not_in([])",
            Customer::EMAIL.is_not_in(none.clone()),
            true,
        ),
        ("any([])", Filter::any([]), false),
        ("all([])", Filter::all([]), true),
        ("!any([])", !Filter::any([]), true),
        ("!all([])", !Filter::all([]), false),
        (
            "any([]) OR is_not_in([])",
            Filter::any([]).or(Customer::EMAIL.is_not_in(none)),
            true,
        ),
    ]
}

/// Tenant 1's and tenant 2's customers, two and one, written through `pool`.
async fn two_tenants_of_customers<DB: tenancy_sqlx::Backend>(
    pool: &TenantPool<DB>,
) -> Result<(), Error> {
    for (tenant, emails) in [(1, &["a@one.test", "b@one.test"][..]), (2, &["c@two.test"])] {
        let witness = TenantId::from_verified(tenant);
        let mut tx = pool.begin(&witness).await?;
        for email in emails {
            tx.execute(customer(&witness, email)).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

#[tokio::test]
async fn empty_lists_combinators_and_extreme_row_counts_run_within_the_tenant() -> TestResult {
    use tenancy_sqlx::{Filter, Sqlite};

    let db = shop(&[]).await?;
    let postgres = tenant_pool(&db).await?;
    two_tenants_of_customers(&postgres).await?;
    let sqlite =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&table_set())).await?;
    let owner = sqlite.owner_pool(CrossTenant::with_reason("test set-up")?);
    owner.apply_schema(&table_set()).await?;
    owner.execute(free_plan()).await?;
    two_tenants_of_customers(&sqlite).await?;

    let a = TenantId::from_verified(1);
    for (name, filter, matches_all) in empty_filters() {
        let expected = if matches_all { 2 } else { 0 };
        let mut tx = postgres.begin(&a).await?;
        let rows: Vec<Customer> = tx
            .fetch_all(Customer::select(&a).filter(filter.clone()))
            .await?;
        tx.rollback().await?;
        assert_eq!(rows.len(), expected, "PostgreSQL, {name}: {rows:?}");
        assert!(
            rows.iter().all(|row| row.tenant_id == 1),
            "{name}: {rows:?}"
        );

        let mut tx: TenantTransaction<i64, Sqlite> = sqlite.begin(&a).await?;
        let rows: Vec<Customer> = tx.fetch_all(Customer::select(&a).filter(filter)).await?;
        tx.rollback().await?;
        assert_eq!(rows.len(), expected, "SQLite, {name}: {rows:?}");
        assert!(
            rows.iter().all(|row| row.tenant_id == 1),
            "{name}: {rows:?}"
        );
    }

    // Three-valued logic: `NOT any([])` is true for every row, and
    // `any([])` false, even where the column it tests is NULL: the orders
    // side of a right join from orders to customers, with no orders, is
    // all NULLs (the tenant column included).
    use tenancy_test::shop::tables::Order;
    for (name, filter, expected) in [
        ("!any([])", !Filter::any([]), 2),
        ("any([])", Filter::any([]), 0),
        ("!all([])", !Filter::all([]), 0),
        ("!!any([])", !!Filter::any([]), 0),
    ] {
        let select = Order::select(&a)
            .right_join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
            .column(Customer::EMAIL)
            .filter(filter.and(Order::ID.is_null()));
        let mut tx = postgres.begin(&a).await?;
        let emails: Vec<(String,)> = tx.fetch_all(select.clone()).await?;
        tx.rollback().await?;
        assert_eq!(emails.len(), expected, "PostgreSQL, {name}: {emails:?}");
        let mut tx: TenantTransaction<i64, Sqlite> = sqlite.begin(&a).await?;
        let emails: Vec<(String,)> = tx.fetch_all(select).await?;
        tx.rollback().await?;
        assert_eq!(emails.len(), expected, "SQLite, {name}: {emails:?}");
    }

    // Row counts at their extremes are bound, capped where databases count
    // in signed 64 bits, and run.
    let pages = [
        (Customer::select(&a).limit(u64::MAX), 2),
        (Customer::select(&a).limit(0), 0),
        (Customer::select(&a).offset(u64::MAX), 0),
        (Customer::select(&a).limit(u64::MAX).offset(1), 1),
    ];
    for (page, expected) in pages {
        let mut tx = postgres.begin(&a).await?;
        let rows: Vec<Customer> = tx.fetch_all(page.clone()).await?;
        tx.rollback().await?;
        assert_eq!(rows.len(), expected, "PostgreSQL, {page:?}");
        let mut tx: TenantTransaction<i64, Sqlite> = sqlite.begin(&a).await?;
        let rows: Vec<Customer> = tx.fetch_all(page.clone()).await?;
        tx.rollback().await?;
        assert_eq!(rows.len(), expected, "SQLite, {page:?}");
    }
    Ok(())
}
