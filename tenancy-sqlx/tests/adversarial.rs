//! Attacks on the builder through the adapter's public API: a respelled
//! tenant column on SQLite, empty lists and extreme row counts.

mod support;

use support::tables::{Customer, table_set};
use support::{TestResult, database_with_tables};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::{
    CrossTenant, Error, Postgres, TenantId, TenantPool, TenantPoolOptions, TenantTransaction,
};

fn options() -> TenantPoolOptions {
    TenantPoolOptions::new().tables(&table_set())
}

/// On SQLite, identifiers match in any case even when quoted: a hand-made
/// column `"TENANT_ID"` is the tenant column there, and an UPDATE setting it
/// would move the tenant's rows to another tenant. It is refused before
/// anything is sent.
#[tokio::test]
async fn a_respelled_tenant_column_cannot_move_rows_on_sqlite() -> TestResult {
    use tenancy_sqlx::{BuildError, Column, Sqlite, Update};

    let pool = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new()).await?;
    pool.owner_pool(CrossTenant::with_reason("test set-up"))
        .apply_schema(&TableSet::new().with::<Customer>())
        .await?;
    let a = TenantId::from_verified(1);
    let mut tx: TenantTransaction<i64, Sqlite> = pool.begin(&a).await?;
    tx.execute(Customer::insert(&a).set(Customer::EMAIL, "ann@tenant-one.test".to_owned()))
        .await?;

    let respelled = Column::<Customer, i64>::new("TENANT_ID");
    let moved = tx
        .execute(Update::<Customer>::scoped(&a).set(respelled, 2))
        .await;
    assert!(
        matches!(
            moved,
            Err(Error::Build(BuildError::TenantColumnAssigned {
                table: "customers",
                column: "TENANT_ID"
            }))
        ),
        "{moved:?}"
    );
    let tenants: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM customers")
        .fetch_all(tx.raw_connection())
        .await?;
    assert_eq!(tenants, [1]);
    tx.commit().await?;
    Ok(())
}

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
            tx.execute(Customer::insert(&witness).set(Customer::EMAIL, (*email).to_owned()))
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

#[tokio::test]
async fn empty_lists_combinators_and_extreme_row_counts_run_within_the_tenant() -> TestResult {
    use tenancy_sqlx::Sqlite;

    let db = database_with_tables().await?;
    let postgres = TenantPool::<Postgres>::connect(&db.app_url(), options()).await?;
    two_tenants_of_customers(&postgres).await?;
    let sqlite = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new()).await?;
    sqlite
        .owner_pool(CrossTenant::with_reason("test set-up"))
        .apply_schema(&TableSet::new().with::<Customer>())
        .await?;
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
