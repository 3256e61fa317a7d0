//! Expressions against real databases: on PostgreSQL as the application
//! role under forced row-level security, and on SQLite, with rows of two
//! tenants. Updates computed from the row (`SET amount = amount * 2`),
//! RETURNING expressions, CASE, COALESCE, NULLIF, lower/upper, casts,
//! column comparisons, DEFAULT and upserts that add to the stored row
//! change and return the tenant's rows only, and leave the other tenant's
//! as they were.

mod sales;

use sales::tables::{Account, Customer, Sale};
use sales::{A, B, TestResult, tenant};
use tenancy_sqlx::functions::{case_when, value};
use tenancy_sqlx::{Backend, DoUpdate, TenantPool, ident};

/// Every sale of tenant `key`, by id.
async fn sales_of<DB: Backend>(
    pool: &TenantPool<DB>,
    key: i64,
) -> Result<Vec<Sale>, sales::BoxError>
where
    Sale: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(key);
    let mut tx = pool.begin(&tenant).await?;
    let sales = tx
        .fetch_all(Sale::select(&tenant).order_by_asc(Sale::ID))
        .await?;
    tx.commit().await?;
    Ok(sales)
}

async fn updates_computed_from_the_row<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Sale: for<'r> sqlx::FromRow<'r, DB::Row>,
    (i64, i64): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let theirs = sales_of(pool, B).await?;
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let doubled: Vec<(i64, i64)> = tx
        .fetch_all(
            Sale::update(&tenant)
                .set(Sale::AMOUNT, Sale::AMOUNT * 2)
                .set(Sale::NOTE, Sale::STATUS.upper())
                .filter(Sale::STATUS.eq("open"))
                .returning((Sale::ID, (Sale::AMOUNT + 1).alias(ident!("next")))),
        )
        .await?;
    tx.commit().await?;
    let opened: Vec<Sale> = sales::sales(A)
        .into_iter()
        .filter(|sale| sale.status == "open")
        .collect();
    let mut doubled = doubled;
    doubled.sort_unstable();
    assert_eq!(
        doubled,
        opened
            .iter()
            .map(|sale| (sale.id, sale.amount * 2 + 1))
            .collect::<Vec<_>>()
    );
    let mine = sales_of(pool, A).await?;
    for (now, seeded) in mine.iter().zip(sales::sales(A)) {
        if seeded.status == "open" {
            assert_eq!(
                (now.amount, now.note.as_deref()),
                (seeded.amount * 2, Some("OPEN"))
            );
        } else {
            assert_eq!((now.amount, now.note.as_deref()), (seeded.amount, None));
        }
    }
    assert_eq!(sales_of(pool, B).await?, theirs, "tenant B's sales changed");
    Ok(())
}

#[tokio::test]
async fn updates_computed_from_the_row_change_only_the_tenant_s_rows_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    updates_computed_from_the_row(&pool).await
}

#[tokio::test]
async fn updates_computed_from_the_row_change_only_the_tenant_s_rows_on_sqlite() -> TestResult {
    updates_computed_from_the_row(&sales::sqlite().await?).await
}

/// A row of computed columns.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Computed {
    id: i64,
    size: String,
    region: String,
    nonzero: Option<i64>,
    shout: String,
    cents: f64,
    label: String,
}

async fn computed_columns<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Computed: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let rows: Vec<Computed> = tx
        .fetch_all(
            Sale::select(&tenant)
                .join::<Customer>(Customer::ID.eq(Sale::CUSTOMER_ID))
                .columns((
                    Sale::ID,
                    case_when(Sale::AMOUNT.gte(1030), "large")
                        .when(Sale::AMOUNT.gte(1020), "medium")
                        .otherwise("small")
                        .alias(ident!("size")),
                    Customer::REGION.coalesce("nowhere").alias(ident!("region")),
                    Sale::DISCOUNT
                        .coalesce(0)
                        .nullif(0)
                        .alias(ident!("nonzero")),
                    Customer::NAME.upper().alias(ident!("shout")),
                    (Sale::AMOUNT.cast::<f64>() / 100.0).alias(ident!("cents")),
                    (Sale::AMOUNT.cast::<String>())
                        .lower()
                        .alias(ident!("label")),
                ))
                // Column-to-column and expression comparisons.
                .filter(Sale::AMOUNT.gt(Sale::CUSTOMER_ID * 10 + 1000))
                .filter(Sale::DISCOUNT.is_null().or(Sale::DISCOUNT.lt(Sale::AMOUNT)))
                .order_by_asc(Sale::ID),
        )
        .await?;
    tx.commit().await?;
    let customers = sales::customers(A);
    let expected: Vec<Computed> = sales::sales(A)
        .into_iter()
        .filter(|sale| sale.amount > sale.customer_id * 10 + 1000)
        .map(|sale| {
            let customer = &customers[sale.customer_id as usize - 1];
            Computed {
                id: sale.id,
                size: match sale.amount {
                    1030.. => "large",
                    1020.. => "medium",
                    _ => "small",
                }
                .to_owned(),
                region: customer.2.clone().unwrap_or_else(|| "nowhere".to_owned()),
                nonzero: sale.discount,
                shout: customer.1.to_uppercase(),
                cents: sale.amount as f64 / 100.0,
                label: sale.amount.to_string(),
            }
        })
        .collect();
    assert_eq!(rows, expected);
    Ok(())
}

