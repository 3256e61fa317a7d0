//! Two transfers from one account at the same moment, on PostgreSQL as the
//! application role, each in its own tenant transaction: both read (or
//! neither does) before either writes, forced by a barrier.
//!
//! Through the service's transfer — one guarded `UPDATE .. SET
//! balance_cents = balance_cents - $1` per account — both are applied. The
//! same transfer written as read-then-write (select the balance, compute in
//! the service, write it back) loses one of them under the same schedule,
//! which shows that the schedule does race, so the first test can fail.

use std::sync::Arc;

use orders_service::routes::accounts::transfer_in;
use orders_service::schema::Account;
use orders_service::startup::{self, PostgresConfig};
use tenancy_sqlx::testing::TestDatabase;
use tenancy_sqlx::{Postgres, TenantId, TenantPool, TenantTransaction};
use tenancy_test::{BoxError, TestResult};
use tokio::sync::Barrier;

const OPENING: i64 = 1_000;
const AMOUNT: i64 = 100;

/// How one transfer is written.
#[derive(Clone, Copy)]
enum Style {
    /// The service's own transfer: the database computes each balance.
    Atomic,
    /// Reads both balances, then writes the sums the service computed.
    ReadThenWrite,
}

/// The service's tables on a fresh database, two accounts of tenant 1.
async fn accounts() -> TestResult<(TestDatabase, TenantPool<Postgres>, i64, i64)> {
    let database = TestDatabase::create().await?;
    let (pool, _owner) = startup::open_postgres(&PostgresConfig::new(
        &database.app_url(),
        &database.owner_url(),
    ))
    .await?;
    let tenant = TenantId::from_verified(1_i64);
    let mut tx = pool.begin(&tenant).await?;
    let mut open = async |name: &str, balance: i64| -> Result<i64, BoxError> {
        let account: Account = tx
            .fetch_one(
                Account::insert(&tenant)
                    .set(Account::NAME, name)
                    .set(Account::BALANCE_CENTS, balance)
                    .returning_all(),
            )
            .await?;
        Ok(account.id)
    };
    let from = open("budget", OPENING).await?;
    let to = open("team", 0).await?;
    tx.commit().await?;
    Ok((database, pool, from, to))
}

async fn read_balance(tx: &mut TenantTransaction<i64, Postgres>, id: i64) -> Result<i64, BoxError> {
    let account: Account = tx
        .fetch_one(Account::select(tx.tenant()).filter(Account::ID.eq(id)))
        .await?;
    Ok(account.balance_cents)
}

async fn write_balance(
    tx: &mut TenantTransaction<i64, Postgres>,
    id: i64,
    balance: i64,
) -> Result<(), BoxError> {
    let tenant = *tx.tenant();
    tx.execute(
        Account::update(&tenant)
            .set(Account::BALANCE_CENTS, balance)
            .filter(Account::ID.eq(id)),
    )
    .await?;
    Ok(())
}

/// One transfer of `AMOUNT`, in its own transaction; `barrier` is where
/// both transfers meet, after any reads and before any writes.
async fn one_transfer(
    pool: TenantPool<Postgres>,
    barrier: Arc<Barrier>,
    style: Style,
    from: i64,
    to: i64,
) -> Result<(), BoxError> {
    let tenant = TenantId::from_verified(1_i64);
    let mut tx = pool.begin(&tenant).await?;
    match style {
        Style::Atomic => {
            barrier.wait().await;
            transfer_in(&mut tx, from, to, AMOUNT).await?;
        }
        Style::ReadThenWrite => {
            let debit = read_balance(&mut tx, from).await?;
            let credit = read_balance(&mut tx, to).await?;
            barrier.wait().await;
            if debit < AMOUNT {
                return Err("balance short".into());
            }
            write_balance(&mut tx, from, debit - AMOUNT).await?;
            write_balance(&mut tx, to, credit + AMOUNT).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Runs two transfers of `style` at once; the balances after them.
async fn two_concurrent_transfers(style: Style) -> TestResult<(i64, i64)> {
    let (_database, pool, from, to) = accounts().await?;
    let barrier = Arc::new(Barrier::new(2));
    let first = tokio::spawn(one_transfer(pool.clone(), barrier.clone(), style, from, to));
    let second = tokio::spawn(one_transfer(pool.clone(), barrier, style, from, to));
    first.await??;
    second.await??;
    let mut tx = pool.begin(&TenantId::from_verified(1_i64)).await?;
    let balances = (
        read_balance(&mut tx, from).await?,
        read_balance(&mut tx, to).await?,
    );
    tx.commit().await?;
    Ok(balances)
}

#[tokio::test]
async fn two_concurrent_transfers_through_the_builder_are_both_applied() -> TestResult {
    let balances = two_concurrent_transfers(Style::Atomic).await?;
    assert_eq!(balances, (OPENING - 2 * AMOUNT, 2 * AMOUNT));
    Ok(())
}

#[tokio::test]
async fn the_same_transfers_written_read_then_write_lose_one() -> TestResult {
    let balances = two_concurrent_transfers(Style::ReadThenWrite).await?;
    // Both wrote a balance computed from the same read: one transfer's
    // debit and credit are gone, and money was neither conserved nor
    // correctly moved.
    assert_eq!(balances, (OPENING - AMOUNT, AMOUNT));
    Ok(())
}

#[tokio::test]
async fn concurrent_transfers_never_overdraw_the_account() -> TestResult {
    let (_database, pool, from, to) = accounts().await?;
    // Eight transfers of 300 from 1000: three fit, five must be refused.
    let barrier = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (pool, barrier) = (pool.clone(), barrier.clone());
            tokio::spawn(async move {
                let tenant = TenantId::from_verified(1_i64);
                let mut tx = pool.begin(&tenant).await?;
                barrier.wait().await;
                let moved = transfer_in(&mut tx, from, to, 300).await;
                if moved.is_ok() {
                    tx.commit().await?;
                }
                Ok::<bool, BoxError>(moved.is_ok())
            })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        applied += usize::from(task.await??);
    }
    assert_eq!(applied, 3);
    let mut tx = pool.begin(&TenantId::from_verified(1_i64)).await?;
    assert_eq!(read_balance(&mut tx, from).await?, 100);
    assert_eq!(read_balance(&mut tx, to).await?, 900);
    Ok(())
}
