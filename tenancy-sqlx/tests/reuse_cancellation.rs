//! Futures dropped mid-flight — a `begin`, a built statement, raw SQL — never
//! hand the next borrower an open transaction or another statement's answer:
//! the connection is closed instead of reused, and a transaction whose
//! statement was dropped refuses further statements.
//!
//! The timing windows are made, not caught: futures are polled by hand, one
//! poll at a time, and the tests wait on the server's own state (a lock the
//! statement waits on, the backend sitting in the `BEGIN` it answered)
//! rather than on time.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};
use tenancy_sqlx::Error;
use tenancy_test::pooled::PooledShop;
use tenancy_test::probe::backend_pid;
use tenancy_test::server::{SETTLE, backends, named, single_connection, wait_for};
use tenancy_test::shop::tables::Order;
use tenancy_test::shop::{A, tenant};
use tenancy_test::{TestResult, poll_once};

/// What `begin(&tenant(A))` sends, as the server records it.
const BEGIN_A: &str = r#"BEGIN; SET LOCAL "app"."tenant_id" = '1'"#;

/// Drives a `begin` future by hand until the server has run [`BEGIN_A`] and
/// sits in the transaction, its answer unread by the client; then drops the
/// future, and returns the backend's pid. The pool must hand out its idle
/// connection without a ping (so that the first poll sends `BEGIN`); after
/// each poll that leaves the future pending, the test waits for the server,
/// however long it takes, since nothing reads the answer meanwhile.
async fn drop_once_begun<F: Future>(
    admin: &PgPool,
    name: &str,
    mut begin: impl FnMut() -> F,
) -> TestResult<i32> {
    for _ in 0..20 {
        // Start from a connection outside any transaction, so that the
        // BEGIN seen below is this future's.
        wait_for(
            admin,
            name,
            "the pool's connection idle",
            |seen| matches!(seen, [backend] if backend.state == "idle"),
        )
        .await?;
        let mut future = pin!(begin());
        for _ in 0..5 {
            if poll_once(future.as_mut()).is_ready() {
                // The answer was read within the poll: try again.
                break;
            }
            let begun = wait_for(admin, name, "the server in the pending BEGIN", |seen| {
                matches!(seen, [backend]
                    if backend.state == "idle in transaction" && backend.query == BEGIN_A)
            })
            .await;
            if let Ok(seen) = begun {
                return Ok(seen[0].pid);
            }
        }
    }
    Err("the begin future always completed within one poll".into())
}

/// The window sqlx 0.9.0 leaves open: the server has run `BEGIN` and set
/// the tenant, the client has not read the answer, and the future is
/// dropped. sqlx counts the transaction only once it has read the answer,
/// so it neither rolls back nor closes the connection.
#[tokio::test]
async fn after_a_begin_dropped_once_the_server_has_begun() -> TestResult {
    let h = PooledShop::new("dropped-tenant-begin").await?;

    // Plain sqlx, for comparison: the next borrower lands in A's transaction.
    let raw = single_connection()
        .connect_with(named(&h.db.app_url(), "dropped-raw-begin")?)
        .await?;
    let begun_on =
        drop_once_begun(&h.admin, "dropped-raw-begin", || raw.begin_with(BEGIN_A)).await?;
    let mut next = raw.acquire().await?;
    let leaked: Option<String> =
        sqlx::query_scalar("SELECT NULLIF(current_setting('app.tenant_id', true), '')")
            .fetch_one(&mut *next)
            .await?;
    assert_eq!(
        (leaked.as_deref(), backend_pid(&mut next).await?),
        (Some("1"), begun_on),
        "sqlx no longer leaks a cancelled BEGIN; the adapter's guard may be simplified"
    );
    drop(next);
    raw.close().await;

    let a = tenant(A);
    let begun_on = drop_once_begun(&h.admin, &h.name, || h.pool.begin(&a)).await?;
    let next = h
        .assert_next_borrower_is_clean("a begin dropped after the server began")
        .await?;
    assert_ne!(
        next, begun_on,
        "the connection of the dropped begin is still in use"
    );
    Ok(())
}

