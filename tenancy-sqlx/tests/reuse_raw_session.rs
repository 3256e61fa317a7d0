//! Session state that raw SQL leaves on a pooled connection never reaches
//! the next borrower, another tenant: one test per kind of state, each
//! ending the transaction every way it can end. The reset runs inside the
//! transaction, before `COMMIT` or `ROLLBACK` (so that behind a
//! transaction-mode pooler it reaches the server connection the raw SQL ran
//! on), and the connection is kept; where it cannot run in place, the
//! connection is closed. Raw SQL that ends the transaction itself, or fails
//! and aborts it, makes `commit` say so.
//!
//! Each pool has one connection, so the next borrower gets the very
//! connection the previous transaction used, or a new one if that one was
//! closed, which the backend's pid tells.

use std::time::Duration;

use sqlx::AssertSqlSafe;
use tenancy_sqlx::testing::APP_ROLE;
use tenancy_sqlx::{Error, Postgres, SettingName, TenantPoolOptions};
use tenancy_test::TestResult;
use tenancy_test::capture::{Capture, refresh_interest};
use tenancy_test::pooled::PooledShop;
use tenancy_test::probe::{PROBE_SETTING, backend_pid, next_borrower, tenant_outside_transactions};
use tenancy_test::server::{backends, single_connection_pool};
use tenancy_test::shop::tables::{Order, table_set};
use tenancy_test::shop::{A, B, pool_options, shop, tenant};

/// How tenant A's transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Commit,
    Rollback,
    Drop,
}

const ENDINGS: [Ending; 3] = [Ending::Commit, Ending::Rollback, Ending::Drop];

/// Tenant A writes a row, runs `raw` and ends its transaction with
/// `ending`; then the next borrower, tenant B, finds the session as a fresh
/// connection does. A transaction that ends with `commit` or `rollback`
/// keeps its connection (the reset ran in place); one that is dropped
/// closes it.
async fn assert_clean_after(h: &PooledShop, raw: &str, ending: Ending) -> TestResult {
    let case = format!("{raw:?}, then {ending:?}");
    let a = tenant(A);
    let mut tx = h.pool.begin(&a).await?;
    let pid = backend_pid(tx.raw_connection()).await?;
    tx.execute(Order::update(&a).set(Order::STATUS, format!("{ending:?}")))
        .await?;
    sqlx::raw_sql(AssertSqlSafe(raw.to_owned()))
        .execute(tx.raw_connection())
        .await?;
    match ending {
        Ending::Commit => tx.commit().await?,
        Ending::Rollback => tx.rollback().await?,
        Ending::Drop => drop(tx),
    }
    let next_pid = h.assert_next_borrower_is_clean(&case).await?;
    let kept = next_pid == pid;
    if kept != (ending != Ending::Drop) {
        return Err(format!(
            "after {case}, the connection was {}",
            if kept { "kept" } else { "replaced" }
        )
        .into());
    }
    Ok(())
}

/// [`assert_clean_after`], for every ending.
async fn assert_clean_after_every_ending(h: &PooledShop, raw: &str) -> TestResult {
    for ending in ENDINGS {
        assert_clean_after(h, raw, ending).await?;
    }
    Ok(())
}

/// `SET ROLE` at session level would run the next tenant's statements as
/// another role. The pool logs in as a role of its own, a member of the
/// application role that it can `SET ROLE` to.
#[tokio::test]
async fn a_session_role_does_not_reach_the_next_tenant() -> TestResult {
    let db = shop(&[A, B]).await?;
    let login = db.create_role("login", &[]).await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "GRANT {APP_ROLE} TO \"{}\"",
        login.name()
    )))
    .execute(&db.admin_pool().await?)
    .await?;
    let url = login.url().to_owned();
    let h = PooledShop::with(db, "raw-role", &url, pool_options()).await?;
    assert_eq!(h.fresh.current_user, login.name());
    assert_clean_after_every_ending(&h, &format!("SET ROLE {APP_ROLE}")).await?;
    assert_clean_after_every_ending(
        &h,
        &format!("SELECT set_config('role', '{APP_ROLE}', false)"),
    )
    .await
}

