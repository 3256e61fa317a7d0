//! A pooled connection must reach its next borrower with no tenant and no
//! open transaction, however the previous transaction ended: commit,
//! rollback, an error, a panic, a query future dropped mid-flight, a `begin`
//! future dropped mid-flight, session-level settings made by raw SQL.
//!
//! The pool has one connection, so the next borrower always gets the very
//! connection the previous transaction used (or a new one, if that one was
//! closed). The borrower is a plain sqlx borrower of the same pool — the
//! careless colleague who runs raw SQL on it — and the tenant pool is built
//! with `from_pool`, so no `after_release` hook helps: the guarantees come
//! from the transactions themselves.

mod common;

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::tables::{Customer, Order};
use common::{A, B, BoxError, SessionState, TestResult, pool_options, session_state, shop, tenant};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool};
use tenancy_sqlx::testing::TestDatabase;
use tenancy_sqlx::{Postgres, TenantPool, TenantTransaction};

/// What `begin(&tenant(A))` sends, as the server records it.
const BEGIN_A: &str = r#"BEGIN; SET LOCAL "app"."tenant_id" = '1'"#;

/// A shop database, a pool of one connection as the application role, and
/// the tenant pool on top of it.
struct Harness {
    db: TestDatabase,
    admin: PgPool,
    raw: PgPool,
    pool: TenantPool,
    application_name: String,
}

impl Harness {
    async fn new(application_name: &str) -> Result<Self, BoxError> {
        let db = shop(&[A, B]).await?;
        let connect = db
            .app_url()
            .parse::<PgConnectOptions>()?
            .application_name(application_name);
        // No ping before a connection is handed out: the first poll of a
        // `begin` then sends its `BEGIN`, which the tests rely on.
        let raw = PgPoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(20))
            .connect_with(connect)
            .await?;
        let pool = TenantPool::<Postgres>::from_pool(raw.clone(), pool_options()).await?;
        Ok(Harness {
            admin: db.admin_pool().await?,
            db,
            raw,
            pool,
            application_name: application_name.to_owned(),
        })
    }

    /// What the next borrower of the pool's connection finds.
    async fn next_borrower(&self) -> Result<SessionState, BoxError> {
        let mut connection = self.raw.acquire().await?;
        Ok(session_state(&mut connection).await?)
    }

    /// The next borrower finds no tenant and no transaction; the policies
    /// show it no row; and the pool still serves tenant transactions.
    /// Fails with a message rather than panicking, so that a test can also
    /// show that it does fail.
    async fn assert_next_borrower_is_clean(&self, case: &str) -> TestResult {
        let state = self.next_borrower().await?;
        if state != SessionState::CLEAN {
            return Err(format!("after {case}, the next borrower found {state:?}").into());
        }
        let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
            .fetch_one(&self.raw)
            .await?;
        if visible != 0 {
            return Err(
                format!("after {case}, {visible} rows are visible without a tenant").into(),
            );
        }
        let b = tenant(B);
        let mut tx = self.pool.begin(&b).await?;
        let seen: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM orders")
            .fetch_all(tx.raw_connection())
            .await?;
        tx.commit().await?;
        if seen != [B; 4] {
            return Err(format!("after {case}, a transaction for B saw tenants {seen:?}").into());
        }
        Ok(())
    }

    /// Drives a `begin` future by hand until the server has run [`BEGIN_A`]
    /// and sits in the transaction, its answer unread by the client; then
    /// drops the future, and returns the backend's pid. The pool hands out
    /// its idle connection without a ping, so the first poll sends `BEGIN`;
    /// after each poll that leaves the future pending, the test waits for
    /// the server, however long that takes, since nothing reads the answer
    /// meanwhile. Only a future that completes within one poll (the answer
    /// was already there) is tried again.
    async fn drop_once_begun<F: Future>(
        &self,
        mut begin: impl FnMut() -> F,
    ) -> Result<i32, BoxError> {
        for _ in 0..20 {
            // Start from a connection outside any transaction, so that the
            // BEGIN seen below is this future's, not a completed earlier one's.
            self.wait_for("the pool's connection idle", |(_, state, _)| {
                state == "idle"
            })
            .await?;
            let mut future = pin!(begin());
            for _ in 0..5 {
                if poll_once(future.as_mut()).is_ready() {
                    break;
                }
                let begun = self
                    .wait_for("the server in the pending BEGIN", |(_, state, query)| {
                        state == "idle in transaction" && query == BEGIN_A
                    })
                    .await;
                if let Ok(pid) = begun {
                    return Ok(pid);
                }
            }
        }
        Err("the begin future always completed within one poll".into())
    }

    /// Waits, up to ten seconds, until the pool's one backend is in the
    /// state `done` describes; returns its pid.
    async fn wait_for(
        &self,
        what: &str,
        done: impl Fn(&(i32, String, String)) -> bool,
    ) -> Result<i32, BoxError> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let backends = self.backends().await?;
            if let [backend] = backends.as_slice()
                && done(backend)
            {
                return Ok(backend.0);
            }
            if std::time::Instant::now() > deadline {
                return Err(
                    format!("{what}: never happened; the server showed {backends:?}").into(),
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The server's view of the pool's backends: `(pid, state, last query)`.
    async fn backends(&self) -> Result<Vec<(i32, String, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT pid, coalesce(state, ''), coalesce(query, '') FROM pg_stat_activity
             WHERE application_name = $1 ORDER BY pid",
        )
        .bind(&self.application_name)
        .fetch_all(&self.admin)
        .await
    }
}

