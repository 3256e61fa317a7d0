//! SQLite pools: dropped transactions roll back and keep their connection,
//! an in-memory database outlives the connections the pool closes, files use
//! write-ahead logging with foreign keys enforced, read-then-write
//! transactions wait for each other instead of failing, and what raw SQL
//! leaves on a connection — `TEMP` tables and triggers, pragmas — never
//! reaches the next borrower, since such a connection is closed.

use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tenancy_sqlx::{CrossTenant, Error, OwnerPool, Select, TenantPool, TenantPoolOptions};
use tenancy_test::capture::Capture;
use tenancy_test::shop::tables::{Customer, Order, Plan, table_set};
use tenancy_test::shop::{A, B, customer, free_plan, tenant};
use tenancy_test::{BoxError, TestResult};

/// A database file with the shop's tables and one plan, behind a tenant
/// pool of `connections` (a file, so that connections the pool closes do not
/// take the data with them). Keep the directory while the pool is used.
async fn shop_file(connections: u32) -> TestResult<(TenantPool<Sqlite>, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("shop.db").display());
    let pool = TenantPool::connect_sqlite_with(
        SqlitePoolOptions::new().max_connections(connections),
        url.parse::<SqliteConnectOptions>()?,
        TenantPoolOptions::new(&table_set()),
    )
    .await?;
    let owner = pool.owner_pool(CrossTenant::with_reason("test set-up")?);
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

#[tokio::test]
async fn a_dropped_transaction_rolls_back_and_the_database_survives() -> TestResult {
    let pool =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&table_set())).await?;
    pool.owner_pool(CrossTenant::with_reason("test set-up")?)
        .apply_schema(&table_set())
        .await?;
    let a = tenant(A);
    {
        let mut tx = pool.begin(&a).await?;
        tx.execute(
            Plan::insert()
                .set(Plan::ID, 9)
                .set(Plan::NAME, "dropped".to_owned()),
        )
        .await?;
        // Dropped without commit.
    }
    let mut tx = pool.begin(&a).await?;
    let plans: Vec<Plan> = tx.fetch_all(Plan::select()).await?;
    assert!(plans.is_empty(), "{plans:?}");
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn an_in_memory_database_outlives_the_connections_the_pool_closes() -> TestResult {
    let pool =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&table_set())).await?;
    pool.owner_pool(CrossTenant::with_reason("test set-up")?)
        .apply_schema(&table_set())
        .await?;
    let a = tenant(A);
    for _ in 0..3 {
        // A transaction dropped after raw SQL closes its connection.
        let mut tx = pool.begin(&a).await?;
        sqlx::query("SELECT 1").execute(tx.raw_connection()).await?;
    }
    // Close every pooled connection (they come back to the pool in a
    // spawned task): only the pool's keeper is left.
    let sqlx_pool = pool
        .owner_pool(CrossTenant::with_reason("test: inspect")?)
        .pool()
        .clone();
    for _ in 0..100 {
        while let Some(connection) = sqlx_pool.try_acquire() {
            connection.close().await?;
        }
        if sqlx_pool.size() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(sqlx_pool.size(), 0);
    let mut tx = pool.begin(&a).await?;
    let orders: Vec<Order> = tx.fetch_all(Order::select(&a)).await?;
    assert!(orders.is_empty());
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_file_database_uses_wal_and_enforces_foreign_keys() -> TestResult {
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("tenants.db").display()
    );

    let owner = OwnerPool::connect_sqlite(&url, CrossTenant::with_reason("migrations")?)
        .await?
        .with_tables(&table_set());
    owner.apply_schema(&table_set()).await?;
    // Safe to run again.
    owner.apply_schema(&table_set()).await?;

    let pool = TenantPool::connect_sqlite(&url, TenantPoolOptions::new(&table_set())).await?;
    let mut tx = pool.begin(&tenant(A)).await?;
    let (journal,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(tx.raw_connection())
        .await?;
    let (enforced,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(tx.raw_connection())
        .await?;
    assert_eq!((journal.as_str(), enforced), ("wal", 1));
    let orders: Vec<Order> = tx.fetch_all(Order::select(&tenant(A))).await?;
    assert!(orders.is_empty());
    tx.commit().await?;
    pool.close().await;
    owner.pool().close().await;
    Ok(())
}

/// A file database shared by a pool of four connections, and a workload in
/// which every transaction reads before it writes — the example service's
/// create-order handler has this shape.
async fn read_then_write_workload(
    run: impl Fn(usize) -> tokio::task::JoinHandle<Result<(), BoxError>>,
) -> TestResult<Vec<String>> {
    let tasks: Vec<_> = (0..8).map(run).collect();
    let mut failures = Vec::new();
    for task in tasks {
        if let Err(error) = task.await? {
            failures.push(error.to_string());
        }
    }
    Ok(failures)
}

/// A deferred `BEGIN` takes the write lock only when the transaction first
/// writes; if another connection wrote meanwhile, SQLite fails it at once
/// with `database is locked`, without waiting for the busy timeout. Tenant
/// transactions begin with `BEGIN IMMEDIATE` and wait their turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_then_write_transactions_complete_under_concurrent_writers() -> TestResult {
    const TRANSACTIONS: usize = 40;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("shop.db").display());
    let owner = OwnerPool::connect_sqlite(&url, CrossTenant::with_reason("migrations")?)
        .await?
        .with_tables(&table_set());
    owner.apply_schema(&table_set()).await?;
    owner.execute(free_plan()).await?;
    let options = || -> TestResult<(SqlitePoolOptions, SqliteConnectOptions)> {
        let connect: SqliteConnectOptions = url.parse()?;
        Ok((
            SqlitePoolOptions::new().max_connections(4),
            connect.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal),
        ))
    };

    // Plain sqlx, for comparison: the same workload with a deferred BEGIN.
    let (pool_options, connect) = options()?;
    let plain = pool_options.connect_with(connect).await?;
    let failures = read_then_write_workload(|task| {
        let plain = plain.clone();
        tokio::spawn(async move {
            for n in 0..TRANSACTIONS {
                let mut tx = plain.begin().await?;
                let _: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
                    .fetch_one(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO customers (tenant_id, email, name, plan_id) VALUES (?, ?, 'P', 1)",
                )
                .bind(9_i64)
                .bind(format!("plain-{task}-{n}@example.test"))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
            Ok(())
        })
    })
    .await?;
    assert!(
        failures
            .iter()
            .any(|failure| failure.contains("database is locked")),
        "a deferred BEGIN no longer fails under concurrent writers: {failures:?}"
    );
    plain.close().await;

    let (pool_options, connect) = options()?;
    let pool = TenantPool::connect_sqlite_with(
        pool_options,
        connect,
        TenantPoolOptions::new(&table_set()),
    )
    .await?;
    let failures = read_then_write_workload(|task| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let key = (task % 2) as i64 + 1;
            let tenant = tenant(key);
            for n in 0..TRANSACTIONS {
                let mut tx = pool.begin(&tenant).await?;
                let (_,): (i64,) = tx.fetch_one(Customer::select(&tenant).count()).await?;
                tx.execute(customer(&tenant, &format!("{task}-{n}@example.test")))
                    .await?;
                tx.commit().await?;
            }
            Ok(())
        })
    })
    .await?;
    assert_eq!(failures, Vec::<String>::new());
    let capability = CrossTenant::with_reason("test: count")?;
    let written: Option<(i64,)> = owner
        .fetch_optional(Select::<Customer>::across_tenants(&capability).count())
        .await?;
    let expected = 8 * TRANSACTIONS;
    assert!(
        written.is_some_and(|(count,)| count as usize >= expected),
        "{written:?} rows, {expected} written by tenant transactions"
    );
    pool.close().await;
    owner.pool().close().await;
    Ok(())
}

