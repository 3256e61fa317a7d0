//! Two concurrent transfers between two accounts, on PostgreSQL as the
//! application role, written three ways through the builder:
//!
//! - atomically: `SET balance = balance - $1 WHERE balance >= $1`, which
//!   the database computes from the row as it is when the update reaches
//!   it;
//! - read-then-write with `FOR UPDATE`: the read locks the rows until the
//!   transaction ends;
//! - read-then-write without a lock: each transaction writes back a
//!   balance it read before the other's write.
//!
//! The two tasks are made to overlap at every transfer (a barrier after
//! each begins, and for the plain read-then-write, after each has read), so
//! the third way loses an update at every round, and the test shows it:
//! the first two never do.
//!
//! SQLite has no row locks, and the builder leaves `FOR UPDATE` out there:
//! SQLite lets one transaction write at a time, and a transaction whose
//! reads another's write made stale fails (`SQLITE_BUSY`) rather than
//! overwrite it. The last test runs the read-then-write transfer "with"
//! `FOR UPDATE` on a SQLite file from two tasks, retrying what SQLite
//! refuses, and no update is lost.

mod sales;

use std::sync::Arc;

use sales::tables::Account;
use sales::{A, B, BoxError, TestResult, tenant};
use sqlx::Sqlite;
use tenancy_sqlx::{Error, Postgres, TenantPool};
use tokio::sync::Barrier;

/// Transfers per task.
const ROUNDS: i64 = 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transfer {
    Atomic,
    Locked,
    ReadThenWrite,
}

