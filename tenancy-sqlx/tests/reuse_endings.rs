//! A pooled connection reaches its next borrower with no tenant and no open
//! transaction, however the previous transaction ended: commit, rollback,
//! an error, a panic, a drop, or raw SQL that left a nested transaction
//! open. The tenant setting lives exactly as long as its transaction.
//!
//! The pool has one connection, so the next borrower always gets the very
//! connection the previous transaction used, or a new one if that one was
//! closed. The probes read the server's view of the connection and, from
//! inside the next tenant transaction, the session it finds.

use std::pin::pin;
use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tenancy_sqlx::testing::APP_ROLE;
use tenancy_sqlx::{Error, PlanCacheMode, TenantTransaction, TransactionSettings};
use tenancy_test::pooled::PooledShop;
use tenancy_test::probe::{PROBE_SETTING, backend_pid, session_state, tenant_outside_transactions};
use tenancy_test::server::{backends, named};
use tenancy_test::shop::tables::Order;
use tenancy_test::shop::{A, B, customer, pool_options, tenant};
use tenancy_test::{BoxError, TestResult, poll_once};

/// The probes must see what they are meant to see, or the tests built on
/// them prove nothing: a session changed in each way the probe reads, and a
/// transaction left open, are told apart from a fresh one.
#[tokio::test]
async fn the_probes_see_a_changed_session_and_an_open_transaction() -> TestResult {
    let h = PooledShop::new("probe").await?;
    let mut session = PgConnection::connect_with(&named(&h.db.app_url(), "probe-raw")?).await?;
    let mut fresh_tx = session.begin().await?;
    let fresh = session_state(&mut fresh_tx).await?;
    fresh_tx.rollback().await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET search_path = elsewhere; SET row_security = off;
         SET default_transaction_read_only = on; SET statement_timeout = '4321s';
         SET {PROBE_SETTING} = 'left over'; SET app.tenant_id = '1';
         SELECT pg_advisory_lock(77); LISTEN somewhere; PREPARE p AS SELECT 1;
         CREATE TEMP TABLE t (x int); DECLARE c CURSOR WITH HOLD FOR SELECT 1;"
    )))
    .execute(&mut session)
    .await?;
    let mut tx = session.begin().await?;
    let changed = session_state(&mut tx).await?;
    tx.rollback().await?;
    let differs = |name: &str, same: bool| if same { vec![name.to_owned()] } else { vec![] };
    let unchanged: Vec<String> = [
        differs("search_path", changed.search_path == fresh.search_path),
        differs("row_security", changed.row_security == fresh.row_security),
        differs("read_only", changed.read_only == fresh.read_only),
        differs(
            "statement_timeout",
            changed.statement_timeout == fresh.statement_timeout,
        ),
        differs(
            "probe_setting",
            changed.probe_setting == fresh.probe_setting,
        ),
        differs("tenant", changed.tenant == fresh.tenant),
        differs(
            "advisory_locks",
            changed.advisory_locks == fresh.advisory_locks,
        ),
        differs("listening", changed.listening == fresh.listening),
        differs("prepared", changed.prepared == fresh.prepared),
        differs(
            "temporary_objects",
            changed.temporary_objects == fresh.temporary_objects,
        ),
        differs("cursors", changed.cursors == fresh.cursors),
    ]
    .concat();
    assert!(unchanged.is_empty(), "the probe missed {unchanged:?}");

    // A role the session switched to.
    let login = h.db.create_role("probe_login", &[]).await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "GRANT {APP_ROLE} TO \"{}\"",
        login.name()
    )))
    .execute(&h.admin)
    .await?;
    let mut switched = PgConnection::connect(login.url()).await?;
    let mut tx = switched.begin().await?;
    let before = session_state(&mut tx).await?;
    sqlx::raw_sql(AssertSqlSafe(format!("SET ROLE {APP_ROLE}")))
        .execute(&mut *tx)
        .await?;
    let after = session_state(&mut tx).await?;
    tx.rollback().await?;
    assert_ne!(before.current_user, after.current_user);
    switched.close().await?;

    // A transaction left open, as the server sees it.
    sqlx::raw_sql("BEGIN").execute(&mut session).await?;
    let seen = backends(&h.admin, "probe-raw").await?;
    assert!(
        seen.iter()
            .any(|backend| backend.state == "idle in transaction"),
        "{seen:?}"
    );
    Ok(())
}

