//! Built statements through tenant transactions: rows decode with
//! `FromRow`, a statement for another scope is refused before anything
//! reaches the server, the transaction's futures are `Send`, and `commit`
//! after a failed statement reports that nothing was saved.

use tenancy_sqlx::testing::TestDatabase;
use tenancy_sqlx::{CrossTenant, Error, OwnerPool, Postgres, Select, TenantId, TenantPool};
use tenancy_test::TestResult;
use tenancy_test::server::{backends, single_connection_pool};
use tenancy_test::shop::tables::{Customer, Order, Plan, table_set};
use tenancy_test::shop::{customer, pool_options, shop};

async fn pool(db: &TestDatabase, application_name: &str) -> TestResult<TenantPool> {
    single_connection_pool(&db.app_url(), application_name, pool_options()).await
}

#[tokio::test]
async fn a_tenant_reads_and_writes_its_own_rows() -> TestResult {
    let db = shop(&[]).await?;
    let pool = pool(&db, "own-rows").await?;
    let tenant = TenantId::from_verified(5_i64);

    let mut tx = pool.begin(&tenant).await?;
    let inserted = tx.execute(customer(&tenant, "ada@five.test")).await?;
    assert_eq!(inserted, 1);
    let customer: Customer = tx.fetch_one(Customer::select(&tenant)).await?;
    assert_eq!(
        (customer.tenant_id, customer.email.as_str()),
        (5, "ada@five.test")
    );
    tx.execute(
        Order::insert(&tenant)
            .set(Order::CUSTOMER_ID, customer.id)
            .set(Order::STATUS, "open".to_owned())
            .set(Order::TOTAL_CENTS, 1200),
    )
    .await?;
    let updated = tx
        .execute(
            Order::update(&tenant)
                .set(Order::STATUS, "paid".to_owned())
                .filter(Order::STATUS.eq("open")),
        )
        .await?;
    assert_eq!(updated, 1);
    let orders: Vec<Order> = tx.fetch_all(Order::select(&tenant)).await?;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].status, "paid");
    tx.commit().await?;

    // Another tenant sees none of it.
    let other = TenantId::from_verified(6_i64);
    let mut tx = pool.begin(&other).await?;
    let none: Option<Customer> = tx.fetch_optional(Customer::select(&other)).await?;
    assert_eq!(none, None);
    let missing = tx.fetch_one::<Customer>(Customer::select(&other)).await;
    assert!(
        matches!(missing, Err(Error::Database(sqlx::Error::RowNotFound))),
        "{missing:?}"
    );
    Ok(())
}

#[tokio::test]
async fn global_tables_are_readable_in_any_tenant_transaction() -> TestResult {
    let db = shop(&[]).await?;
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("seed plans").expect("a stated reason"),
    )
    .with_tables(&table_set());
    owner
        .execute(
            Plan::insert()
                .set(Plan::ID, 3_i64)
                .set(Plan::NAME, "enterprise".to_owned()),
        )
        .await?;

    let pool = pool(&db, "global-rows").await?;
    let mut tx = pool.begin(&TenantId::from_verified(5_i64)).await?;
    let plans: Vec<Plan> = tx.fetch_all(Plan::select().order_by_asc(Plan::ID)).await?;
    let names: Vec<&str> = plans.iter().map(|plan| plan.name.as_str()).collect();
    assert_eq!(names, ["free", "pro", "enterprise"]);
    Ok(())
}

#[tokio::test]
async fn a_statement_for_another_tenant_is_refused_before_it_is_sent() -> TestResult {
    let db = shop(&[]).await?;
    let admin = db.admin_pool().await?;
    let pool = pool(&db, "mismatch").await?;
    let mine = TenantId::from_verified(1_i64);
    let theirs = TenantId::from_verified(2_i64);

    let mut tx = pool.begin(&mine).await?;
    let before = backends(&admin, "mismatch").await?;

    let refused = tx.fetch_all::<Customer>(Customer::select(&theirs)).await;
    match refused {
        Err(Error::TenantMismatch {
            statement,
            transaction,
        }) => {
            assert_eq!(
                (statement, transaction),
                (theirs.key_value(), mine.key_value())
            );
        }
        other => return Err(format!("expected TenantMismatch, got {other:?}").into()),
    }
    let message = tx
        .execute(Customer::delete(&theirs))
        .await
        .err()
        .ok_or("delete accepted")?
        .to_string();
    assert!(
        message.contains("tenant 2") && message.contains("tenant 1"),
        "{message}"
    );

    let capability = CrossTenant::with_reason("test: must be refused by a tenant transaction")
        .expect("a stated reason");
    let across = tx
        .fetch_all::<Customer>(Select::<Customer>::across_tenants(&capability))
        .await;
    assert!(
        matches!(across, Err(Error::CrossTenantInTenantTransaction { .. })),
        "{across:?}"
    );

    // The server's last query for this connection is still the BEGIN.
    assert_eq!(backends(&admin, "mismatch").await?, before);
    assert_eq!(
        before[0].query,
        r#"BEGIN; SET LOCAL "app"."tenant_id" = '1'"#
    );

    // The transaction is still usable.
    let mine_only: Vec<Customer> = tx.fetch_all(Customer::select(&mine)).await?;
    assert!(mine_only.is_empty());
    tx.commit().await?;
    Ok(())
}

/// Tenant work runs in spawned tasks and web handlers: the futures must be
/// `Send`.
#[allow(dead_code)]
fn transaction_futures_are_send(pool: TenantPool<Postgres>, tenant: TenantId<i64>) {
    fn assert_send<T: Send>(_: T) {}
    assert_send(async move {
        let mut tx = pool.begin(&tenant).await?;
        let _: Vec<Customer> = tx.fetch_all(Customer::select(&tenant)).await?;
        let _: Option<Customer> = tx.fetch_optional(Customer::select(&tenant)).await?;
        tx.execute(Order::delete(&tenant)).await?;
        tx.commit().await?;
        Ok::<(), Error>(())
    });
}

#[tokio::test]
async fn commit_after_a_failed_statement_reports_the_abort_and_saves_nothing() -> TestResult {
    let db = shop(&[]).await?;
    let pool = pool(&db, "aborted-commit").await?;
    let tenant = TenantId::from_verified(5_i64);
    let add = |email: &str| customer(&tenant, email);

    let mut tx = pool.begin(&tenant).await?;
    tx.execute(add("ada@five.test")).await?;
    // The same email again violates UNIQUE (tenant_id, email): PostgreSQL
    // aborts the whole transaction, including the first insert.
    let duplicate = tx.execute(add("ada@five.test")).await;
    assert!(
        matches!(duplicate, Err(Error::Database(_))),
        "{duplicate:?}"
    );
    let committed = tx.commit().await;
    assert!(
        matches!(committed, Err(Error::TransactionAborted { .. })),
        "commit of an aborted transaction must not report success: {committed:?}"
    );
    let message = committed.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("nothing was committed"), "{message}");

    // Nothing was saved, and the connection serves the next transaction.
    let mut tx = pool.begin(&tenant).await?;
    let customers: Vec<Customer> = tx.fetch_all(Customer::select(&tenant)).await?;
    assert_eq!(customers, []);
    tx.execute(add("ada@five.test")).await?;
    tx.commit().await?;
    Ok(())
}