/// Dropped at every point of its life: after 0, 1, 2… polls, and under
/// timeouts of growing length.
#[tokio::test]
async fn after_a_begin_dropped_at_any_point() -> TestResult {
    let h = PooledShop::new("dropped-begin-sweep").await?;
    let a = tenant(A);
    let (mut dropped, mut completed) = (0, 0);
    for polls in 0..12 {
        dropped += 1;
        {
            let mut begin = pin!(h.pool.begin(&a));
            for _ in 0..polls {
                if let Poll::Ready(result) = poll_once(begin.as_mut()) {
                    drop(result?);
                    completed += 1;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        h.assert_next_borrower_is_clean(&format!("a begin dropped after {polls} polls"))
            .await?;
    }
    for micros in [0, 50, 100, 200, 400, 800, 1600, 3200, 6400] {
        dropped += 1;
        let begin = h.pool.begin(&a);
        if let Ok(result) = tokio::time::timeout(Duration::from_micros(micros), begin).await {
            drop(result?);
            completed += 1;
        }
        h.assert_next_borrower_is_clean(&format!("a begin timed out after {micros} µs"))
            .await?;
    }
    println!("begin futures dropped: {dropped}, of which completed before the drop: {completed}");
    Ok(())
}

/// Locks the shop's `orders` as the owner until the returned connection is
/// dropped or rolls back, so that a statement on it waits as long as the
/// test wants.
async fn lock_orders(h: &PooledShop) -> TestResult<PgConnection> {
    let mut owner = PgConnection::connect(&h.db.owner_url()).await?;
    sqlx::raw_sql("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        .execute(&mut owner)
        .await?;
    Ok(owner)
}

/// A built statement waiting on a lock when its future is dropped: the
/// server runs it once the lock is released, and its answer would arrive as
/// the answer to the transaction's next statement. The transaction refuses
/// further statements and `commit` instead, sends nothing more, and its
/// connection is closed.
#[tokio::test]
async fn a_statement_dropped_mid_flight_makes_the_transaction_refuse_the_rest() -> TestResult {
    let h = PooledShop::new("dropped-statement").await?;
    let a = tenant(A);
    for ending in ["commit", "rollback", "drop"] {
        let mut owner = lock_orders(&h).await?;
        let mut tx = h.pool.begin(&a).await?;
        let pid = backend_pid(tx.raw_connection()).await?;
        {
            let mut blocked = pin!(tx.execute(Order::update(&a).set(Order::STATUS, "dropped")));
            assert!(poll_once(blocked.as_mut()).is_pending());
            wait_for(&h.admin, &h.name, "the update waiting for the lock", |seen| {
                matches!(seen, [backend] if backend.state == "active" && backend.query.starts_with("UPDATE"))
            })
            .await?;
        }
        // Were it sent, it would wait behind the lock, or read the answer of
        // the dropped update once that ran.
        let refused = tokio::time::timeout(SETTLE, tx.fetch_all::<Order>(Order::select(&a)))
            .await
            .map_err(|_| "the statement after the dropped one was sent")?;
        assert!(
            matches!(refused, Err(Error::StatementCancelled { tenant }) if tenant == a.key_value()),
            "{refused:?}"
        );
        let on_server = backends(&h.admin, &h.name).await?;
        assert!(
            on_server
                .iter()
                .all(|backend| backend.query.starts_with("UPDATE")),
            "the refused statement was sent: {on_server:?}"
        );
        match ending {
            "commit" => {
                let outcome = tx.commit().await;
                assert!(
                    matches!(outcome, Err(Error::StatementCancelled { .. })),
                    "commit after a cancelled statement: {outcome:?}"
                );
            }
            "rollback" => tx.rollback().await?,
            _ => drop(tx),
        }
        sqlx::raw_sql("ROLLBACK").execute(&mut owner).await?;
        owner.close().await?;
        let next = h
            .assert_next_borrower_is_clean(&format!("a dropped statement, then {ending}"))
            .await?;
        assert_ne!(next, pid, "{ending}: the connection was reused");
    }
    let written: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'dropped'")
        .fetch_one(&h.admin)
        .await?;
    assert_eq!(written, 0, "the cancelled statement was committed");
    Ok(())
}

/// Why the refusal above: on a plain sqlx connection, a statement dropped
/// after it was sent delivers its error to the next statement.
#[tokio::test]
async fn without_the_guard_a_dropped_statement_answers_the_next_one() -> TestResult {
    let h = PooledShop::new("dropped-plain").await?;
    let mut plain = PgConnection::connect(&h.db.app_url()).await?;
    {
        // A simple query, sent in full by the first poll; its error comes
        // only after the sleep (a `1 / 0` beside it would be folded, and
        // fail at once, while it is planned).
        let mut failing =
            pin!(sqlx::raw_sql("SELECT pg_sleep(0.2); SELECT 1 / 0").execute(&mut plain));
        assert!(poll_once(failing.as_mut()).is_pending());
    }
    let next = sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&mut plain)
        .await;
    let error = next
        .err()
        .ok_or("the dropped statement's answer was not misdelivered")?;
    assert!(error.to_string().contains("division by zero"), "{error}");
    Ok(())
}

/// Raw SQL and a built statement still running when the transaction is
/// dropped.
#[tokio::test]
async fn after_a_query_dropped_mid_flight() -> TestResult {
    let h = PooledShop::new("dropped-query").await?;
    let a = tenant(A);

    let mut tx = h.pool.begin(&a).await?;
    {
        let mut sleep = pin!(sqlx::query("SELECT pg_sleep(2)").execute(tx.raw_connection()));
        assert!(poll_once(sleep.as_mut()).is_pending());
    }
    drop(tx);
    h.assert_next_borrower_is_clean("a raw query dropped mid-flight")
        .await?;

    let mut owner = lock_orders(&h).await?;
    let mut tx = h.pool.begin(&a).await?;
    {
        let mut blocked = pin!(tx.fetch_all::<Order>(Order::select(&a)));
        assert!(poll_once(blocked.as_mut()).is_pending());
        wait_for(
            &h.admin,
            &h.name,
            "the select waiting for the lock",
            |seen| matches!(seen, [backend] if backend.state == "active"),
        )
        .await?;
    }
    drop(tx);
    sqlx::raw_sql("ROLLBACK").execute(&mut owner).await?;
    h.assert_next_borrower_is_clean("a built statement dropped mid-flight")
        .await?;
    Ok(())
}