/// Moves 1 from account 1 to account 2 of tenant A, `ROUNDS` times, in
/// step with the other task.
async fn transfers(pool: TenantPool<Postgres>, how: Transfer, barrier: Arc<Barrier>) -> TestResult {
    let tenant = tenant(A);
    for _ in 0..ROUNDS {
        let mut tx = pool.begin(&tenant).await?;
        barrier.wait().await;
        match how {
            Transfer::Atomic => {
                let debited = tx
                    .execute(
                        Account::update(&tenant)
                            .set(Account::BALANCE, Account::BALANCE - 1)
                            .filter(Account::ID.eq(1).and(Account::BALANCE.gte(1))),
                    )
                    .await?;
                if debited == 1 {
                    tx.execute(
                        Account::update(&tenant)
                            .set(Account::BALANCE, Account::BALANCE + 1)
                            .filter(Account::ID.eq(2)),
                    )
                    .await?;
                }
            }
            Transfer::Locked | Transfer::ReadThenWrite => {
                let read = Account::select(&tenant)
                    .filter(Account::ID.is_in([1, 2]))
                    .order_by_asc(Account::ID);
                let read = if how == Transfer::Locked {
                    read.for_update()
                } else {
                    read
                };
                let accounts: Vec<Account> = tx.fetch_all(read).await?;
                if how == Transfer::ReadThenWrite {
                    // Both have read before either writes.
                    barrier.wait().await;
                }
                let [from, to] = accounts.as_slice() else {
                    return Err(format!("expected two accounts, read {accounts:?}").into());
                };
                for (id, balance) in [(1, from.balance - 1), (2, to.balance + 1)] {
                    tx.execute(
                        Account::update(&tenant)
                            .set(Account::BALANCE, balance)
                            .filter(Account::ID.eq(id)),
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Runs two tasks of transfers at once; returns tenant A's two balances
/// after, and tenant B's.
async fn run(how: Transfer) -> Result<(i64, i64, [i64; 2]), BoxError> {
    let (_db, pool) = sales::postgres().await?;
    let barrier = Arc::new(Barrier::new(2));
    let first = tokio::spawn(transfers(pool.clone(), how, Arc::clone(&barrier)));
    let second = tokio::spawn(transfers(pool.clone(), how, barrier));
    first.await??;
    second.await??;
    let [from, to] = balances(&pool, A).await?;
    Ok((from, to, balances(&pool, B).await?))
}

/// The balances of a tenant's accounts 1 and 2.
async fn balances(pool: &TenantPool<Postgres>, key: i64) -> Result<[i64; 2], BoxError> {
    let tenant = tenant(key);
    let mut tx = pool.begin(&tenant).await?;
    let accounts: Vec<Account> = tx
        .fetch_all(Account::select(&tenant).order_by_asc(Account::ID))
        .await?;
    tx.commit().await?;
    match accounts.as_slice() {
        [first, second] => Ok([first.balance, second.balance]),
        _ => Err(format!("expected two accounts, read {accounts:?}").into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_transfers_never_lose_an_update() -> TestResult {
    let (from, to, theirs) = run(Transfer::Atomic).await?;
    let start = sales::balances(A)[0];
    assert_eq!((from, to), (start - 2 * ROUNDS, 2 * ROUNDS));
    assert_eq!(theirs, sales::balances(B));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_that_lock_what_they_read_never_lose_an_update() -> TestResult {
    let (from, to, theirs) = run(Transfer::Locked).await?;
    let start = sales::balances(A)[0];
    assert_eq!((from, to), (start - 2 * ROUNDS, 2 * ROUNDS));
    assert_eq!(theirs, sales::balances(B));
    Ok(())
}

/// The same transfer written as read-then-write, without a lock, loses the
/// other task's update: the test of the two above can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_that_read_then_write_lose_updates() -> TestResult {
    let (from, to, theirs) = run(Transfer::ReadThenWrite).await?;
    let start = sales::balances(A)[0];
    let moved = start - from;
    println!(
        "read-then-write: {moved} of {} transfers took effect, {} lost",
        2 * ROUNDS,
        2 * ROUNDS - moved
    );
    assert!(
        moved < 2 * ROUNDS && to < 2 * ROUNDS,
        "no update was lost: moved {moved}, credited {to}"
    );
    assert_eq!(from + to, start, "money was made or destroyed");
    assert_eq!(theirs, sales::balances(B));
    Ok(())
}

/// Whether SQLite refused a statement because another connection writes
/// (`SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT`, `SQLITE_LOCKED`).
fn busy(error: &Error) -> bool {
    match error {
        Error::Database(error) => error
            .as_database_error()
            .and_then(|error| error.code())
            .is_some_and(|code| matches!(code.as_ref(), "5" | "517" | "6" | "262")),
        _ => false,
    }
}

/// One read-then-write transfer on SQLite; `Ok(false)` when SQLite refused
/// it for a concurrent writer and it was rolled back.
async fn sqlite_transfer(pool: &TenantPool<Sqlite>) -> Result<bool, BoxError> {
    let tenant = tenant(A);
    let mut tx = match pool.begin(&tenant).await {
        Ok(tx) => tx,
        Err(error) if busy(&error) => return Ok(false),
        Err(error) => return Err(error.into()),
    };
    let read = Account::select(&tenant)
        .filter(Account::ID.is_in([1, 2]))
        .order_by_asc(Account::ID)
        .for_update();
    let accounts: Vec<Account> = match tx.fetch_all(read).await {
        Ok(accounts) => accounts,
        Err(error) if busy(&error) => return Ok(false),
        Err(error) => return Err(error.into()),
    };
    let [from, to] = accounts.as_slice() else {
        return Err(format!("expected two accounts, read {accounts:?}").into());
    };
    // Let the other task read too.
    tokio::task::yield_now().await;
    for (id, balance) in [(1, from.balance - 1), (2, to.balance + 1)] {
        let written = tx
            .execute(
                Account::update(&tenant)
                    .set(Account::BALANCE, balance)
                    .filter(Account::ID.eq(id)),
            )
            .await;
        match written {
            Ok(_) => {}
            Err(error) if busy(&error) => return Ok(false),
            Err(error) => return Err(error.into()),
        }
    }
    match tx.commit().await {
        Ok(()) => Ok(true),
        Err(error) if busy(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

async fn sqlite_transfers(pool: TenantPool<Sqlite>) -> Result<(), BoxError> {
    let mut done = 0;
    let mut attempts = 0;
    while done < ROUNDS {
        attempts += 1;
        if attempts > 100 * ROUNDS {
            return Err("SQLite kept refusing the transfers".into());
        }
        if sqlite_transfer(&pool).await? {
            done += 1;
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_transfers_that_read_for_update_lose_nothing_either() -> TestResult {
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("ledger.db").display()
    );
    let pool = sales::sqlite_at(&url).await?;

    let first = tokio::spawn(sqlite_transfers(pool.clone()));
    let second = tokio::spawn(sqlite_transfers(pool.clone()));
    first.await??;
    second.await??;
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let accounts: Vec<Account> = tx
        .fetch_all(Account::select(&tenant).order_by_asc(Account::ID))
        .await?;
    tx.commit().await?;
    let balances: Vec<i64> = accounts.iter().map(|account| account.balance).collect();
    let start = sales::balances(A)[0];
    assert_eq!(balances, [start - 2 * ROUNDS, 2 * ROUNDS]);
    Ok(())
}
