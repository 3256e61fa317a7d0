//! Tenant transactions: the setting is transaction-local, set in one round
//! trip, and no connection reaches the next borrower inside a transaction.

mod support;

use std::pin::pin;

use support::{
    TestResult, assert_no_open_transaction, backends, poll_once, single_connection_pool,
};
use tenancy_sqlx::testing::TestDatabase;
use tenancy_sqlx::{Postgres, TenantId, TenantPool, TenantPoolOptions};

const BEGIN_42: &str = r#"BEGIN; SET LOCAL "app"."tenant_id" = '42'"#;

async fn setting_and_pid(
    conn: &mut sqlx::PgConnection,
) -> Result<(Option<String>, i32), sqlx::Error> {
    sqlx::query_as("SELECT NULLIF(current_setting('app.tenant_id', true), ''), pg_backend_pid()")
        .fetch_one(conn)
        .await
}

#[tokio::test]
async fn the_setting_lives_exactly_as_long_as_the_transaction() -> TestResult {
    let db = TestDatabase::create().await?;
    let pool = single_connection_pool(&db, "setting-lifetime", TenantPoolOptions::new()).await?;

    let mut tx = pool.begin(&TenantId::from_verified(42_i64)).await?;
    let (inside, pid) = setting_and_pid(tx.raw_connection()).await?;
    assert_eq!(inside.as_deref(), Some("42"));
    tx.commit().await?;

    // The same connection (pool of one), in a transaction for another tenant
    // that sets nothing itself: nothing of tenant 42 is left.
    let mut tx = pool.begin(&TenantId::from_verified(7_i64)).await?;
    let (inside, same_pid) = setting_and_pid(tx.raw_connection()).await?;
    assert_eq!((inside.as_deref(), same_pid), (Some("7"), pid));
    tx.rollback().await?;

    let admin = db.admin_pool().await?;
    assert_no_open_transaction(&admin, "setting-lifetime").await?;
    Ok(())
}

#[tokio::test]
async fn after_commit_and_rollback_the_connection_has_no_tenant() -> TestResult {
    let db = TestDatabase::create().await?;
    // A pool of one that the test can also borrow from directly, to look at
    // the connection the way a careless next borrower would.
    let raw = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&db.app_url())
        .await?;
    let pool = TenantPool::<Postgres>::from_pool(raw.clone(), TenantPoolOptions::new()).await?;

    for end_with_commit in [true, false] {
        let tx = pool.begin(&TenantId::from_verified(42_i64)).await?;
        if end_with_commit {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        let mut conn = raw.acquire().await?;
        let (setting, _) = setting_and_pid(&mut conn).await?;
        assert_eq!(
            setting, None,
            "tenant left on the connection (commit: {end_with_commit})"
        );
        // SAVEPOINT fails outside a transaction block.
        let savepoint = sqlx::query("SAVEPOINT probe").execute(&mut *conn).await;
        assert!(
            savepoint.is_err(),
            "connection left inside a transaction (commit: {end_with_commit})"
        );
    }
    Ok(())
}

#[tokio::test]
async fn begin_and_set_config_are_one_simple_query() -> TestResult {
    let db = TestDatabase::create().await?;
    let admin = db.admin_pool().await?;
    let pool = single_connection_pool(&db, "one-round-trip", TenantPoolOptions::new()).await?;

    let tx = pool.begin(&TenantId::from_verified(42_i64)).await?;
    // The server's record of the backend's last query is the whole text of
    // the last message it received. Two round trips would leave only
    // `SET LOCAL ..` there, and a session-level `SET` would show as `SET ..`.
    let seen = backends(&admin, "one-round-trip").await?;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (seen[0].state.as_str(), seen[0].query.as_str()),
        ("idle in transaction", BEGIN_42)
    );
    tx.rollback().await?;
    Ok(())
}

#[tokio::test]
async fn dropping_the_transaction_rolls_back_before_reuse() -> TestResult {
    let db = TestDatabase::create().await?;
    let admin = db.admin_pool().await?;
    let pool = single_connection_pool(&db, "dropped-tx", TenantPoolOptions::new()).await?;

    let tx = pool.begin(&TenantId::from_verified(42_i64)).await?;
    drop(tx);
    assert_no_open_transaction(&admin, "dropped-tx").await?;

    // A panic in the task that holds the transaction.
    let in_task = pool.clone();
    let panicked = tokio::spawn(async move {
        let _tx = in_task.begin(&TenantId::from_verified(42_i64)).await;
        panic!("request handler failed");
    })
    .await;
    assert!(panicked.is_err());
    assert_no_open_transaction(&admin, "dropped-tx").await?;

    // A query future dropped while the server is still running it.
    let mut tx = pool.begin(&TenantId::from_verified(42_i64)).await?;
    {
        let mut slow = pin!(sqlx::query("SELECT pg_sleep(0.3)").execute(tx.raw_connection()));
        assert!(poll_once(slow.as_mut()).is_pending());
    }
    drop(tx);
    assert_no_open_transaction(&admin, "dropped-tx").await?;

    let mut tx = pool.begin(&TenantId::from_verified(7_i64)).await?;
    let (setting, _) = setting_and_pid(tx.raw_connection()).await?;
    assert_eq!(setting.as_deref(), Some("7"));
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_session_level_setting_made_by_raw_sql_does_not_survive() -> TestResult {
    let db = TestDatabase::create().await?;
    let raw = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&db.app_url())
        .await?;
    let pool = TenantPool::<Postgres>::from_pool(raw.clone(), TenantPoolOptions::new()).await?;

    let mut tx = pool.begin(&TenantId::from_verified(42_i64)).await?;
    sqlx::query("SET app.tenant_id = '42'")
        .execute(tx.raw_connection())
        .await?;
    tx.commit().await?;

    let (setting, _) = setting_and_pid(&mut *raw.acquire().await?).await?;
    assert_eq!(setting, None);
    Ok(())
}