#[tokio::test]
async fn a_session_search_path_does_not_reach_the_next_tenant() -> TestResult {
    let h = PooledShop::new("raw-search-path").await?;
    assert_clean_after_every_ending(&h, "SET search_path = pg_temp, tenancy_elsewhere, public")
        .await?;
    assert_clean_after_every_ending(&h, "SET SESSION search_path = tenancy_elsewhere").await
}

/// Settings made for the session with `SET`, `SET SESSION` or
/// `set_config(.., false)`, the tenant setting among them: outside a tenant
/// transaction a session-level tenant would act as that tenant.
#[tokio::test]
async fn session_settings_do_not_reach_the_next_tenant() -> TestResult {
    let h = PooledShop::new("raw-settings").await?;
    for raw in [
        "SET statement_timeout = '4321s'",
        "SET SESSION statement_timeout = '4321s'",
        &format!("SELECT set_config('{PROBE_SETTING}', 'left over', false)"),
        &format!("SET {PROBE_SETTING} = 'left over'"),
        "SET app.tenant_id = '1'",
        "SELECT set_config('app.tenant_id', '1', false)",
    ] {
        assert_clean_after_every_ending(&h, raw).await?;
        let outside = tenant_outside_transactions(&h.pool, B).await?;
        assert_eq!(outside, None, "after {raw:?}, sessions hold a tenant");
    }
    Ok(())
}

/// Session-level advisory locks survive `COMMIT` and `ROLLBACK`: the next
/// tenant would hold the previous tenant's lock, and everyone else would
/// wait for it.
#[tokio::test]
async fn advisory_locks_do_not_reach_the_next_tenant() -> TestResult {
    let h = PooledShop::new("raw-advisory-lock").await?;
    for ending in ENDINGS {
        assert_clean_after(&h, "SELECT pg_advisory_lock(4242)", ending).await?;
        let free: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(4242) AND pg_advisory_unlock(4242)")
                .fetch_one(&h.admin)
                .await?;
        assert!(free, "the lock is still held after {ending:?}");
    }
    Ok(())
}

#[tokio::test]
async fn listen_does_not_reach_the_next_tenant() -> TestResult {
    let h = PooledShop::new("raw-listen").await?;
    assert_clean_after_every_ending(&h, "LISTEN tenancy_orders_of_tenant_1").await
}

/// Statements made with SQL `PREPARE` outlive `ROLLBACK`; the next tenant
/// could run them, and could not prepare its own under the same name.
/// sqlx's own prepared statements stay: its cache still names them.
#[tokio::test]
async fn prepared_statements_do_not_reach_the_next_tenant() -> TestResult {
    let h = PooledShop::new("raw-prepare").await?;
    let raw = "PREPARE orders_of_the_tenant AS SELECT id FROM orders";
    assert_clean_after_every_ending(&h, raw).await?;

    let b = tenant(B);
    let mut tx = h.pool.begin(&b).await?;
    sqlx::raw_sql(raw).execute(tx.raw_connection()).await?;
    // The builder's statements, prepared by sqlx before and after.
    for _ in 0..2 {
        let orders: Vec<Order> = tx.fetch_all(Order::select(&b)).await?;
        assert_eq!(orders.len(), 4);
    }
    tx.commit().await?;
    let mut tx = h.pool.begin(&b).await?;
    let orders: Vec<Order> = tx.fetch_all(Order::select(&b)).await?;
    assert_eq!(orders.len(), 4, "sqlx's cached statement was dropped");
    tx.commit().await?;
    Ok(())
}

