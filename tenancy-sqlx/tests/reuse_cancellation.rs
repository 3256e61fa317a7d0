//! Futures dropped mid-flight never hand the next borrower another
//! statement's answer: a transaction whose statement was dropped refuses
//! further statements, and its connection is closed instead of reused.
//!
//! The timing windows are made, not caught: futures are polled by hand, one
//! poll at a time, and the tests wait on the server's own state (a lock the
//! statement waits on) rather than on time.

use std::pin::pin;

use sqlx::{Connection, PgConnection};
use tenancy_sqlx::Error;
use tenancy_test::pooled::PooledShop;
use tenancy_test::probe::backend_pid;
use tenancy_test::server::{SETTLE, backends, wait_for};
use tenancy_test::shop::tables::Order;
use tenancy_test::shop::{A, tenant};
use tenancy_test::{TestResult, poll_once};

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
