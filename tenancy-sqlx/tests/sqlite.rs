//! The SQLite backend: two tenants in one database, every builder path run
//! as tenant A touches none of tenant B's rows, statements of another scope
//! are refused, and the generated DDL's composite foreign keys hold.
//!
//! SQLite has no Row Level Security, so these tests are the whole story
//! there: the builder's predicate is the only runtime guard.

use sqlx::Sqlite;
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::{
    CrossTenant, Error, Filter, OwnerPool, StatementScope, TenantId, TenantPool, TenantPoolOptions,
    TenantTransaction,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

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
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(unique)]
        pub email: String,
        #[tenancy(references = Plan)]
        pub plan_id: i64,
    }

    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Order {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        #[tenancy(index)]
        pub status: String,
    }
}
use tables::{Customer, Order, Plan};

const A: i64 = 1;
const B: i64 = 2;

fn tenant(key: i64) -> TenantId {
    TenantId::from_verified(key)
}

fn tables() -> TableSet {
    TableSet::new()
        .with::<Plan>()
        .with::<Customer>()
        .with::<Order>()
}

/// What was seeded for one tenant.
struct Seeded {
    customers: Vec<i64>,
    orders: Vec<i64>,
}

/// An in-memory database with the tables, one plan, and for each tenant two
/// customers with an open and a paid order each.
async fn two_tenants() -> Result<(TenantPool<Sqlite>, Seeded, Seeded), Box<dyn std::error::Error>> {
    let pool = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new()).await?;
    let owner = pool.owner_pool(CrossTenant::with_reason("test set-up"));
    owner.apply_schema(&tables()).await?;
    owner
        .execute(
            Plan::insert()
                .set(Plan::ID, 1)
                .set(Plan::NAME, "pro".to_owned()),
        )
        .await?;
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
            .fetch_one(
                Customer::insert(&tenant)
                    .set(Customer::EMAIL, format!("{name}@tenant{key}.test"))
                    .set(Customer::PLAN_ID, 1)
                    .returning_all(),
            )
            .await?;
        seeded.customers.push(customer.id);
        for status in ["open", "paid"] {
            let order: Order = tx
                .fetch_one(
                    Order::insert(&tenant)
                        .set(Order::CUSTOMER_ID, customer.id)
                        .set(Order::STATUS, status.to_owned())
                        .returning_all(),
                )
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
    let customer: Customer = tx
        .fetch_one(
            Customer::insert(&a)
                .set(Customer::EMAIL, format!("ada@tenant{B}.test"))
                .set(Customer::PLAN_ID, 1)
                .on_conflict_do_update((Customer::EMAIL,), (Customer::PLAN_ID,))
                .returning_all(),
        )
        .await?;
    assert_eq!(customer.tenant_id, A);
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
    let capability = CrossTenant::with_reason("test: a cross-tenant statement in the wrong place");
    let refused = tx.execute(Order::delete_across_tenants(&capability)).await;
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
        .fetch_all(Order::select_across_tenants(&CrossTenant::with_reason(
            "test: read all",
        )))
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
        statement.sql.contains(r#""orders"."tenant_id" = ?"#),
        "{}",
        statement.sql
    );
    assert_eq!(
        statement.scope,
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
    let pointing_into_b = tx
        .execute(
            Order::insert(&a)
                .set(Order::CUSTOMER_ID, b_rows.customers[0])
                .set(Order::STATUS, "open".to_owned()),
        )
        .await;
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

#[tokio::test]
async fn a_dropped_transaction_rolls_back_and_the_database_survives() -> TestResult {
    let pool = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new()).await?;
    pool.owner_pool(CrossTenant::with_reason("test set-up"))
        .apply_schema(&tables())
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
    let pool = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new()).await?;
    pool.owner_pool(CrossTenant::with_reason("test set-up"))
        .apply_schema(&tables())
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
        .owner_pool(CrossTenant::with_reason("test: inspect"))
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

    let owner = OwnerPool::connect_sqlite(&url, CrossTenant::with_reason("migrations")).await?;
    owner.apply_schema(&tables()).await?;
    // Safe to run again.
    owner.apply_schema(&tables()).await?;

    let pool = TenantPool::connect_sqlite(&url, TenantPoolOptions::new()).await?;
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

/// A database file with the tables and one plan, behind a tenant pool of
/// `connections` (a file, so that connections the pool closes do not take
/// the data with them). Keep the directory while the pool is used.
async fn database_file(
    connections: u32,
) -> Result<(TenantPool<Sqlite>, String, tempfile::TempDir), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("shop.db").display());
    let owner = OwnerPool::connect_sqlite(&url, CrossTenant::with_reason("migrations")).await?;
    owner.apply_schema(&tables()).await?;
    owner
        .execute(
            Plan::insert()
                .set(Plan::ID, 1)
                .set(Plan::NAME, "pro".to_owned()),
        )
        .await?;
    owner.pool().close().await;
    let connect: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
    let pool = TenantPool::connect_sqlite_with(
        sqlx::sqlite::SqlitePoolOptions::new().max_connections(connections),
        connect.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal),
        TenantPoolOptions::new(),
    )
    .await?;
    Ok((pool, url, dir))
}