/// A session made read-only would make the next tenant's writes fail.
#[tokio::test]
async fn read_only_mode_does_not_reach_the_next_tenant() -> TestResult {
    let h = PooledShop::new("raw-read-only").await?;
    for raw in [
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        "SET default_transaction_read_only = on",
    ] {
        assert_clean_after_every_ending(&h, raw).await?;
        let b = tenant(B);
        let mut tx = h.pool.begin(&b).await?;
        let written = tx
            .execute(Order::update(&b).set(Order::STATUS, "written"))
            .await?;
        assert_eq!(written, 4, "after {raw:?}");
        tx.rollback().await?;
    }
    Ok(())
}

/// With `row_security = off`, every query a policy filters fails: the next
/// tenant's raw SQL would.
#[tokio::test]
async fn row_security_off_does_not_reach_the_next_tenant() -> TestResult {
    let h = PooledShop::new("raw-row-security").await?;
    assert_clean_after_every_ending(&h, "SET row_security = off").await?;
    let mut tx = h.pool.begin(&tenant(B)).await?;
    let seen: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM orders")
        .fetch_all(tx.raw_connection())
        .await?;
    assert_eq!(seen, [B; 4]);
    tx.rollback().await?;
    Ok(())
}

/// Tenant A keeps its customers in a temporary table and commits. Tenant B's
/// raw SQL, written the same careless way, must find its own, not A's: no
/// policy filters a temporary table.
#[tokio::test]
async fn a_temporary_table_does_not_reach_the_next_tenant() -> TestResult {
    let h = PooledShop::new("raw-temp-table").await?;
    let scratch =
        "CREATE TEMP TABLE IF NOT EXISTS scratch AS SELECT email, tenant_id FROM customers";
    assert_clean_after_every_ending(&h, scratch).await?;
    assert_clean_after_every_ending(&h, "CREATE TEMP VIEW orders AS SELECT * FROM public.orders")
        .await?;

    let mut tx = h.pool.begin(&tenant(B)).await?;
    sqlx::raw_sql(scratch).execute(tx.raw_connection()).await?;
    let seen: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT tenant_id FROM scratch")
        .fetch_all(tx.raw_connection())
        .await?;
    assert_eq!(seen, [B], "tenant A's rows reached tenant B");
    tx.rollback().await?;
    Ok(())
}

/// `currval` and `lastval` are per session: the next tenant would read the
/// last id the previous one drew. (The ids come from one sequence for all
/// tenants, so they say little a tenant cannot learn by inserting; the
/// session is returned to what a fresh one is all the same.)
#[tokio::test]
async fn sequence_values_do_not_reach_the_next_tenant() -> TestResult {
    let h = PooledShop::new("raw-sequence").await?;
    for ending in ENDINGS {
        assert_clean_after(
            &h,
            "SELECT nextval(pg_get_serial_sequence('orders', 'id'))",
            ending,
        )
        .await?;
        let mut tx = h.pool.begin(&tenant(B)).await?;
        let last = sqlx::query_scalar::<_, i64>("SELECT lastval()")
            .fetch_one(tx.raw_connection())
            .await;
        assert!(
            last.as_ref()
                .is_err_and(|error| error.to_string().contains("lastval is not yet defined")),
            "after {ending:?}, the next tenant read {last:?}"
        );
        tx.rollback().await?;
    }
    Ok(())
}

/// A cursor declared `WITH HOLD` outlives its transaction, with the rows it
/// read under tenant A's context.
#[tokio::test]
async fn a_held_cursor_does_not_reach_the_next_tenant() -> TestResult {
    let h = PooledShop::new("raw-cursor").await?;
    assert_clean_after_every_ending(
        &h,
        "DECLARE held CURSOR WITH HOLD FOR SELECT email FROM customers",
    )
    .await
}

