//! Per-tenant limits on PostgreSQL, as the application role: a tenant
//! flooding the pool does not starve another, a tenant or tier over its
//! limit waits a bounded time and gets its own error without a connection,
//! and a tier's timeouts go in the same simple query as `BEGIN` and end a
//! statement with an error of their own, leaving the connection clean.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use tenancy_sqlx::limits::{BusyLimit, TenantLimits, Tier};
use tenancy_sqlx::{Error, KeyValue, Postgres, TenantPool, TransactionSettings};
use tenancy_test::TestResult;
use tenancy_test::pooled::PooledShop;
use tenancy_test::server::{backends, named};
use tenancy_test::shop::tables::Order;
use tenancy_test::shop::{A, B, pool_options, shop, tenant};
use tokio::sync::Semaphore;

/// A pool of `size` connections named `name` with `limits`.
async fn limited_pool(
    db: &tenancy_sqlx::testing::TestDatabase,
    name: &str,
    size: u32,
    limits: TenantLimits,
) -> TestResult<TenantPool> {
    Ok(TenantPool::<Postgres>::connect_with(
        PgPoolOptions::new().max_connections(size),
        named(&db.app_url(), name)?,
        pool_options().limits(limits),
    )
    .await?)
}

/// Waits until `count` says what is expected (a few seconds at most).
async fn eventually(what: &str, done: impl Fn() -> bool) -> TestResult {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("never: {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Tenant A floods a pool of two connections with twenty transactions
/// that hold on until the test lets them go; tenant B asks for one after
/// them. B's transaction gets the second turn that frees up (A had one
/// waiting first): first come first served, it would get the twenty-first.
#[tokio::test]
async fn a_flooding_tenant_does_not_starve_another() -> TestResult {
    let db = shop(&[A, B]).await?;
    let limits = TenantLimits::new().max_wait(Duration::from_secs(60));
    let pool = limited_pool(&db, "flood", 2, limits).await?;
    let order = Arc::new(Mutex::new(Vec::new()));
    let gate = Arc::new(Semaphore::new(0));
    let admitted = |order: &Arc<Mutex<Vec<i64>>>| order.lock().expect("order").len();

    let mut tasks = Vec::new();
    for key in std::iter::repeat_n(A, 20).chain([B]) {
        let (pool, seen, gate) = (pool.clone(), Arc::clone(&order), Arc::clone(&gate));
        tasks.push(tokio::spawn(async move {
            let tenant = tenant(key);
            let mut tx = pool.begin(&tenant).await?;
            seen.lock().expect("order").push(key);
            let orders: Vec<Order> = tx.fetch_all(Order::select(&tenant)).await?;
            assert!(orders.iter().all(|order| order.tenant_id == key));
            if key == A {
                gate.acquire().await?.forget();
            }
            tx.commit().await?;
            Ok::<_, tenancy_test::BoxError>(())
        }));
        if key == A && tasks.len() <= 2 {
            // The pool's two turns go to A's first two.
            eventually("A's first transactions begin", || {
                admitted(&order) == tasks.len()
            })
            .await?;
        } else {
            tokio::task::yield_now().await;
        }
    }
    // Every other transaction is waiting for a turn now.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(admitted(&order), 2);

    gate.add_permits(1);
    eventually("a third transaction begins", || admitted(&order) == 3).await?;
    gate.add_permits(1);
    // B does not wait for the gate: its turn, once ended, goes to A's next.
    eventually("a fourth transaction begins", || admitted(&order) >= 4).await?;
    assert_eq!(order.lock().expect("order")[..4], [A, A, A, B]);

    gate.add_permits(100);
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// Over the tenant's or the tier's limit, `begin` waits `max_wait` and
/// fails with `TenantBusy`, naming the limit, without taking a connection;
/// other tenants and tiers go on.
#[tokio::test]
async fn a_tenant_over_its_limits_waits_a_bounded_time_for_its_own_error() -> TestResult {
    let db = shop(&[A, B]).await?;
    let free = [10, 11, 12];
    let mut limits = TenantLimits::new()
        .tier(Tier::new("free").per_tenant(1).in_total(2))
        .max_wait(Duration::from_millis(200));
    for key in free {
        limits = limits.assign(KeyValue::I64(key), "free");
    }
    let pool = limited_pool(&db, "bounded", 5, limits).await?;
    let admin = db.admin_pool().await?;

    let first = pool.begin(&tenant(10)).await?;
    let started = Instant::now();
    let busy = pool
        .begin(&tenant(10))
        .await
        .expect_err("over the tenant's limit");
    let waited = started.elapsed();
    assert!(
        matches!(
            &busy,
            Error::TenantBusy {
                tenant: KeyValue::I64(10),
                limit: BusyLimit::Tenant { max: 1, .. },
                ..
            }
        ),
        "{busy:?}"
    );
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert_eq!(
        busy.to_string(),
        "tenant 10 is busy: it has 1 transactions in flight, the limit per tenant of tier \
         `free`; no turn came within 200ms"
    );

    let second = pool.begin(&tenant(11)).await?;
    let busy = pool
        .begin(&tenant(12))
        .await
        .expect_err("over the tier's limit");
    assert!(
        matches!(
            &busy,
            Error::TenantBusy {
                limit: BusyLimit::Tier { max: 2, .. },
                ..
            }
        ),
        "{busy:?}"
    );
    // The refused transactions never reached the server: two backends are
    // in a transaction, the two that were admitted.
    let open = backends(&admin, "bounded")
        .await?
        .into_iter()
        .filter(|backend| backend.state == "idle in transaction")
        .count();
    assert_eq!(open, 2);

    // The default tier is not held by the free one.
    pool.begin(&tenant(A)).await?.commit().await?;
    // A turn given back is taken by the next.
    let waiting = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.begin(&tenant(12)).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    first.commit().await?;
    waiting.await??.commit().await?;
    second.commit().await?;
    Ok(())
}

/// A tier's timeouts are laid over the pool's and sent in the one simple
/// query that opens the transaction: the server's record of the
/// connection's last query is that whole text.
#[tokio::test]
async fn a_tiers_timeouts_go_in_the_same_round_trip_as_begin() -> TestResult {
    let db = shop(&[A, B]).await?;
    let url = db.app_url();
    let strict = TransactionSettings::new()
        .statement_timeout(Duration::from_millis(250))
        .idle_in_transaction_timeout(Duration::from_secs(3));
    let limits = TenantLimits::new()
        .tier(Tier::new("strict").transaction_settings(strict))
        .assign(KeyValue::I64(A), "strict");
    let options = pool_options()
        .transaction_settings(
            TransactionSettings::new()
                .statement_timeout(Duration::from_secs(30))
                .lock_timeout(Duration::from_secs(2)),
        )
        .limits(limits);
    let h = PooledShop::with(db, "tier-pins", &url, options).await?;

    for (key, expected) in [
        (
            A,
            r#"BEGIN; SET LOCAL "app"."tenant_id" = '1'; SET LOCAL statement_timeout = '250'; SET LOCAL lock_timeout = '2000'; SET LOCAL idle_in_transaction_session_timeout = '3000'"#,
        ),
        (
            B,
            r#"BEGIN; SET LOCAL "app"."tenant_id" = '2'; SET LOCAL statement_timeout = '30000'; SET LOCAL lock_timeout = '2000'"#,
        ),
    ] {
        let mut tx = h.pool.begin(&tenant(key)).await?;
        let seen = backends(&h.admin, &h.name).await?;
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].query, expected);
        let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
            .fetch_one(tx.raw_connection())
            .await?;
        assert_eq!(timeout, if key == A { "250ms" } else { "30s" });
        tx.rollback().await?;
    }
    h.assert_next_borrower_is_clean("a tier's pins").await?;
    Ok(())
}

/// The owner holds tenant A's orders locked; A's built statements wait for
/// the lock until a timeout ends them, each with its own error. The
/// transaction is aborted, and the connection reaches the next borrower
/// clean.
#[tokio::test]
async fn a_timeout_ends_the_statement_with_its_own_error_and_the_connection_comes_back_clean()
-> TestResult {
    let db = shop(&[A, B]).await?;
    let url = db.app_url();
    let limits = TenantLimits::new()
        .tier(Tier::new("statements").transaction_settings(
            TransactionSettings::new().statement_timeout(Duration::from_millis(150)),
        ))
        .tier(Tier::new("locks").transaction_settings(
            TransactionSettings::new().lock_timeout(Duration::from_millis(100)),
        ))
        .assign(KeyValue::I64(A), "statements")
        .assign(KeyValue::I64(3), "locks");
    let h = PooledShop::with(db, "timeouts", &url, pool_options().limits(limits)).await?;
    let pid = backends(&h.admin, &h.name).await?[0].pid;
    let mut owner = h.db.owner_pool().await?.begin().await?;
    sqlx::query("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *owner)
        .await?;

    let a = tenant(A);
    let mut tx = h.pool.begin(&a).await?;
    let timed_out = tx
        .fetch_all::<Order>(Order::select(&a))
        .await
        .expect_err("locked");
    assert!(
        matches!(
            &timed_out,
            Error::StatementTimeout { tenant: KeyValue::I64(1), timeout, .. }
                if *timeout == Duration::from_millis(150)
        ),
        "{timed_out:?}"
    );
    assert!(matches!(
        tx.commit().await,
        Err(Error::TransactionAborted { .. })
    ));

    let third = tenant(3);
    let mut tx = h.pool.begin(&third).await?;
    let timed_out = tx
        .execute(Order::delete(&third).filter(Order::ID.eq(1)))
        .await
        .expect_err("locked");
    assert!(
        matches!(
            &timed_out,
            Error::LockTimeout {
                tenant: KeyValue::I64(3),
                ..
            }
        ),
        "{timed_out:?}"
    );
    assert!(
        timed_out.to_string().contains("lock_timeout of 100ms"),
        "{timed_out}"
    );
    tx.rollback().await?;

    // Once the owner lets go, the one connection, the same one, reaches
    // the next borrower clean.
    owner.rollback().await?;
    let next = h.assert_next_borrower_is_clean("the timeouts").await?;
    assert_eq!(next, pid, "the connection is reused, not replaced");

    // Without a timeout of its own, tenant B's failing statement is a plain
    // database error, not taken for a timeout.
    let b = tenant(B);
    let mut tx = h.pool.begin(&b).await?;
    let failed = tx
        .execute(tenancy_test::shop::order(&b, 999_999, "open"))
        .await
        .expect_err("no such customer");
    assert!(matches!(failed, Error::Database(_)), "{failed:?}");
    tx.rollback().await?;
    Ok(())
}

/// A transaction left idle past its tier's
/// `idle_in_transaction_session_timeout` is ended by the server; the next
/// statement says so, and the pool replaces the connection.
#[tokio::test]
async fn an_idle_transaction_is_ended_with_its_own_error() -> TestResult {
    let db = shop(&[A, B]).await?;
    let url = db.app_url();
    let limits = TenantLimits::new().default_tier(Tier::new("idle").transaction_settings(
        TransactionSettings::new().idle_in_transaction_timeout(Duration::from_millis(100)),
    ));
    let h = PooledShop::with(db, "idle", &url, pool_options().limits(limits)).await?;
    let first_pid = backends(&h.admin, &h.name).await?[0].pid;

    let a = tenant(A);
    let mut tx = h.pool.begin(&a).await?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let ended = tx
        .fetch_all::<Order>(Order::select(&a))
        .await
        .expect_err("ended");
    assert!(
        matches!(
            &ended,
            Error::IdleInTransactionTimeout {
                tenant: KeyValue::I64(1),
                ..
            }
        ),
        "{ended:?}"
    );
    assert!(tx.commit().await.is_err(), "nothing is committed");
    let next_pid = h.assert_next_borrower_is_clean("an idle timeout").await?;
    assert_ne!(next_pid, first_pid, "the ended session is not reused");
    Ok(())
}