#[tokio::test]
async fn after_commit_and_rollback() -> TestResult {
    let h = PooledShop::new("commit-rollback").await?;
    let a = tenant(A);
    let mut pid = None;
    for (raw_sql, commit) in [(false, true), (false, false), (true, true), (true, false)] {
        let mut tx = h.pool.begin(&a).await?;
        tx.execute(Order::update(&a).set(Order::STATUS, "changed"))
            .await?;
        if raw_sql {
            sqlx::query("UPDATE orders SET status = 'raw'")
                .execute(tx.raw_connection())
                .await?;
        }
        if commit {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        let case = format!("raw SQL: {raw_sql}, commit: {commit}");
        let next = h.assert_next_borrower_is_clean(&case).await?;
        assert_eq!(
            *pid.get_or_insert(next),
            next,
            "{case}: the connection changed"
        );
    }
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT status FROM orders WHERE tenant_id = $1")
            .bind(A)
            .fetch_all(&h.admin)
            .await?;
    assert_eq!(statuses, ["raw"]);
    assert_eq!(tenant_outside_transactions(&h.pool, B).await?, None);
    Ok(())
}

#[tokio::test]
async fn after_an_error_inside_the_transaction() -> TestResult {
    let h = PooledShop::new("error").await?;
    let a = tenant(A);
    // The seeded customer's e-mail again: a unique violation.
    let ann_again = || customer(&a, "ann@example.test");

    // A request handler that returns early with `?`: the transaction is
    // dropped with the server in an aborted transaction.
    let failed: Result<(), Error> = async {
        let mut tx = h.pool.begin(&a).await?;
        tx.execute(ann_again()).await?;
        tx.commit().await
    }
    .await;
    let error = failed.err().ok_or("no error")?;
    assert!(error.to_string().contains("duplicate key"), "{error}");
    h.assert_next_borrower_is_clean("an error, then `?`")
        .await?;

    // An error in raw SQL, however the transaction then ends.
    for end in ["commit", "rollback", "drop"] {
        let mut tx = h.pool.begin(&a).await?;
        let failed = sqlx::query("SELECT 1 / 0")
            .execute(tx.raw_connection())
            .await;
        assert!(failed.is_err());
        match end {
            "commit" => assert!(matches!(
                tx.commit().await,
                Err(Error::TransactionAborted { .. })
            )),
            "rollback" => tx.rollback().await?,
            _ => drop(tx),
        }
        h.assert_next_borrower_is_clean(&format!("a raw error, then {end}"))
            .await?;
    }

    // A built statement's error, then commit: PostgreSQL answers COMMIT in
    // an aborted transaction with ROLLBACK, and nothing of it is kept.
    let mut tx = h.pool.begin(&a).await?;
    tx.execute(Order::update(&a).set(Order::STATUS, "lost"))
        .await?;
    assert!(tx.execute(ann_again()).await.is_err());
    // sqlx alone would report `Ok(())` here although the server rolled the
    // transaction back; the tenant transaction reports the abort.
    let outcome = tx.commit().await;
    assert!(
        matches!(outcome, Err(Error::TransactionAborted { .. })),
        "{outcome:?}"
    );
    h.assert_next_borrower_is_clean("an error, then commit")
        .await?;
    let lost: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'lost'")
        .fetch_one(&h.admin)
        .await?;
    assert_eq!(lost, 0, "a write before the error was committed");
    Ok(())
}

#[tokio::test]
async fn after_a_panic_in_the_task_holding_the_transaction() -> TestResult {
    let h = PooledShop::new("panic").await?;
    for raw_sql in [false, true] {
        let pool = h.pool.clone();
        let task = tokio::spawn(async move {
            let a = tenant(A);
            let mut tx = pool.begin(&a).await?;
            tx.execute(Order::update(&a).set(Order::STATUS, "panicked"))
                .await?;
            if raw_sql {
                sqlx::query("SELECT 1").execute(tx.raw_connection()).await?;
            }
            crash_while_holding(&tx);
            tx.commit().await?;
            Ok::<(), BoxError>(())
        });
        let joined = task.await;
        assert!(
            joined.as_ref().is_err_and(|error| error.is_panic()),
            "the task did not panic: {joined:?}"
        );
        h.assert_next_borrower_is_clean(&format!("a panic (raw SQL: {raw_sql})"))
            .await?;
    }
    let panicked: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'panicked'")
        .fetch_one(&h.admin)
        .await?;
    assert_eq!(panicked, 0);
    Ok(())
}

/// A request handler that fails while it holds a transaction.
fn crash_while_holding(tx: &TenantTransaction) {
    panic!("the request handler of {} failed", tx.tenant());
}

#[tokio::test]
async fn dropping_the_transaction_rolls_back_before_reuse() -> TestResult {
    let h = PooledShop::new("dropped-tx").await?;
    let a = tenant(A);

    let mut tx = h.pool.begin(&a).await?;
    let pid = backend_pid(tx.raw_connection()).await?;
    tx.execute(Order::update(&a).set(Order::STATUS, "dropped"))
        .await?;
    drop(tx);
    h.assert_next_borrower_is_clean("a dropped transaction")
        .await?;

    // Without raw SQL, a dropped transaction keeps its connection.
    let tx = h.pool.begin(&a).await?;
    drop(tx);
    let next = h
        .assert_next_borrower_is_clean("a dropped transaction")
        .await?;
    assert_ne!(
        next, pid,
        "the transaction that used raw SQL kept its connection"
    );
    let tx = h.pool.begin(&a).await?;
    drop(tx);
    assert_eq!(
        h.assert_next_borrower_is_clean("a dropped transaction")
            .await?,
        next
    );

    // A raw query future dropped while the server is still running it.
    let mut tx = h.pool.begin(&a).await?;
    {
        let mut slow = pin!(sqlx::query("SELECT pg_sleep(0.3)").execute(tx.raw_connection()));
        assert!(poll_once(slow.as_mut()).is_pending());
    }
    drop(tx);
    h.assert_next_borrower_is_clean("a raw query dropped mid-flight")
        .await?;

    let dropped: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'dropped'")
        .fetch_one(&h.admin)
        .await?;
    assert_eq!(dropped, 0);
    Ok(())
}

/// `BEGIN` and the tenant's `SET LOCAL` go as one simple query, and the
/// transaction sends nothing else before its first statement. The server's
/// record of the backend's last query is the whole text of the last
/// message it received: two round trips would leave only `SET LOCAL ..`
/// there, and a session-level `SET` would show as `SET ..`.
#[tokio::test]
async fn begin_and_set_local_are_one_simple_query() -> TestResult {
    let h = PooledShop::new("one-round-trip").await?;
    let tx = h.pool.begin(&tenant(42)).await?;
    let seen = backends(&h.admin, &h.name).await?;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (seen[0].state.as_str(), seen[0].query.as_str()),
        (
            "idle in transaction",
            r#"BEGIN; SET LOCAL "app"."tenant_id" = '42'"#
        )
    );
    tx.rollback().await?;
    Ok(())
}

