//! Read transactions end without waiting for the server, and connections
//! are handed out without sqlx's ping: the next borrower still finds a clean
//! connection (no tenant, no open transaction), a connection the server
//! closed while it was idle costs the caller nothing (its `BEGIN` is sent
//! once more, on another connection, exactly once), and nothing sent after
//! that is ever sent twice.
//!
//! The pool has one connection, handed out without a ping. The windows are
//! made, not caught: the server's backend is stopped (`SIGSTOP`) while the
//! client waits for an answer, and killed with `pg_terminate_backend`
//! where the test says.

use std::pin::pin;
use std::process::Command;
use std::task::Poll;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tenancy_sqlx::directory::{DatabaseUrl, Placement, StaticDirectory, TenantEntry};
use tenancy_sqlx::{
    Error, KeyValue, RouterOptions, TenantPool, TenantPoolOptions, TenantRouter,
    TransactionSettings,
};
use tenancy_test::capture::{Capture, Captured};
use tenancy_test::pooled::PooledShop;
use tenancy_test::probe::backend_pid;
use tenancy_test::server::{SETTLE, backends, wait_for};
use tenancy_test::shop::tables::Order;
use tenancy_test::shop::{A, B, ORDERS_PER_TENANT, customer, pool_options, shop, tenant};
use tenancy_test::{TestResult, poll_once};

/// What the pool logs when it sends `BEGIN` again on another connection.
const RETRIED: &str = "found closed by the server before BEGIN was sent";

/// How many times `BEGIN` was sent again since `captured` was cleared.
fn retries(captured: &Captured) -> usize {
    captured
        .events_of("tenancy::pool")
        .iter()
        .filter(|event| event.message().contains(RETRIED))
        .count()
}