/// A deferred `BEGIN` takes the write lock only when the transaction first
/// writes; if another connection wrote meanwhile, SQLite fails it at once
/// with `database is locked`, without waiting for the busy timeout. Tenant
/// transactions begin with `BEGIN IMMEDIATE` and wait their turn. The
/// workload reads before it writes, as the example service's create-order
/// handler does, on a pool of four.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_then_write_transactions_complete_under_concurrent_writers() -> TestResult {
    const TASKS: usize = 8;
    const TRANSACTIONS: usize = 40;
    let (pool, url, _dir) = database_file(4).await?;

    // Plain sqlx, for comparison: the same workload with a deferred BEGIN.
    let connect: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
    let plain = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(connect.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal))
        .await?;
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let plain = plain.clone();
            tokio::spawn(async move {
                for n in 0..TRANSACTIONS {
                    let mut tx = plain.begin().await?;
                    let _: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
                        .fetch_one(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO customers (tenant_id, email, plan_id) VALUES (9, ?, 1)",
                    )
                    .bind(format!("plain-{task}-{n}@example.test"))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                }
                Ok::<(), sqlx::Error>(())
            })
        })
        .collect();
    let mut failures = Vec::new();
    for task in tasks {
        if let Err(error) = task.await? {
            failures.push(error.to_string());
        }
    }
    assert!(
        failures
            .iter()
            .any(|failure| failure.contains("database is locked")),
        "a deferred BEGIN no longer fails under concurrent writers: {failures:?}"
    );
    plain.close().await;

    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let tenant = tenant((task % 2) as i64 + 1);
                for n in 0..TRANSACTIONS {
                    let mut tx = pool.begin(&tenant).await?;
                    let (_,): (i64,) = tx.fetch_one(Customer::select(&tenant).count()).await?;
                    tx.execute(
                        Customer::insert(&tenant)
                            .set(Customer::EMAIL, format!("{task}-{n}@example.test"))
                            .set(Customer::PLAN_ID, 1),
                    )
                    .await?;
                    tx.commit().await?;
                }
                Ok::<(), Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// A transaction dropped on an ordinary error path (no raw SQL) rolls back
/// and keeps its connection: neither the transaction nor the pool's release
/// check may read the connection's depth before SQLite's worker thread has
/// run the queued rollback, or they close a healthy connection.
#[tokio::test]
async fn an_ordinary_drop_keeps_the_connection() -> TestResult {
    let (pool, _url, _dir) = database_file(1).await?;
    let a = tenant(A);
    let add_ann = || {
        Customer::insert(&a)
            .set(Customer::EMAIL, "ann@example.test".to_owned())
            .set(Customer::PLAN_ID, 1)
    };
    let mut tx = pool.begin(&a).await?;
    tx.execute(add_ann()).await?;
    tx.commit().await?;
    // A per-connection value, set on the one connection: it is still there
    // only if no connection was closed and reopened.
    let shared = pool
        .owner_pool(CrossTenant::with_reason("test: mark the connection"))
        .pool()
        .clone();
    sqlx::raw_sql("PRAGMA cache_size = -4242")
        .execute(&shared)
        .await?;
    for round in 0..300 {
        let mut tx = pool.begin(&a).await?;
        let duplicate = tx.execute(add_ann()).await;
        assert!(duplicate.is_err(), "round {round}: {duplicate:?}");
        drop(tx);
        let marker: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&shared)
            .await?;
        assert_eq!(marker, -4242, "round {round}: the connection was replaced");
    }
    Ok(())
}
