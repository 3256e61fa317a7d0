//! Window functions against real databases: on PostgreSQL as the
//! application role under forced row-level security, and on SQLite, with
//! rows of two tenants. A window spans the tenant's rows only, so ranks,
//! row numbers, neighbours and running totals are what the tenant's own
//! rows give.

mod sales;

use sales::tables::{Customer, Sale};
use sales::{A, TestResult, tenant};
use tenancy_sqlx::functions::{dense_rank, lag, lead, rank, row_number};
use tenancy_sqlx::{Backend, Cte, JoinKind, TenantPool, Window, ident};

/// One sale with its place among the customer's sales and its neighbours.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Ranked {
    id: i64,
    customer_id: i64,
    n: i64,
    place: i64,
    tier: i64,
    previous: Option<i64>,
    next: Option<i64>,
    running: Option<i64>,
}

async fn sales_in_their_windows<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Ranked: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(A);
    let by_customer = || {
        Window::new()
            .partition_by(Sale::CUSTOMER_ID)
            .order_by(Sale::AMOUNT.desc())
    };
    let mut tx = pool.begin(&tenant).await?;
    let rows: Vec<Ranked> = tx
        .fetch_all(
            Sale::select(&tenant)
                .columns((
                    Sale::ID,
                    Sale::CUSTOMER_ID,
                    row_number().over(by_customer()).alias(ident!("n")),
                    rank().over(by_customer()).alias(ident!("place")),
                    dense_rank()
                        .over(Window::new().order_by(Sale::CUSTOMER_ID.asc()))
                        .alias(ident!("tier")),
                    lag(Sale::AMOUNT)
                        .over(by_customer())
                        .alias(ident!("previous")),
                    lead(Sale::AMOUNT).over(by_customer()).alias(ident!("next")),
                    Sale::AMOUNT
                        .sum()
                        .over(Window::new().order_by(Sale::ID.asc()))
                        .alias(ident!("running")),
                ))
                .order_by_asc(Sale::ID),
        )
        .await?;
    tx.commit().await?;

    let seeded = sales::sales(A);
    assert_eq!(rows.len(), seeded.len(), "{rows:?}");
    let mut running = 0;
    for (row, sale) in rows.iter().zip(&seeded) {
        let mut mine: Vec<i64> = seeded
            .iter()
            .filter(|other| other.customer_id == sale.customer_id)
            .map(|other| other.amount)
            .collect();
        mine.sort_unstable_by(|a, b| b.cmp(a));
        let place = mine
            .iter()
            .position(|amount| *amount == sale.amount)
            .ok_or("placed")?;
        running += sale.amount;
        assert_eq!(
            (row.id, row.customer_id, row.n, row.place, row.tier),
            (
                sale.id,
                sale.customer_id,
                place as i64 + 1,
                place as i64 + 1,
                sale.customer_id
            ),
            "{rows:?}"
        );
        assert_eq!(
            row.previous,
            place.checked_sub(1).map(|p| mine[p]),
            "{row:?}"
        );
        assert_eq!(row.next, mine.get(place + 1).copied(), "{row:?}");
        assert_eq!(row.running, Some(running), "{row:?}");
    }
    Ok(())
}

#[tokio::test]
async fn window_functions_span_the_tenant_s_rows_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    sales_in_their_windows(&pool).await
}

#[tokio::test]
async fn window_functions_span_the_tenant_s_rows_on_sqlite() -> TestResult {
    sales_in_their_windows(&sales::sqlite().await?).await
}

/// Top customers by revenue, ranked: a CTE of sums, joined and ranked.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct TopCustomer {
    name: String,
    revenue: Option<i64>,
    place: i64,
}

async fn top_customers<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    TopCustomer: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(A);
    let revenue = Sale::AMOUNT.sum().alias(ident!("revenue"));
    let totals = Cte::new(
        ident!("totals"),
        Sale::select(&tenant)
            .columns((Sale::CUSTOMER_ID, revenue.clone()))
            .group_by(Sale::CUSTOMER_ID),
    );
    let mut tx = pool.begin(&tenant).await?;
    let rows: Vec<TopCustomer> = tx
        .fetch_all(
            Customer::select(&tenant)
                .with(&totals)
                .join_with(
                    JoinKind::Inner,
                    &totals,
                    totals.col(Sale::CUSTOMER_ID).eq(Customer::ID),
                )
                .columns((
                    Customer::NAME,
                    totals.col(&revenue),
                    rank()
                        .over(Window::new().order_by(totals.col(&revenue).desc()))
                        .alias(ident!("place")),
                ))
                .order_by_asc(Customer::ID),
        )
        .await?;
    tx.commit().await?;
    let expected: Vec<(String, i64)> = (1..=3)
        .map(|customer| {
            let revenue = sales::sales(A)
                .iter()
                .filter(|sale| sale.customer_id == customer)
                .map(|sale| sale.amount)
                .sum();
            (
                format!("{}-1", ["ann", "bob", "cy"][customer as usize - 1]),
                revenue,
            )
        })
        .collect();
    let got: Vec<(String, Option<i64>, i64)> = rows
        .iter()
        .map(|row| (row.name.clone(), row.revenue, row.place))
        .collect();
    assert_eq!(
        got,
        [
            (expected[0].0.clone(), Some(expected[0].1), 3),
            (expected[1].0.clone(), Some(expected[1].1), 2),
            (expected[2].0.clone(), Some(expected[2].1), 1),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn top_customers_by_revenue_with_a_window_rank_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    top_customers(&pool).await
}

#[tokio::test]
async fn top_customers_by_revenue_with_a_window_rank_on_sqlite() -> TestResult {
    top_customers(&sales::sqlite().await?).await
}
