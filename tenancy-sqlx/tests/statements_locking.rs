//! Row locks against real databases. On PostgreSQL, as the application
//! role under forced row-level security: `FOR UPDATE` makes a concurrent
//! `NOWAIT` fail, `SKIP LOCKED` lets two workers of a job queue claim
//! different jobs, `FOR SHARE` admits other sharers, and a tenant's locks
//! never hold back another tenant's rows of the same ids. On SQLite, which
//! has no row locks, the clause is left out and the statement runs.

mod sales;

use sales::tables::{Account, Job};
use sales::{A, B, TestResult, tenant};
use tenancy_sqlx::{Error, Postgres, TenantPool, TenantTransaction};

/// SQLSTATE `lock_not_available`: what `NOWAIT` raises.
const LOCK_NOT_AVAILABLE: &str = "55P03";

fn sqlstate(error: &Error) -> Option<String> {
    match error {
        Error::Database(error) => error
            .as_database_error()
            .and_then(|error| error.code())
            .map(|code| code.into_owned()),
        _ => None,
    }
}

/// The first queued job, claimed without waiting for another worker's.
fn claim(tenant: &tenancy_sqlx::TenantId) -> tenancy_sqlx::Select<Job> {
    Job::select(tenant)
        .filter(Job::STATE.eq("queued"))
        .order_by_asc(Job::ID)
        .limit(1)
        .for_update()
        .skip_locked()
}

async fn take(
    tx: &mut TenantTransaction,
    worker: &str,
) -> Result<Option<i64>, tenancy_sqlx::Error> {
    let tenant = *tx.tenant();
    let Some(job) = tx.fetch_optional::<Job>(claim(&tenant)).await? else {
        return Ok(None);
    };
    tx.execute(
        Job::update(&tenant)
            .set(Job::STATE, "running")
            .set(Job::WORKER, Some(worker.to_owned()))
            .filter(Job::ID.eq(job.id)),
    )
    .await?;
    Ok(Some(job.id))
}

#[tokio::test]
async fn skip_locked_lets_two_workers_claim_different_jobs() -> TestResult {
    let (_db, pool): (_, TenantPool<Postgres>) = sales::postgres().await?;
    let tenant = tenant(A);
    let mut first = pool.begin(&tenant).await?;
    let mut second = pool.begin(&tenant).await?;
    let one = take(&mut first, "w1").await?;
    // The first worker holds job 1: the second skips it instead of waiting.
    let two = take(&mut second, "w2").await?;
    assert_eq!((one, two), (Some(1), Some(2)));
    first.commit().await?;
    second.commit().await?;

    // Tenant B's queue is untouched: its job 1 is still the first queued.
    let theirs = sales::tenant(B);
    let mut tx = pool.begin(&theirs).await?;
    let jobs: Vec<Job> = tx.fetch_all(Job::select(&theirs)).await?;
    assert!(jobs.iter().all(|job| job.state == "queued"), "{jobs:?}");
    let next = tx.fetch_optional::<Job>(claim(&theirs)).await?;
    assert_eq!(next.map(|job| job.id), Some(1));
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn for_update_makes_a_concurrent_nowait_fail_and_for_share_admits_sharers() -> TestResult {
    let (_db, pool): (_, TenantPool<Postgres>) = sales::postgres().await?;
    let tenant = tenant(A);
    let account = || Account::select(&tenant).filter(Account::ID.eq(1));

    let mut holder = pool.begin(&tenant).await?;
    let held: Account = holder.fetch_one(account().for_update()).await?;
    assert_eq!(held.balance, sales::balances(A)[0]);
    let mut other = pool.begin(&tenant).await?;
    let refused = other
        .fetch_one::<Account>(account().for_update().nowait())
        .await;
    match refused {
        Err(error) => assert_eq!(
            sqlstate(&error).as_deref(),
            Some(LOCK_NOT_AVAILABLE),
            "{error}"
        ),
        Ok(account) => return Err(format!("locked twice: {account:?}").into()),
    }
    other.rollback().await?;
    // Tenant B's row of the same id is another row: free to lock.
    let theirs = sales::tenant(B);
    let mut b = pool.begin(&theirs).await?;
    let locked: Account = b
        .fetch_one(
            Account::select(&theirs)
                .filter(Account::ID.eq(1))
                .for_update()
                .nowait(),
        )
        .await?;
    assert_eq!(locked.owner, "alice-2");
    b.commit().await?;
    holder.commit().await?;

    let mut first = pool.begin(&tenant).await?;
    let mut second = pool.begin(&tenant).await?;
    let shared: Account = first.fetch_one(account().for_share()).await?;
    let shared_too: Account = second.fetch_one(account().for_share().nowait()).await?;
    assert_eq!(shared, shared_too);
    let mut writer = pool.begin(&tenant).await?;
    let refused = writer
        .fetch_one::<Account>(account().for_update().nowait())
        .await;
    assert!(
        matches!(&refused, Err(error) if sqlstate(error).as_deref() == Some(LOCK_NOT_AVAILABLE)),
        "{refused:?}"
    );
    writer.rollback().await?;
    first.commit().await?;
    second.commit().await?;
    Ok(())
}

#[tokio::test]
async fn sqlite_leaves_row_locks_out_and_runs_the_statement() -> TestResult {
    let pool = sales::sqlite().await?;
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let job: Option<Job> = tx.fetch_optional(claim(&tenant)).await?;
    assert_eq!(job.map(|job| (job.tenant_id, job.id)), Some((A, 1)));
    let account: Account = tx
        .fetch_one(
            Account::select(&tenant)
                .filter(Account::ID.eq(2))
                .for_share()
                .nowait(),
        )
        .await?;
    assert_eq!(account.owner, "bert-1");
    tx.commit().await?;
    Ok(())
}