/// Polls `future` once with a waker that does nothing: the test decides when
/// it is polled again, or dropped.
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// The probe the other tests rely on must see what it is meant to see.
#[tokio::test]
async fn the_probe_detects_an_open_transaction_and_a_leftover_tenant() -> TestResult {
    let h = Harness::new("probe").await?;
    let mut conn = h.raw.acquire().await?;
    let tenant_1 = Some("1".to_owned());

    sqlx::raw_sql(AssertSqlSafe(BEGIN_A))
        .execute(&mut *conn)
        .await?;
    let open = SessionState {
        tenant: tenant_1.clone(),
        in_transaction: true,
    };
    assert_eq!(session_state(&mut conn).await?, open);
    sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await?;
    assert_eq!(session_state(&mut conn).await?, SessionState::CLEAN);

    let failed = sqlx::raw_sql("BEGIN; SELECT 1 / 0")
        .execute(&mut *conn)
        .await;
    assert!(failed.is_err());
    assert!(
        session_state(&mut conn).await?.in_transaction,
        "aborted transaction"
    );
    sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await?;

    sqlx::raw_sql("SET app.tenant_id = '1'")
        .execute(&mut *conn)
        .await?;
    let session = SessionState {
        tenant: tenant_1.clone(),
        in_transaction: false,
    };
    assert_eq!(session_state(&mut conn).await?, session);
    sqlx::raw_sql("RESET app.tenant_id")
        .execute(&mut *conn)
        .await?;

    // The hazard itself: sqlx does not know about a BEGIN sent as raw SQL,
    // and hands the connection to the next borrower inside it.
    sqlx::raw_sql(AssertSqlSafe(BEGIN_A))
        .execute(&mut *conn)
        .await?;
    drop(conn);
    assert_eq!(h.next_borrower().await?, open);
    let leaked = h.assert_next_borrower_is_clean("a raw BEGIN").await;
    assert!(
        leaked.is_err(),
        "the clean-borrower check missed a leaked transaction"
    );
    Ok(())
}