/// A setting whose parts are SQL keywords is valid; the reset after raw SQL
/// must not fail on it and cost the connection.
#[tokio::test]
async fn a_setting_named_with_keywords_is_reset_in_place() -> TestResult {
    let db = shop(&[A, B]).await?;
    let setting = SettingName::new("select.user")?;
    let pool = single_connection_pool(
        &db.app_url(),
        "raw-keyword-setting",
        TenantPoolOptions::new(&table_set().with_setting(setting)),
    )
    .await?;
    let mut tx = pool.begin(&tenant(A)).await?;
    let first = backend_pid(tx.raw_connection()).await?;
    sqlx::raw_sql(r#"SET "select"."user" = '1'"#)
        .execute(tx.raw_connection())
        .await?;
    tx.commit().await?;

    let mut tx = pool.begin(&tenant(B)).await?;
    assert_eq!(backend_pid(tx.raw_connection()).await?, first);
    let seen: Option<String> = sqlx::query_scalar("SELECT current_setting('select.user', true)")
        .fetch_one(tx.raw_connection())
        .await?;
    assert_eq!(seen.as_deref(), Some("2"));
    tx.commit().await?;
    Ok(())
}

/// A raw `COMMIT` or `ROLLBACK` ends the library's transaction: `commit` and
/// `rollback` must not report success for what they did not do. What ran
/// before a raw `COMMIT` is committed — by it. The connection is closed.
#[tokio::test]
async fn a_raw_commit_or_rollback_is_reported_and_the_connection_closed() -> TestResult {
    let h = PooledShop::new("raw-end").await?;
    let a = tenant(A);
    for (raw, kept) in [("COMMIT", true), ("ROLLBACK", false)] {
        for ending in [Ending::Commit, Ending::Rollback] {
            let status = format!("{raw} then {ending:?}");
            let mut tx = h.pool.begin(&a).await?;
            let pid = backend_pid(tx.raw_connection()).await?;
            tx.execute(Order::update(&a).set(Order::STATUS, status.clone()))
                .await?;
            sqlx::raw_sql(AssertSqlSafe(raw))
                .execute(tx.raw_connection())
                .await?;
            let outcome = match ending {
                Ending::Commit => tx.commit().await,
                _ => tx.rollback().await,
            };
            assert!(
                matches!(outcome, Err(Error::TransactionEndedByRawSql { tenant }) if tenant == a.key_value()),
                "{status}: {outcome:?}"
            );
            let written: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = $1")
                .bind(&status)
                .fetch_one(&h.admin)
                .await?;
            assert_eq!(written, if kept { 4 } else { 0 }, "{status}");
            let (next_pid, state) = next_borrower(&h.pool, B).await?;
            assert_ne!(next_pid, pid, "{status}: the connection was reused");
            assert_eq!(state, h.fresh, "{status}");
        }
    }

    // sqlx's own calls on the raw connection end it just the same.
    let mut tx = h.pool.begin(&a).await?;
    <<Postgres as sqlx::Database>::TransactionManager as sqlx_core::transaction::TransactionManager>::commit(
        tx.raw_connection(),
    )
    .await?;
    let outcome = tx.commit().await;
    assert!(
        matches!(outcome, Err(Error::TransactionEndedByRawSql { .. })),
        "{outcome:?}"
    );
    Ok(())
}

/// A raw statement that fails aborts the transaction on PostgreSQL: the
/// server answers `COMMIT` with a rollback, and sqlx alone would return
/// `Ok` for work that was not saved. Nothing can be reset in an aborted
/// transaction, so the reset follows the `ROLLBACK` in one query and the
/// connection is closed.
#[tokio::test]
async fn a_failed_raw_statement_makes_commit_report_the_abort() -> TestResult {
    let h = PooledShop::new("raw-abort").await?;
    let a = tenant(A);
    for ending in [Ending::Commit, Ending::Rollback] {
        let mut tx = h.pool.begin(&a).await?;
        let pid = backend_pid(tx.raw_connection()).await?;
        tx.execute(Order::update(&a).set(Order::STATUS, "lost"))
            .await?;
        sqlx::raw_sql("SET statement_timeout = '4321s'; SELECT pg_advisory_lock(4243)")
            .execute(tx.raw_connection())
            .await?;
        let failed = sqlx::query("SELECT 1 / 0")
            .execute(tx.raw_connection())
            .await;
        assert!(failed.is_err());
        let outcome = match ending {
            Ending::Commit => tx.commit().await,
            _ => tx.rollback().await,
        };
        match ending {
            Ending::Commit => assert!(
                matches!(outcome, Err(Error::TransactionAborted { .. })),
                "commit of an aborted transaction: {outcome:?}"
            ),
            _ => assert!(outcome.is_ok(), "{outcome:?}"),
        }
        let lost: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'lost'")
            .fetch_one(&h.admin)
            .await?;
        assert_eq!(lost, 0, "a write before the error was committed");
        let free: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(4243) AND pg_advisory_unlock(4243)")
                .fetch_one(&h.admin)
                .await?;
        assert!(free, "the lock is still held after {ending:?}");
        let (next_pid, state) = next_borrower(&h.pool, B).await?;
        assert_ne!(next_pid, pid, "the connection was reused");
        assert_eq!(state, h.fresh);
    }
    Ok(())
}

/// The server's record of the connection's last statement, and sqlx's own
/// log of what it executed: without raw SQL, `commit` sends `COMMIT` and
/// nothing else; after raw SQL, the reset goes first, inside the
/// transaction, and `COMMIT` is still the last statement the server saw.
#[tokio::test]
async fn the_reset_runs_before_commit_and_the_normal_path_sends_nothing_more() -> TestResult {
    let h = PooledShop::new("raw-reset-order").await?;
    let (captured, _guard) = Capture::install();
    // sqlx's statement log is one callsite: once an event of it is seen
    // here, all are.
    for _ in 0..100 {
        sqlx::query("SELECT 1").execute(&h.admin).await?;
        if !captured.events_of("sqlx::query").is_empty() {
            break;
        }
        refresh_interest();
    }
    assert!(
        !captured.events_of("sqlx::query").is_empty(),
        "sqlx's statement log never reached the capture"
    );
    let a = tenant(A);
    for raw_sql in [false, true] {
        let mut tx = h.pool.begin(&a).await?;
        tx.execute(Order::update(&a).set(Order::STATUS, "seen"))
            .await?;
        if raw_sql {
            sqlx::raw_sql("SET search_path = tenancy_elsewhere")
                .execute(tx.raw_connection())
                .await?;
        }
        captured.clear();
        tx.commit().await?;
        let sent: Vec<String> = captured
            .events_of("sqlx::query")
            .iter()
            .map(|event| match event.field("db.statement").map(str::trim) {
                // sqlx logs the whole statement only when it is longer
                // than its summary.
                Some(statement) if !statement.is_empty() => statement.to_owned(),
                _ => event.field("summary").unwrap_or_default().to_owned(),
            })
            .collect();
        let last = backends(&h.admin, &h.name).await?;
        assert_eq!(last.len(), 1, "{last:?}");
        assert_eq!(last[0].query, "COMMIT", "raw SQL: {raw_sql}");
        if raw_sql {
            assert_eq!(sent.len(), 2, "{sent:#?}");
            assert!(sent[0].starts_with("SAVEPOINT"), "{sent:#?}");
            assert_eq!(sent[1], "COMMIT");
        } else {
            assert_eq!(sent, ["COMMIT"]);
        }
    }
    Ok(())
}

/// A raw statement still running when its transaction is dropped: the
/// connection is closed, not reused with the statement's answer pending.
#[tokio::test]
async fn a_raw_statement_dropped_mid_flight_does_not_reach_the_next_tenant() -> TestResult {
    let h = PooledShop::new("raw-dropped").await?;
    let mut tx = h.pool.begin(&tenant(A)).await?;
    let pid = backend_pid(tx.raw_connection()).await?;
    let sleep = sqlx::query("SELECT pg_sleep(2)").execute(tx.raw_connection());
    let timed_out = tokio::time::timeout(Duration::from_millis(200), sleep).await;
    assert!(timed_out.is_err(), "pg_sleep(2) finished within 200 ms");
    drop(tx);
    let (next_pid, state) = next_borrower(&h.pool, B).await?;
    assert_ne!(next_pid, pid);
    assert_eq!(state, h.fresh);
    Ok(())
}