/// The pid of the pool's one connection, idle in the pool: taken back,
/// its release work (sqlx's ping) answered, as the server says too.
async fn idle_backend(h: &PooledShop) -> TestResult<i32> {
    let deadline = Instant::now() + SETTLE;
    while h.pool.num_idle() != 1 {
        if Instant::now() > deadline {
            return Err("the pool never took its connection back".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let seen = wait_for(
        &h.admin,
        &h.name,
        "the pool's connection idle",
        |seen| matches!(seen, [backend] if backend.state == "idle"),
    )
    .await?;
    Ok(seen[0].pid)
}

/// Ends the session of backend `pid` as an administrator would, and waits
/// until it is gone.
async fn terminate(admin: &PgPool, name: &str, pid: i32) -> TestResult {
    let signalled: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(admin)
        .await?;
    assert!(signalled, "backend {pid} was not there to terminate");
    wait_for(admin, name, "the terminated backend gone", |seen| {
        seen.iter().all(|backend| backend.pid != pid)
    })
    .await?;
    Ok(())
}

/// Sends `signal` (`STOP`, `CONT`) to the server process `pid`.
fn signal(signal: &str, pid: i32) -> TestResult {
    let status = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()?;
    if !status.success() {
        return Err(format!("kill -{signal} {pid} failed: {status}").into());
    }
    Ok(())
}

/// The tenant's orders, read through a read transaction with the builder.
async fn orders_read(h: &PooledShop, key: i64) -> TestResult<Vec<Order>> {
    let tenant = tenant(key);
    let mut read = h.pool.read(&tenant).await?;
    let orders = read.fetch_all::<Order>(Order::select(&tenant)).await?;
    read.end();
    Ok(orders)
}

/// A read sees its tenant's rows only, runs `READ ONLY` on the server, and
/// leaves a clean connection behind, reused: the queued `ROLLBACK` ran.
#[tokio::test]
async fn a_read_sees_its_tenant_refuses_writes_and_leaves_the_connection_clean() -> TestResult {
    let h = PooledShop::new("read-basics").await?;
    let before = idle_backend(&h).await?;
    let orders = orders_read(&h, A).await?;
    assert_eq!(orders.len(), ORDERS_PER_TENANT as usize);
    assert!(
        orders.iter().all(|order| order.tenant_id == A),
        "{orders:?}"
    );
    let next = h
        .assert_next_borrower_is_clean("a read ended without waiting")
        .await?;
    assert_eq!(next, before, "the read's connection was not reused");

    // A write in a read fails on the server instead of being rolled back
    // unseen when the read ends.
    let a = tenant(A);
    let mut read = h.pool.read(&a).await?;
    let read_only: String = sqlx::query_scalar("SHOW transaction_read_only")
        .fetch_one(read.raw_connection())
        .await?;
    assert_eq!(read_only, "on");
    let write = sqlx::query("INSERT INTO customers (tenant_id, id, email) VALUES (1, 99, 'x@y')")
        .execute(read.raw_connection())
        .await;
    let code = write
        .as_ref()
        .err()
        .and_then(|error| error.as_database_error())
        .and_then(|error| error.code())
        .map(|code| code.into_owned());
    assert_eq!(code.as_deref(), Some("25006"), "{write:?}");
    read.end();
    h.assert_next_borrower_is_clean("a write refused in a read")
        .await?;
    let mut tx = h.pool.begin(&a).await?;
    let written: Vec<i64> = sqlx::query_scalar("SELECT id FROM customers WHERE id = 99")
        .fetch_all(tx.raw_connection())
        .await?;
    tx.rollback().await?;
    assert!(
        written.is_empty(),
        "the refused write is there: {written:?}"
    );
    Ok(())
}

/// The pool's settings and a tenant's tier apply to reads as to writes: a
/// read opens with the pool's statement timeout.
#[tokio::test]
async fn a_read_opens_with_the_pools_settings() -> TestResult {
    let db = shop(&[A, B]).await?;
    let url = db.app_url();
    let settings = TransactionSettings::new().statement_timeout(Duration::from_millis(1234));
    let options: TenantPoolOptions = pool_options().transaction_settings(settings);
    let h = PooledShop::with(db, "read-settings", &url, options).await?;
    let mut read = h.pool.read(&tenant(A)).await?;
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(read.raw_connection())
        .await?;
    read.end();
    assert_eq!(timeout, "1234ms");
    Ok(())
}

/// A connection the server closed while it sat idle in the pool: the next
/// `begin`, and the next `read`, succeed on another connection, their
/// `BEGIN` sent again exactly once.
#[tokio::test]
async fn a_backend_killed_between_transactions_costs_one_retry() -> TestResult {
    let h = PooledShop::new("killed-between").await?;
    let (captured, _guard) = Capture::install();
    for entry in ["begin", "read"] {
        let killed = idle_backend(&h).await?;
        terminate(&h.admin, &h.name, killed).await?;
        captured.clear();
        let a = tenant(A);
        let (seen, pid) = match entry {
            "begin" => {
                let mut tx = h.pool.begin(&a).await?;
                let seen = tx.fetch_all::<Order>(Order::select(&a)).await?;
                let tenant: String = sqlx::query_scalar("SELECT current_setting($1)")
                    .bind(h.pool.setting().as_str())
                    .fetch_one(tx.raw_connection())
                    .await?;
                assert_eq!(tenant, A.to_string(), "the retried transaction's tenant");
                let pid = backend_pid(tx.raw_connection()).await?;
                tx.commit().await?;
                (seen, pid)
            }
            _ => {
                let mut read = h.pool.read(&a).await?;
                let seen = read.fetch_all::<Order>(Order::select(&a)).await?;
                // The second BEGIN is rendered anew: it must pin the same.
                let (read_only, tenant): (String, String) = sqlx::query_as(
                    "SELECT current_setting('transaction_read_only'), current_setting($1)",
                )
                .bind(h.pool.setting().as_str())
                .fetch_one(read.raw_connection())
                .await?;
                assert_eq!(read_only, "on", "the retried read is not READ ONLY");
                assert_eq!(tenant, A.to_string(), "the retried read's tenant");
                let pid = backend_pid(read.raw_connection()).await?;
                read.end();
                (seen, pid)
            }
        };
        assert_eq!(
            retries(&captured),
            1,
            "{entry}: BEGIN not sent again exactly once"
        );
        assert_eq!(seen.len(), ORDERS_PER_TENANT as usize, "{entry}: {seen:?}");
        assert_ne!(pid, killed, "{entry}: ran on the killed backend");
        h.assert_next_borrower_is_clean(&format!("{entry} after a killed idle backend"))
            .await?;
        assert_eq!(retries(&captured), 1, "{entry}: a clean connection retried");
    }
    Ok(())
}

/// A backend killed once `BEGIN` was sent, before its answer: the error is
/// the caller's, `BEGIN` is not sent again.
#[tokio::test]
async fn a_backend_killed_after_begin_was_sent_is_not_retried() -> TestResult {
    let h = PooledShop::new("killed-during-begin").await?;
    let (captured, _guard) = Capture::install();
    for entry in ["begin", "read"] {
        let pid = idle_backend(&h).await?;
        captured.clear();
        let a = tenant(A);
        signal("STOP", pid)?;
        let outcome = {
            let mut begin = pin!(async {
                match entry {
                    "begin" => h.pool.begin(&a).await.map(drop),
                    _ => h.pool.read(&a).await.map(drop),
                }
            });
            // The first poll writes BEGIN; the stopped server cannot answer.
            let first = poll_once(begin.as_mut());
            let stopped = matches!(first, Poll::Pending);
            let terminated: Result<bool, sqlx::Error> =
                sqlx::query_scalar("SELECT pg_terminate_backend($1)")
                    .bind(pid)
                    .fetch_one(&h.admin)
                    .await;
            signal("CONT", pid)?;
            assert!(stopped, "{entry}: answered by a stopped server: {first:?}");
            assert!(terminated?, "{entry}: backend {pid} was not there");
            begin.await
        };
        match outcome {
            Err(Error::Database(error)) => {
                let code = error
                    .as_database_error()
                    .and_then(|error| error.code())
                    .map(|code| code.into_owned());
                assert!(
                    code.as_deref() == Some("57P01") || matches!(error, sqlx::Error::Io(_)),
                    "{entry}: {error:?}"
                );
            }
            other => return Err(format!("{entry}: {other:?}").into()),
        }
        assert_eq!(retries(&captured), 0, "{entry}: BEGIN was sent again");
        let next = h
            .assert_next_borrower_is_clean(&format!("{entry} killed after BEGIN was sent"))
            .await?;
        assert_ne!(next, pid);
    }
    Ok(())
}

/// A backend killed inside the transaction: its statement fails, nothing
/// is sent again, and a write transaction's `commit` reports the failure
/// rather than `Ok`.
#[tokio::test]
async fn a_backend_killed_inside_a_transaction_is_reported_not_retried() -> TestResult {
    let h = PooledShop::new("killed-inside").await?;
    let (captured, _guard) = Capture::install();
    let a = tenant(A);

    let mut read = h.pool.read(&a).await?;
    let pid = backend_pid(read.raw_connection()).await?;
    terminate(&h.admin, &h.name, pid).await?;
    captured.clear();
    let failed = read.fetch_all::<Order>(Order::select(&a)).await;
    assert!(failed.is_err(), "a read on a killed backend: {failed:?}");
    read.end();
    assert_eq!(retries(&captured), 0, "a statement was sent again");
    h.assert_next_borrower_is_clean("a read whose backend was killed")
        .await?;

    let mut tx = h.pool.begin(&a).await?;
    tx.execute(customer(&a, "lost@example.com")).await?;
    let pid = backend_pid(tx.raw_connection()).await?;
    terminate(&h.admin, &h.name, pid).await?;
    captured.clear();
    let committed = tx.commit().await;
    assert!(
        committed.is_err(),
        "commit on a killed backend: {committed:?}"
    );
    assert_eq!(retries(&captured), 0, "the commit was sent again");
    let mut check = h.pool.begin(&a).await?;
    let saved: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM customers WHERE email = 'lost@example.com'")
            .fetch_all(check.raw_connection())
            .await?;
    check.rollback().await?;
    assert!(saved.is_empty(), "the unreported commit saved {saved:?}");
    h.assert_next_borrower_is_clean("a commit whose backend was killed")
        .await?;
    Ok(())
}

/// The connection of an ended read waits in the pool's hands while its
/// `ROLLBACK` is unanswered: a borrower asking meanwhile waits (and may
/// give up), and gets the connection, clean, once the answer came; if the
/// session dies instead of answering, the pool closes the connection and
/// the borrower gets a new one, clean too.
#[tokio::test]
async fn a_connection_returned_mid_rollback_reaches_the_next_borrower_clean() -> TestResult {
    let h = PooledShop::new("mid-rollback").await?;
    let b = tenant(B);
    for outcome in ["answered", "session killed"] {
        let a = tenant(A);
        let pid = idle_backend(&h).await?;
        let mut read = h.pool.read(&a).await?;
        let seen = read.fetch_all::<Order>(Order::select(&a)).await?;
        assert_eq!(seen.len(), ORDERS_PER_TENANT as usize);
        signal("STOP", pid)?;
        read.end();
        // A borrower meanwhile waits; a cancelled one changes nothing.
        let waited = tokio::time::timeout(Duration::from_millis(300), h.pool.begin(&b)).await;
        let on_server = backends(&h.admin, &h.name).await?;
        if outcome == "session killed" {
            let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .fetch_one(&h.admin)
                .await?;
            assert!(terminated);
        }
        signal("CONT", pid)?;
        assert!(
            waited.is_err(),
            "{outcome}: a borrower got the connection before its ROLLBACK was answered"
        );
        assert!(
            matches!(on_server.as_slice(), [backend] if backend.state == "idle in transaction"),
            "{outcome}: the read's transaction was not open on the stopped server: {on_server:?}"
        );
        let next = h
            .assert_next_borrower_is_clean(&format!("a read's ROLLBACK {outcome}"))
            .await?;
        match outcome {
            "answered" => assert_eq!(next, pid, "the connection was not reused"),
            _ => assert_ne!(next, pid, "the killed connection was reused"),
        }
    }
    Ok(())
}

/// A read dropped at every point of its life, its future polled 0, 1, 2…
/// times or cut by timeouts of growing length: the next borrower is clean.
#[tokio::test]
async fn after_a_read_dropped_at_any_point() -> TestResult {
    let h = PooledShop::new("dropped-read-sweep").await?;
    let a = tenant(A);
    let whole_read = || async {
        let mut read = h.pool.read(&a).await?;
        let orders = read.fetch_all::<Order>(Order::select(&a)).await?;
        read.end();
        Ok::<_, Error>(orders)
    };
    let (mut dropped, mut completed) = (0, 0);
    for polls in 0..16 {
        dropped += 1;
        {
            let mut read = pin!(whole_read());
            for _ in 0..polls {
                if let Poll::Ready(result) = poll_once(read.as_mut()) {
                    result?;
                    completed += 1;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        h.assert_next_borrower_is_clean(&format!("a read dropped after {polls} polls"))
            .await?;
    }
    for micros in [0, 50, 100, 200, 400, 800, 1600, 3200, 6400] {
        dropped += 1;
        if let Ok(result) = tokio::time::timeout(Duration::from_micros(micros), whole_read()).await
        {
            result?;
            completed += 1;
        }
        h.assert_next_borrower_is_clean(&format!("a read timed out after {micros} µs"))
            .await?;
    }
    println!("read futures dropped: {dropped}, of which completed before the drop: {completed}");
    Ok(())
}

/// The router's reads: where the directory places the tenant, `READ ONLY`,
/// its own rows only, in the shared tables and in a database of its own
/// (which also holds another tenant's rows).
#[tokio::test]
async fn the_router_reads_where_the_directory_places_the_tenant() -> TestResult {
    const OWN_DATABASE: i64 = 3;
    let main = shop(&[A, B]).await?;
    let own = shop(&[OWN_DATABASE, A]).await?;
    let directory = StaticDirectory::new()
        .with(KeyValue::I64(A), TenantEntry::active(Placement::Shared))
        .with(
            KeyValue::I64(OWN_DATABASE),
            TenantEntry::active(Placement::Database(DatabaseUrl::new(own.app_url())?)),
        );
    let shared = TenantPool::connect(&main.app_url(), pool_options()).await?;
    let router = TenantRouter::new(directory, shared, pool_options(), RouterOptions::new())?;
    for key in [A, OWN_DATABASE] {
        let tenant = tenant(key);
        let mut read = router.read(&tenant).await?;
        let built = read.fetch_all::<Order>(Order::select(&tenant)).await?;
        let (raw, read_only): (Vec<i64>, String) = (
            sqlx::query_scalar("SELECT tenant_id FROM orders")
                .fetch_all(read.raw_connection())
                .await?,
            sqlx::query_scalar("SHOW transaction_read_only")
                .fetch_one(read.raw_connection())
                .await?,
        );
        read.end();
        assert_eq!(read_only, "on", "tenant {key}");
        assert_eq!(built.len(), ORDERS_PER_TENANT as usize, "tenant {key}");
        assert!(
            built.iter().all(|order| order.tenant_id == key) && raw.iter().all(|seen| *seen == key),
            "tenant {key}: {built:?} {raw:?}"
        );
    }
    router.close().await;
    Ok(())
}