#[tokio::test]
async fn an_error_inside_the_transaction_leaves_a_clean_connection() -> TestResult {
    let db = TestDatabase::create().await?;
    let admin = db.admin_pool().await?;
    let pool = single_connection_pool(&db, "error-inside", TenantPoolOptions::new()).await?;

    for end in ["commit", "rollback", "drop"] {
        let mut tx = pool.begin(&TenantId::from_verified(42_i64)).await?;
        let failed = sqlx::query("SELECT 1 / 0")
            .execute(tx.raw_connection())
            .await;
        assert!(failed.is_err());
        // The transaction is aborted on the server; whatever ends it, the
        // connection comes back clean, and `commit` says nothing was saved.
        match end {
            "commit" => assert!(matches!(
                tx.commit().await,
                Err(tenancy_sqlx::Error::TransactionAborted { .. })
            )),
            "rollback" => tx.rollback().await?,
            _ => drop(tx),
        }
        assert_no_open_transaction(&admin, "error-inside").await?;
        let mut tx = pool.begin(&TenantId::from_verified(7_i64)).await?;
        let (setting, _) = setting_and_pid(tx.raw_connection()).await?;
        assert_eq!(setting.as_deref(), Some("7"), "after {end}");
        tx.commit().await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_connection_sqlx_still_counts_inside_a_transaction_is_closed_on_release() -> TestResult {
    let db = TestDatabase::create().await?;
    let admin = db.admin_pool().await?;
    let pool = single_connection_pool(&db, "leaked-savepoint", TenantPoolOptions::new()).await?;

    // Raw SQL opens a savepoint and leaks its guard, so that a COMMIT would
    // only release the savepoint and leave the transaction open, tenant 42
    // set: `commit` refuses instead of reporting the work as saved.
    let mut tx = pool.begin(&TenantId::from_verified(42_i64)).await?;
    let (_, pid) = setting_and_pid(tx.raw_connection()).await?;
    std::mem::forget(sqlx::Connection::begin(tx.raw_connection()).await?);
    let outcome = tx.commit().await;
    assert!(
        matches!(
            outcome,
            Err(tenancy_sqlx::Error::NestedTransactionLeftOpen { depth: 2, .. })
        ),
        "{outcome:?}"
    );

    // The connection is closed rather than lent out.
    assert_no_open_transaction(&admin, "leaked-savepoint").await?;
    let mut tx = pool.begin(&TenantId::from_verified(7_i64)).await?;
    let (setting, new_pid) = setting_and_pid(tx.raw_connection()).await?;
    assert_eq!(setting.as_deref(), Some("7"));
    assert_ne!(new_pid, pid);
    tx.rollback().await?;
    Ok(())
}

#[tokio::test]
async fn a_leaked_raw_savepoint_is_caught_on_a_pool_made_elsewhere() -> TestResult {
    let db = TestDatabase::create().await?;
    let raw = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&db.app_url())
        .await?;
    let pool = TenantPool::<Postgres>::from_pool(raw.clone(), TenantPoolOptions::new()).await?;

    let mut tx = pool.begin(&TenantId::from_verified(42_i64)).await?;
    std::mem::forget(sqlx::Connection::begin(tx.raw_connection()).await?);
    let outcome = tx.commit().await;
    assert!(
        matches!(
            outcome,
            Err(tenancy_sqlx::Error::NestedTransactionLeftOpen { .. })
        ),
        "{outcome:?}"
    );

    // A careless direct borrower of the same pool gets a fresh connection.
    let mut conn = raw.acquire().await?;
    let (setting, _) = setting_and_pid(&mut conn).await?;
    assert_eq!(setting, None);
    let savepoint = sqlx::query("SAVEPOINT probe").execute(&mut *conn).await;
    assert!(
        savepoint.is_err(),
        "connection lent out inside a transaction"
    );
    Ok(())
}
