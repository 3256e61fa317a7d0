//! SQLite pools: what raw SQL leaves on a connection — `TEMP` tables and
//! triggers, pragmas — never reaches the next borrower, since such a
//! connection is closed, and `commit` reports a transaction raw SQL ended.

use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tenancy_sqlx::{CrossTenant, Error, TenantPool, TenantPoolOptions};
use tenancy_test::TestResult;
use tenancy_test::shop::tables::{Customer, Order, table_set};
use tenancy_test::shop::{A, B, customer, free_plan, tenant};

/// A database file with the shop's tables and one plan, behind a tenant
/// pool of `connections` (a file, so that connections the pool closes do not
/// take the data with them). Keep the directory while the pool is used.
async fn shop_file(connections: u32) -> TestResult<(TenantPool<Sqlite>, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("shop.db").display());
    let pool = TenantPool::connect_sqlite_with(
        SqlitePoolOptions::new().max_connections(connections),
        url.parse::<SqliteConnectOptions>()?,
        TenantPoolOptions::new(),
    )
    .await?;
    let owner = pool.owner_pool(CrossTenant::with_reason("test set-up"));
    owner.apply_schema(&table_set()).await?;
    owner.execute(free_plan()).await?;
    Ok((pool, dir))
}

/// A customer of `key`, through the builder.
async fn add_customer(pool: &TenantPool<Sqlite>, key: i64, email: &str) -> Result<i64, Error> {
    let tenant = tenant(key);
    let mut tx = pool.begin(&tenant).await?;
    let added: Customer = tx
        .fetch_one(customer(&tenant, email).returning_all())
        .await?;
    tx.commit().await?;
    Ok(added.id)
}

/// A `TEMP` table shadows the real table for unqualified names, a `TEMP`
/// trigger on a real table fires on the next borrower's writes — here it
/// would move them to tenant A — and a pragma makes the connection
/// read-only. A transaction that used raw SQL closes its connection, and
/// all of it goes.
#[tokio::test]
async fn temp_tables_triggers_and_pragmas_do_not_reach_the_next_tenant() -> TestResult {
    let (pool, _dir) = shop_file(1).await?;
    add_customer(&pool, A, "ann@example.test").await?;
    let b_customer = add_customer(&pool, B, "bea@example.test").await?;
    for ending in ["commit", "rollback", "drop"] {
        let a = tenant(A);
        let mut tx = pool.begin(&a).await?;
        sqlx::raw_sql(
            "CREATE TEMP TABLE IF NOT EXISTS customers AS SELECT * FROM main.customers WHERE tenant_id = 1;
             CREATE TEMP TRIGGER IF NOT EXISTS to_tenant_a AFTER INSERT ON main.orders
                 BEGIN UPDATE orders SET tenant_id = 1 WHERE id = new.id; END;
             PRAGMA query_only = ON;",
        )
        .execute(tx.raw_connection())
        .await?;
        match ending {
            "commit" => tx.commit().await?,
            "rollback" => tx.rollback().await?,
            _ => drop(tx),
        }
        let b = tenant(B);
        let mut tx = pool.begin(&b).await?;
        let order: Order = tx
            .fetch_one(
                Order::insert(&b)
                    .set(Order::CUSTOMER_ID, b_customer)
                    .set(Order::STATUS, ending.to_owned())
                    .set(Order::TOTAL_CENTS, 100)
                    .returning_all(),
            )
            .await?;
        let orders: Vec<Order> = tx
            .fetch_all(Order::select(&b).filter(Order::ID.eq(order.id)))
            .await?;
        assert_eq!(
            orders.len(),
            1,
            "{ending}: B's new order moved to another tenant"
        );
        let customers: Vec<Customer> = tx.fetch_all(Customer::select(&b)).await?;
        assert_eq!(customers.len(), 1, "{ending}: B read a shadowing table");
        tx.rollback().await?;
    }
    Ok(())
}

/// A raw `COMMIT` ends the transaction; `commit` reports it rather than
/// SQLite's "cannot commit - no transaction is active".
#[tokio::test]
async fn a_raw_commit_is_reported() -> TestResult {
    let (pool, _dir) = shop_file(1).await?;
    let a = tenant(A);
    for ending in ["commit", "rollback"] {
        let mut tx = pool.begin(&a).await?;
        sqlx::raw_sql("COMMIT").execute(tx.raw_connection()).await?;
        let outcome = match ending {
            "commit" => tx.commit().await,
            _ => tx.rollback().await,
        };
        assert!(
            matches!(outcome, Err(Error::TransactionEndedByRawSql { .. })),
            "{ending}: {outcome:?}"
        );
    }
    add_customer(&pool, A, "after@example.test").await?;
    Ok(())
}

/// A nested transaction that raw code began through sqlx and dropped is
/// rolled back by SQLite's worker thread after the drop: `commit` waits for
/// that before it reads the depth, and commits the outer transaction.
#[tokio::test]
async fn a_dropped_nested_transaction_of_raw_code_does_not_fail_the_commit() -> TestResult {
    let (pool, _dir) = shop_file(1).await?;
    let a = tenant(A);
    let mut tx = pool.begin(&a).await?;
    tx.execute(customer(&a, "outer@example.test")).await?;
    {
        let mut nested = sqlx::Connection::begin(tx.raw_connection()).await?;
        sqlx::query(
            "INSERT INTO customers (tenant_id, email, name, plan_id) VALUES (1, 'nested@example.test', 'N', 1)",
        )
        .execute(&mut *nested)
        .await?;
        // Dropped: sqlx queues its rollback.
    }
    tx.commit().await?;
    let mut tx = pool.begin(&a).await?;
    let emails: Vec<String> = tx
        .fetch_all::<Customer>(Customer::select(&a))
        .await?
        .into_iter()
        .map(|customer| customer.email)
        .collect();
    assert_eq!(emails, ["outer@example.test"]);
    tx.commit().await?;
    Ok(())
}