#[tokio::test]
async fn case_coalesce_nullif_casts_and_comparisons_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    computed_columns(&pool).await
}

#[tokio::test]
async fn case_coalesce_nullif_casts_and_comparisons_on_sqlite() -> TestResult {
    computed_columns(&sales::sqlite().await?).await
}

async fn defaults_and_upserts<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Sale: for<'r> sqlx::FromRow<'r, DB::Row>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
    (i64, Option<String>): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let theirs = sales_of(pool, B).await?;
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    // DEFAULT: the column's default, NULL for a nullable column.
    let (id, note): (i64, Option<String>) = tx
        .fetch_one(
            Sale::insert(&tenant)
                .set(Sale::ID, 100)
                .set(Sale::CUSTOMER_ID, 1)
                .set(Sale::STATUS, value("counter").lower())
                .set(Sale::AMOUNT, value(5_i64) * 2)
                .set_default(Sale::NOTE)
                .returning((Sale::ID, Sale::NOTE)),
        )
        .await?;
    assert_eq!((id, note), (100, None));

    // A counter: each upsert adds its amount to the stored one, unless the
    // row was closed.
    let add = |amount: i64| {
        Sale::insert(&tenant)
            .set(Sale::ID, 100)
            .set(Sale::CUSTOMER_ID, 1)
            .set(Sale::STATUS, "counter")
            .set(Sale::AMOUNT, amount)
            .on_conflict_do_update(
                (Sale::ID,),
                DoUpdate::new()
                    .set(Sale::AMOUNT, Sale::AMOUNT + Sale::AMOUNT.excluded())
                    .filter(Sale::STATUS.ne("closed")),
            )
            .returning(Sale::AMOUNT)
    };
    let (after_one,): (i64,) = tx.fetch_one(add(7)).await?;
    let (after_two,): (i64,) = tx.fetch_one(add(3)).await?;
    assert_eq!((after_one, after_two), (17, 20));
    tx.execute(
        Sale::update(&tenant)
            .set(Sale::STATUS, "closed")
            .filter(Sale::ID.eq(100)),
    )
    .await?;
    let refused = tx.execute(add(1000)).await?;
    assert_eq!(refused, 0, "a closed counter must not move");
    tx.commit().await?;
    let mine = sales_of(pool, A).await?;
    let counter = mine
        .iter()
        .find(|sale| sale.id == 100)
        .ok_or("no counter")?;
    assert_eq!((counter.amount, counter.status.as_str()), (20, "closed"));
    assert_eq!(sales_of(pool, B).await?, theirs, "tenant B's sales changed");
    Ok(())
}

#[tokio::test]
async fn defaults_and_upserts_that_add_to_the_row_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    defaults_and_upserts(&pool).await
}

#[tokio::test]
async fn defaults_and_upserts_that_add_to_the_row_on_sqlite() -> TestResult {
    defaults_and_upserts(&sales::sqlite().await?).await
}

/// The same id in both tenants: an upsert of tenant A's row 1 conflicts
/// with A's row only, and never reaches B's.
async fn upserts_stay_within_the_tenant<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Account: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    tx.execute(
        Account::insert(&tenant)
            .set(Account::ID, 1)
            .set(Account::OWNER, "alice-1")
            .set(Account::BALANCE, 5)
            .on_conflict_do_update(
                (Account::ID,),
                DoUpdate::new().set(
                    Account::BALANCE,
                    Account::BALANCE + Account::BALANCE.excluded(),
                ),
            ),
    )
    .await?;
    tx.commit().await?;
    for key in [A, B] {
        let tenant = tenant_of(key);
        let mut tx = pool.begin(&tenant).await?;
        let account: Account = tx
            .fetch_one(Account::select(&tenant).filter(Account::ID.eq(1)))
            .await?;
        tx.commit().await?;
        let seeded = sales::balances(key)[0];
        let expected = if key == A { seeded + 5 } else { seeded };
        assert_eq!(account.balance, expected, "tenant {key}");
    }
    Ok(())
}

fn tenant_of(key: i64) -> tenancy_sqlx::TenantId {
    tenant(key)
}

#[tokio::test]
async fn upserts_stay_within_the_tenant_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    upserts_stay_within_the_tenant(&pool).await
}

#[tokio::test]
async fn upserts_stay_within_the_tenant_on_sqlite() -> TestResult {
    upserts_stay_within_the_tenant(&sales::sqlite().await?).await
}
