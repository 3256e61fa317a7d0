//! Aggregates, grouping, DISTINCT and orderings against real databases:
//! on PostgreSQL as the application role under forced row-level security,
//! and on SQLite, with rows of two tenants. Each result is what the
//! tenant's own rows give, computed here from the seed, and decodes into a
//! `FromRow` struct of its own (a dashboard row), not a table struct.

mod sales;

use sales::tables::{Customer, Sale};
use sales::{A, B, TestResult, tenant};
use tenancy_sqlx::functions::count_all;
use tenancy_sqlx::{Backend, BuildError, Error, TenantPool, ident};

/// A row of the status dashboard.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct StatusRow {
    status: String,
    sales: i64,
    revenue: Option<i64>,
    average: Option<f64>,
    best_discount: Option<i64>,
    customers: i64,
}

/// What the dashboard of `key` must say, from its seed.
fn expected_dashboard(key: i64) -> Vec<StatusRow> {
    let mut rows: Vec<StatusRow> = ["open", "paid"]
        .into_iter()
        .map(|status| {
            let sales: Vec<_> = sales::sales(key)
                .into_iter()
                .filter(|sale| sale.status == status)
                .collect();
            let revenue: i64 = sales.iter().map(|sale| sale.amount).sum();
            let mut customers: Vec<i64> = sales.iter().map(|sale| sale.customer_id).collect();
            customers.sort_unstable();
            customers.dedup();
            StatusRow {
                status: status.to_owned(),
                sales: sales.len() as i64,
                revenue: Some(revenue),
                average: Some(revenue as f64 / sales.len() as f64),
                best_discount: sales.iter().filter_map(|sale| sale.discount).max(),
                customers: customers.len() as i64,
            }
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.revenue));
    rows
}

async fn dashboard<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    StatusRow: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let revenue = Sale::AMOUNT.sum().alias(ident!("revenue"));
    for key in [A, B] {
        let tenant = tenant(key);
        let mut tx = pool.begin(&tenant).await?;
        let rows: Vec<StatusRow> = tx
            .fetch_all(
                Sale::select(&tenant)
                    .columns((
                        Sale::STATUS,
                        count_all().alias(ident!("sales")),
                        revenue.clone(),
                        Sale::AMOUNT.avg().alias(ident!("average")),
                        Sale::DISCOUNT.max().alias(ident!("best_discount")),
                        Sale::CUSTOMER_ID
                            .count_distinct()
                            .alias(ident!("customers")),
                    ))
                    .group_by(Sale::STATUS)
                    .having(count_all().gt(0))
                    .order_by(revenue.desc()),
            )
            .await?;
        tx.commit().await?;
        let expected = expected_dashboard(key);
        assert_eq!(rows.len(), expected.len(), "{rows:?}");
        for (row, expected) in rows.iter().zip(&expected) {
            assert_eq!(
                (
                    &row.status,
                    row.sales,
                    row.revenue,
                    row.best_discount,
                    row.customers
                ),
                (
                    &expected.status,
                    expected.sales,
                    expected.revenue,
                    expected.best_discount,
                    expected.customers
                ),
                "tenant {key}: {rows:?}"
            );
            let average = row.average.ok_or("no average")?;
            let expected_average = expected.average.ok_or("no expected average")?;
            assert!((average - expected_average).abs() < 1e-9, "{average}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_dashboard_of_grouped_aggregates_sees_only_the_tenant_s_rows_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    dashboard(&pool).await
}

#[tokio::test]
async fn a_dashboard_of_grouped_aggregates_sees_only_the_tenant_s_rows_on_sqlite() -> TestResult {
    dashboard(&sales::sqlite().await?).await
}

/// Counts and sums over no rows, and over one tenant's rows only.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Totals {
    sales: i64,
    revenue: Option<i64>,
    average: Option<f64>,
}

async fn totals<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Totals: for<'r> sqlx::FromRow<'r, DB::Row>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let select = || {
        Sale::select(&tenant).columns((
            count_all().alias(ident!("sales")),
            Sale::AMOUNT.sum().alias(ident!("revenue")),
            Sale::AMOUNT.avg().alias(ident!("average")),
        ))
    };
    let all: Totals = tx.fetch_one(select()).await?;
    let seeded: i64 = sales::sales(A).iter().map(|sale| sale.amount).sum();
    assert_eq!((all.sales, all.revenue), (6, Some(seeded)));
    let none: Totals = tx.fetch_one(select().filter(Sale::AMOUNT.lt(0))).await?;
    assert_eq!(
        none,
        Totals {
            sales: 0,
            revenue: None,
            average: None
        }
    );
    // A count of groups counts the tenant's customers with sales.
    let (groups,): (i64,) = tx
        .fetch_one(Sale::select(&tenant).group_by(Sale::CUSTOMER_ID).count())
        .await?;
    assert_eq!(groups, 3);
    let (distinct,): (i64,) = tx
        .fetch_one(
            Sale::select(&tenant)
                .column(Sale::STATUS)
                .distinct()
                .count(),
        )
        .await?;
    assert_eq!(distinct, 2);
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn sums_counts_and_averages_decode_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    totals(&pool).await
}