/// Every pin of the pool's transaction settings goes in that same simple
/// query, applies inside the transaction, and is gone after it: the next
/// borrower finds the session as a fresh connection does.
#[tokio::test]
async fn transaction_settings_are_pinned_in_the_same_simple_query() -> TestResult {
    let settings = TransactionSettings::new()
        .statement_timeout(Duration::from_millis(1234))
        .lock_timeout(Duration::from_millis(99))
        .plan_cache_mode(PlanCacheMode::ForceCustomPlan);
    let db = tenancy_test::shop::shop(&[A, B]).await?;
    let url = db.app_url();
    let h = PooledShop::with(
        db,
        "pins",
        &url,
        pool_options().transaction_settings(settings),
    )
    .await?;
    let mut tx = h.pool.begin(&tenant(42)).await?;
    let seen = backends(&h.admin, &h.name).await?;
    assert_eq!(
        seen[0].query,
        r#"BEGIN; SET LOCAL "app"."tenant_id" = '42'; SET LOCAL statement_timeout = '1234'; SET LOCAL lock_timeout = '99'; SET LOCAL plan_cache_mode = 'force_custom_plan'"#
    );
    let inside: (String, String, String) = sqlx::query_as(
        "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),
                current_setting('plan_cache_mode')",
    )
    .fetch_one(tx.raw_connection())
    .await?;
    assert_eq!(
        inside,
        (
            "1234ms".to_owned(),
            "99ms".to_owned(),
            "force_custom_plan".to_owned()
        )
    );
    let slow = sqlx::query("SELECT pg_sleep(5)")
        .execute(tx.raw_connection())
        .await
        .expect_err("the statement timeout cancels a longer statement");
    assert_eq!(tenancy_test::sql::sqlstate(&slow).as_deref(), Some("57014"));
    assert!(matches!(
        tx.commit().await,
        Err(Error::TransactionAborted { .. })
    ));
    h.assert_next_borrower_is_clean("pinned settings").await?;
    Ok(())
}