/// A transaction dropped on an ordinary error path (no raw SQL) rolls back
/// and keeps its connection: the pool's release check waits for the queued
/// rollback before it reads the connection's transaction depth, rather than
/// racing SQLite's worker thread and closing a healthy connection.
#[tokio::test]
async fn an_ordinary_drop_keeps_the_connection() -> TestResult {
    let (captured, _guard) = Capture::install();
    let (pool, _dir) = shop_file(1).await?;
    add_customer(&pool, A, "ann@example.test").await?;
    // A per-connection value, set on the one connection: it is still there
    // only if no connection was closed and reopened.
    let shared = pool
        .owner_pool(CrossTenant::with_reason("test: mark the connection")?)
        .pool()
        .clone();
    sqlx::raw_sql("PRAGMA cache_size = -4242")
        .execute(&shared)
        .await?;
    let a = tenant(A);
    for round in 0..300 {
        let mut tx = pool.begin(&a).await?;
        let duplicate = tx.execute(customer(&a, "ann@example.test")).await;
        assert!(duplicate.is_err(), "round {round}: {duplicate:?}");
        drop(tx);
        let marker: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&shared)
            .await?;
        assert_eq!(marker, -4242, "round {round}: the connection was replaced");
    }
    let closing: Vec<_> = captured
        .events_of("tenancy::pool")
        .into_iter()
        .filter(|event| event.message().starts_with("closing a connection"))
        .collect();
    assert!(closing.is_empty(), "{closing:#?}");
    Ok(())
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

/// The owner pool shares the tenant pool's connections on SQLite; one that
/// comes back to the pool still inside a transaction opened through it is
/// closed, not lent to the next tenant inside that transaction.
#[tokio::test]
async fn a_connection_returned_inside_a_transaction_is_closed() -> TestResult {
    let (pool, _dir) = shop_file(1).await?;
    let shared = pool
        .owner_pool(CrossTenant::with_reason("test: leak a transaction")?)
        .pool()
        .clone();
    {
        let mut connection = shared.acquire().await?;
        std::mem::forget(sqlx::Connection::begin(&mut *connection).await?);
        sqlx::raw_sql("PRAGMA cache_size = -4242")
            .execute(&mut *connection)
            .await?;
    }
    add_customer(&pool, A, "ann@example.test").await?;
    let marker: i64 = sqlx::query_scalar("PRAGMA cache_size")
        .fetch_one(&shared)
        .await?;
    assert_ne!(
        marker, -4242,
        "the connection left inside a transaction was reused"
    );
    // What the tenant transaction wrote was committed, not left in the
    // leaked transaction.
    let mut tx = pool.begin(&tenant(A)).await?;
    let customers: Vec<Customer> = tx.fetch_all(Customer::select(&tenant(A))).await?;
    assert_eq!(customers.len(), 1);
    tx.commit().await?;
    tokio::time::sleep(Duration::from_millis(1)).await;
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