#[tokio::test]
async fn sums_counts_and_averages_decode_on_sqlite() -> TestResult {
    totals(&sales::sqlite().await?).await
}

/// Without the cast, PostgreSQL's `SUM(bigint)` is a `numeric`, which does
/// not decode into an `i64`: the builder's cast is what makes it decode.
#[tokio::test]
async fn postgres_sums_a_bigint_into_a_numeric_that_the_cast_makes_an_i64() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let uncast: Result<(i64,), sqlx::Error> = sqlx::query_as("SELECT SUM(amount) FROM sales")
        .fetch_one(tx.raw_connection())
        .await;
    let error = uncast.expect_err("numeric is not an i64");
    assert!(error.to_string().contains("NUMERIC"), "{error}");
    tx.rollback().await?;
    Ok(())
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Named {
    name: String,
    region: Option<String>,
}

async fn orderings<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Named: for<'r> sqlx::FromRow<'r, DB::Row>,
    (Option<String>,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let select = |nulls_first: bool| {
        let region = Customer::REGION.desc();
        Customer::select(&tenant)
            .columns((Customer::NAME, Customer::REGION))
            .order_by(if nulls_first {
                region.nulls_first()
            } else {
                region.nulls_last()
            })
    };
    let first: Vec<Named> = tx.fetch_all(select(true)).await?;
    let last: Vec<Named> = tx.fetch_all(select(false)).await?;
    let names = |rows: &[Named]| rows.iter().map(|row| row.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&first), ["cy-1", "bob-1", "ann-1"]);
    assert_eq!(names(&last), ["bob-1", "ann-1", "cy-1"]);
    let regions: Vec<(Option<String>,)> = tx
        .fetch_all(
            Customer::select(&tenant)
                .column(Customer::REGION)
                .distinct()
                .order_by(Customer::REGION.asc().nulls_last()),
        )
        .await?;
    assert_eq!(
        regions,
        [
            (Some("north".to_owned()),),
            (Some("south".to_owned()),),
            (None,)
        ]
    );
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn nulls_sort_where_asked_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    orderings(&pool).await
}

#[tokio::test]
async fn nulls_sort_where_asked_on_sqlite() -> TestResult {
    orderings(&sales::sqlite().await?).await
}

/// `DISTINCT ON`: each customer's largest sale, PostgreSQL only.
#[tokio::test]
async fn distinct_on_keeps_the_first_row_of_each_group_on_postgres_and_is_refused_on_sqlite()
-> TestResult {
    let latest = |tenant: &tenancy_sqlx::TenantId| {
        Sale::select(tenant)
            .columns((Sale::CUSTOMER_ID, Sale::AMOUNT))
            .distinct_on(Sale::CUSTOMER_ID)
            .order_by((Sale::CUSTOMER_ID.asc(), Sale::AMOUNT.desc()))
    };
    let (_db, pool) = sales::postgres().await?;
    let a = tenant(A);
    let mut tx = pool.begin(&a).await?;
    let rows: Vec<(i64, i64)> = tx.fetch_all(latest(&a)).await?;
    assert_eq!(rows, [(1, 1011), (2, 1022), (3, 1033)]);
    tx.commit().await?;

    let pool = sales::sqlite().await?;
    let mut tx = pool.begin(&a).await?;
    let refused = tx.fetch_all::<(i64, i64)>(latest(&a)).await;
    assert!(
        matches!(
            refused,
            Err(Error::Build(BuildError::UnsupportedInDialect { .. }))
        ),
        "{refused:?}"
    );
    tx.commit().await?;
    Ok(())
}

#[test]
fn the_two_tenants_dashboards_differ() {
    // So a dashboard of the wrong tenant, or of both, cannot pass for A's.
    assert_ne!(expected_dashboard(A), expected_dashboard(B));
}