/// A read-only pool opens `BEGIN READ ONLY`: raw SQL cannot write either.
#[tokio::test]
async fn a_read_only_pool_refuses_writes_raw_sql_included() -> TestResult {
    let db = tenancy_test::shop::shop(&[A]).await?;
    let pool = tenancy_sqlx::TenantPool::connect(
        &db.app_url(),
        pool_options().transaction_settings(TransactionSettings::new().read_only()),
    )
    .await?;
    let mut tx = pool.begin(&tenant(A)).await?;
    let refused = sqlx::query("UPDATE orders SET status = 'x'")
        .execute(tx.raw_connection())
        .await
        .expect_err("a read-only transaction refuses writes");
    assert_eq!(
        tenancy_test::sql::sqlstate(&refused).as_deref(),
        Some("25006")
    );
    tx.rollback().await?;
    Ok(())
}

#[tokio::test]
async fn the_setting_lives_exactly_as_long_as_the_transaction() -> TestResult {
    let h = PooledShop::new("setting-lifetime").await?;
    let mut tx = h.pool.begin(&tenant(42)).await?;
    let inside = session_state(tx.raw_connection()).await?;
    let pid = backend_pid(tx.raw_connection()).await?;
    assert_eq!(inside.tenant.as_deref(), Some("42"));
    tx.commit().await?;

    // The same connection, in a transaction for another tenant that sets
    // nothing itself: nothing of tenant 42 is left.
    let mut tx = h.pool.begin(&tenant(7)).await?;
    let inside = session_state(tx.raw_connection()).await?;
    assert_eq!(
        (
            inside.tenant.as_deref(),
            backend_pid(tx.raw_connection()).await?
        ),
        (Some("7"), pid)
    );
    tx.rollback().await?;
    h.assert_next_borrower_is_clean("two transactions").await?;
    assert_eq!(tenant_outside_transactions(&h.pool, B).await?, None);
    Ok(())
}

/// Raw SQL opens a nested transaction through sqlx and leaks its guard, so
/// that `COMMIT` would only release the savepoint and leave the real
/// transaction open, tenant set: `commit` refuses rather than report work
/// as saved, and the connection is closed, which rolls everything back.
#[tokio::test]
async fn a_nested_transaction_left_open_by_raw_sql_is_reported_and_its_connection_closed()
-> TestResult {
    let h = PooledShop::new("leaked-savepoint").await?;
    let a = tenant(A);
    for commit in [true, false] {
        let mut tx = h.pool.begin(&a).await?;
        let pid = backend_pid(tx.raw_connection()).await?;
        tx.execute(Order::update(&a).set(Order::STATUS, "nested"))
            .await?;
        std::mem::forget(sqlx::Connection::begin(tx.raw_connection()).await?);
        if commit {
            let outcome = tx.commit().await;
            assert!(
                matches!(
                    outcome,
                    Err(Error::NestedTransactionLeftOpen { depth: 2, .. })
                ),
                "{outcome:?}"
            );
        } else {
            tx.rollback().await?;
        }
        let next = h
            .assert_next_borrower_is_clean(&format!("a leaked savepoint, commit: {commit}"))
            .await?;
        assert_ne!(next, pid, "the connection was reused");
    }
    let nested: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'nested'")
        .fetch_one(&h.admin)
        .await?;
    assert_eq!(nested, 0, "work reported as failed was committed");
    Ok(())
}