#[tokio::test]
async fn after_commit_and_rollback() -> TestResult {
    let h = Harness::new("commit-rollback").await?;
    let a = tenant(A);

    let mut tx = h.pool.begin(&a).await?;
    tx.execute(Order::update(&a).set(Order::STATUS, "committed"))
        .await?;
    tx.commit().await?;
    h.assert_next_borrower_is_clean("commit").await?;

    let mut tx = h.pool.begin(&a).await?;
    tx.execute(Order::update(&a).set(Order::STATUS, "rolled back"))
        .await?;
    tx.rollback().await?;
    h.assert_next_borrower_is_clean("rollback").await?;

    // The same after raw SQL, which makes the transaction reset the setting.
    for commit in [true, false] {
        let mut tx = h.pool.begin(&a).await?;
        sqlx::query("UPDATE orders SET status = 'raw'")
            .execute(tx.raw_connection())
            .await?;
        if commit {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        h.assert_next_borrower_is_clean(&format!("raw SQL, commit: {commit}"))
            .await?;
    }

    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT status FROM orders WHERE tenant_id = $1")
            .bind(A)
            .fetch_all(&h.admin)
            .await?;
    assert_eq!(statuses, ["raw"]);
    Ok(())
}

#[tokio::test]
async fn after_an_error_inside_the_transaction() -> TestResult {
    let h = Harness::new("error").await?;
    let a = tenant(A);

    // A request handler that returns early with `?`: the transaction is
    // dropped with the server in an aborted transaction.
    async fn duplicate_customer(pool: &TenantPool) -> Result<(), tenancy_sqlx::Error> {
        let a = tenant(A);
        let mut tx = pool.begin(&a).await?;
        tx.execute(
            Customer::insert(&a)
                .set(Customer::EMAIL, "ann@example.test")
                .set(Customer::NAME, "Ann again")
                .set(Customer::PLAN_ID, 1),
        )
        .await?;
        tx.commit().await
    }
    let error = duplicate_customer(&h.pool).await.err().ok_or("no error")?;
    assert!(error.to_string().contains("duplicate key"), "{error}");
    h.assert_next_borrower_is_clean("an error, then `?`")
        .await?;

    // An error in raw SQL, then an explicit rollback.
    let mut tx = h.pool.begin(&a).await?;
    let failed = sqlx::query("SELECT 1 / 0")
        .execute(tx.raw_connection())
        .await;
    assert!(failed.is_err());
    tx.rollback().await?;
    h.assert_next_borrower_is_clean("an error, then rollback")
        .await?;

    // An error, then commit: PostgreSQL answers COMMIT in an aborted
    // transaction with ROLLBACK, and nothing of it is kept.
    let mut tx = h.pool.begin(&a).await?;
    tx.execute(Order::update(&a).set(Order::STATUS, "lost"))
        .await?;
    let failed = tx
        .execute(
            Customer::insert(&a)
                .set(Customer::EMAIL, "bob@example.test")
                .set(Customer::NAME, "Bob again")
                .set(Customer::PLAN_ID, 1),
        )
        .await;
    assert!(failed.is_err());
    // sqlx alone would report `Ok(())` here although the server rolled the
    // transaction back; the tenant transaction reports the abort.
    let outcome = tx.commit().await;
    assert!(
        matches!(outcome, Err(tenancy_sqlx::Error::TransactionAborted { .. })),
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
    let h = Harness::new("panic").await?;
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
async fn after_a_query_dropped_mid_flight() -> TestResult {
    let h = Harness::new("dropped-query").await?;
    let a = tenant(A);

    // Raw SQL still running on the server when its future is dropped.
    let mut tx = h.pool.begin(&a).await?;
    let sleep = sqlx::query("SELECT pg_sleep(2)").execute(tx.raw_connection());
    let timed_out = tokio::time::timeout(Duration::from_millis(200), sleep).await;
    assert!(timed_out.is_err(), "pg_sleep(2) finished within 200 ms");
    drop(tx);
    h.assert_next_borrower_is_clean("a raw query dropped mid-flight")
        .await?;

    // A builder statement waiting for a lock when its future is dropped.
    let owner = h.db.owner_pool().await?;
    let mut lock = owner.begin().await?;
    sqlx::raw_sql("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await?;
    let mut tx = h.pool.begin(&a).await?;
    let blocked = tx.fetch_all::<Order>(Order::select(&a));
    let timed_out = tokio::time::timeout(Duration::from_millis(200), blocked).await;
    assert!(timed_out.is_err(), "the select did not wait for the lock");
    let waiting = h.backends().await?;
    assert!(
        waiting.iter().any(|(_, state, _)| state == "active"),
        "the select was not running on the server: {waiting:?}"
    );
    drop(tx);
    lock.rollback().await?;
    h.assert_next_borrower_is_clean("a builder statement dropped mid-flight")
        .await
}

/// The window sqlx 0.9.0 leaves open: the server has run `BEGIN` and set
/// the tenant, the client has not read the answer, and the future is
/// dropped. sqlx counts the transaction only once it has read the answer,
/// so it neither rolls back nor closes the connection.
#[tokio::test]
async fn after_a_begin_dropped_once_the_server_has_begun() -> TestResult {
    let h = Harness::new("dropped-begin").await?;

    // Plain sqlx, for comparison: the next borrower lands in A's transaction.
    let begun_on = h.drop_once_begun(|| h.raw.begin_with(BEGIN_A)).await?;
    let leaked = h.next_borrower().await?;
    assert_eq!(
        leaked,
        SessionState {
            tenant: Some("1".to_owned()),
            in_transaction: true
        },
        "sqlx no longer leaks a cancelled BEGIN; the adapter's guard may be simplified"
    );
    // Kill that backend (as the superuser) so that the pool starts afresh.
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(begun_on)
        .execute(&h.admin)
        .await?;
    h.raw.close().await;

    let h = Harness::new("dropped-tenant-begin").await?;
    let a = tenant(A);
    let begun_on = h.drop_once_begun(|| h.pool.begin(&a)).await?;
    h.assert_next_borrower_is_clean("a begin dropped after the server began")
        .await?;
    let backends = h.backends().await?;
    assert!(
        backends.iter().all(|(pid, _, _)| *pid != begun_on),
        "the connection of the dropped begin is still in use: {backends:?}"
    );
    Ok(())
}

/// Dropped at every point of its life: after 0, 1, 2… polls, and under
/// timeouts of growing length.
#[tokio::test]
async fn after_a_begin_dropped_at_any_point() -> TestResult {
    let h = Harness::new("dropped-begin-sweep").await?;
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

/// Raw SQL can set the tenant at session level, which outlives the
/// transaction unless the adapter clears it.
#[tokio::test]
async fn after_raw_sql_set_the_tenant_for_the_session() -> TestResult {
    let h = Harness::new("session-setting").await?;
    let a = tenant(A);
    let statements = [
        "SET app.tenant_id = '1'",
        "SELECT set_config('app.tenant_id', '1', false)",
    ];
    for statement in statements {
        for ending in ["commit", "rollback", "drop"] {
            let mut tx = h.pool.begin(&a).await?;
            sqlx::query(AssertSqlSafe(statement))
                .execute(tx.raw_connection())
                .await?;
            match ending {
                "commit" => tx.commit().await?,
                "rollback" => tx.rollback().await?,
                _ => drop(tx),
            }
            h.assert_next_borrower_is_clean(&format!("{statement:?}, then {ending}"))
                .await?;
        }
    }
    Ok(())
}
