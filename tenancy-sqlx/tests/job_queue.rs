//! Background jobs on PostgreSQL, as the application role under forced
//! row-level security: a serialized job becomes a witness only after a
//! lookup in the tenant directory says the tenant is active, and two workers
//! draining a job queue with `FOR UPDATE SKIP LOCKED` run every job once,
//! each under the tenant that owns it.

mod sales;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sales::tables::Job;
use sales::{A, B, TestResult, tenant};
use tenancy_sqlx::directory::{Placement, StaticDirectory, TableDirectory, TenantEntry};
use tenancy_sqlx::job::spawn_for_tenant;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{
    Error, Identifier, JobError, KeyValue, Postgres, RouterOptions, TenantId, TenantJob,
    TenantPool, TenantRouter, TenantStatus, VerifyTenant,
};

/// Seeded like A and B, but suspended.
const SUSPENDED: i64 = 3;
/// Has no entry in the directory.
const UNKNOWN: i64 = 4;
const DELETED: i64 = 5;
const MOVING: i64 = 6;

/// The tenant directory, written by the owner and read, as the router
/// reads it, by the application role.
async fn directory(
    db: &TestDatabase,
) -> Result<TableDirectory, Box<dyn std::error::Error + Send + Sync>> {
    let owner = db.owner_pool().await?;
    for statement in TableDirectory::create_statements(&Identifier::new("role", APP_ROLE)?) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&owner)
            .await?;
    }
    let writer = TableDirectory::new(owner);
    for (key, status) in [
        (A, TenantStatus::Active),
        (B, TenantStatus::Active),
        (SUSPENDED, TenantStatus::Suspended),
        (DELETED, TenantStatus::Deleted),
        (MOVING, TenantStatus::Moving),
    ] {
        let entry = TenantEntry {
            placement: Placement::Shared,
            status,
        };
        writer.put(KeyValue::I64(key), &entry).await?;
    }
    Ok(TableDirectory::new(db.app_pool().await?))
}

fn queued(key: i64) -> String {
    let job = TenantJob::new(&TenantId::from_verified(key), ());
    serde_json::to_string(&job).expect("a job serializes")
}

/// What verifying a queued job for `key` against `verifier` gives: the
/// status it was refused for, `None` for an unknown tenant, or the witness.
async fn verified<V: VerifyTenant<i64>>(
    verifier: &V,
    key: i64,
) -> Result<Result<TenantId, Option<TenantStatus>>, Box<dyn std::error::Error + Send + Sync>>
where
    V::Error: std::fmt::Debug,
{
    let job: TenantJob<i64, ()> = serde_json::from_str(&queued(key))?;
    match job.verify(verifier).await {
        Ok((tenant, ())) => Ok(Ok(tenant)),
        Err(JobError::Refused { tenant, status }) => {
            assert_eq!(tenant, KeyValue::I64(key));
            Ok(Err(Some(status)))
        }
        Err(JobError::UnknownTenant { tenant }) => {
            assert_eq!(tenant, KeyValue::I64(key));
            Ok(Err(None))
        }
        Err(other) => Err(format!("tenant {key}: {other:?}").into()),
    }
}

#[tokio::test]
async fn the_directory_yields_a_witness_only_for_an_active_tenant() -> TestResult {
    let (db, pool): (_, TenantPool<Postgres>) = sales::postgres().await?;
    let table = directory(&db).await?;

    let job: TenantJob<i64, String> =
        serde_json::from_str(&format!(r#"{{"tenant":{A},"payload":"invoice"}}"#))?;
    let (witness, payload) = job.verify(&table).await?;
    assert_eq!((witness, payload.as_str()), (tenant(A), "invoice"));

    // The same answers from the table, from the router over it (its cache
    // included: a second round is served from it) and from a static
    // directory with the same entries.
    let router = TenantRouter::new(
        TableDirectory::new(db.app_pool().await?),
        pool,
        sales::pool_options(),
        RouterOptions::new(),
    )?;
    let mut fixed = StaticDirectory::new();
    for (key, entry) in table.list().await? {
        fixed = fixed.with(KeyValue::I64(key.parse()?), entry);
    }
    for round in 0..2 {
        for (key, expected) in [
            (SUSPENDED, Err(Some(TenantStatus::Suspended))),
            (DELETED, Err(Some(TenantStatus::Deleted))),
            (MOVING, Err(Some(TenantStatus::Moving))),
            (UNKNOWN, Err(None)),
            (B, Ok(tenant(B))),
        ] {
            assert_eq!(
                verified(&table, key).await?,
                expected,
                "table, tenant {key}"
            );
            assert_eq!(
                verified(&router, key).await?,
                expected,
                "router round {round}, tenant {key}"
            );
            assert_eq!(
                verified(&fixed, key).await?,
                expected,
                "static, tenant {key}"
            );
        }
    }

    // A suspension reaches the table at once and the router once its
    // cached entry is forgotten (or expires).
    let owner = TableDirectory::new(db.owner_pool().await?);
    owner
        .set_status(KeyValue::I64(B), TenantStatus::Suspended)
        .await?;
    let suspended = Err(Some(TenantStatus::Suspended));
    assert_eq!(verified(&table, B).await?, suspended);
    router.forget(KeyValue::I64(B));
    assert_eq!(verified(&router, B).await?, suspended);

    let refused = TenantJob::new(&tenant(SUSPENDED), ())
        .verify(&table)
        .await
        .expect_err("suspended");
    assert_eq!(
        refused.to_string(),
        "job refused: tenant 3 is suspended until it is made active again"
    );
    Ok(())
}

/// One job run: who ran it, for which tenant, and the tenant the
/// transaction's setting named.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Run {
    tenant: i64,
    job: i64,
    setting: String,
    worker: String,
}

/// Claims one queued job of the tenant, holds its lock for a while so the
/// other worker has to skip it, and marks it done.
async fn run_one(
    pool: TenantPool<Postgres>,
    tenant: TenantId,
    worker: &'static str,
) -> Result<Option<Run>, Error> {
    let mut tx = pool.begin(&tenant).await?;
    let claim = Job::select(&tenant)
        .filter(Job::STATE.eq("queued"))
        .order_by_asc(Job::ID)
        .limit(1)
        .for_update()
        .skip_locked();
    let Some(job) = tx.fetch_optional::<Job>(claim).await? else {
        tx.commit().await?;
        return Ok(None);
    };
    let setting: String = sqlx::query_scalar("SELECT current_setting('app.tenant_id')")
        .fetch_one(tx.raw_connection())
        .await?;
    tokio::time::sleep(Duration::from_millis(40)).await;
    tx.execute(
        Job::update(&tenant)
            .set(Job::STATE, "done")
            .set(Job::WORKER, Some(worker.to_owned()))
            .filter(Job::ID.eq(job.id)),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Run {
        tenant: job.tenant_id,
        job: job.id,
        setting,
        worker: worker.to_owned(),
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_run_each_job_once_under_its_own_tenant() -> TestResult {
    let (db, pool): (_, TenantPool<Postgres>) = sales::postgres().await?;
    sales::seed(&pool, SUSPENDED).await?;
    let table = Arc::new(directory(&db).await?);

    // Four jobs each for A and B (seeded), one message per job, interleaved
    // so both workers work on one tenant's queue at the same time; and
    // messages for a suspended and an unknown tenant.
    let mut messages = VecDeque::new();
    for _ in 0..2 {
        messages.extend([queued(A), queued(A), queued(B), queued(B)]);
    }
    messages.extend([queued(SUSPENDED), queued(UNKNOWN)]);
    let queue = Arc::new(Mutex::new(messages));

    let mut workers = Vec::new();
    for worker in ["w1", "w2"] {
        let (queue, table, pool) = (queue.clone(), table.clone(), pool.clone());
        workers.push(tokio::spawn(async move {
            let mut runs = Vec::new();
            let mut refused = Vec::new();
            loop {
                let Some(message) = queue.lock().expect("queue").pop_front() else {
                    break;
                };
                let job: TenantJob<i64, ()> = serde_json::from_str(&message)?;
                let key = job.unverified_tenant();
                match job.verify(&*table).await {
                    Ok((tenant, ())) => {
                        let pool = pool.clone();
                        let run =
                            spawn_for_tenant(tenant, move |tenant| run_one(pool, tenant, worker))?
                                .await??;
                        runs.extend(run);
                    }
                    Err(JobError::Refused { status, .. }) => refused.push((key, Some(status))),
                    Err(JobError::UnknownTenant { .. }) => refused.push((key, None)),
                    Err(error) => {
                        return Err(Box::<dyn std::error::Error + Send + Sync>::from(error));
                    }
                }
            }
            Ok((runs, refused))
        }));
    }
    let mut runs = Vec::new();
    let mut refused = Vec::new();
    for worker in workers {
        let (mut r, mut f) = worker.await??;
        runs.append(&mut r);
        refused.append(&mut f);
    }

    runs.sort();
    let ran: Vec<(i64, i64)> = runs.iter().map(|run| (run.tenant, run.job)).collect();
    let expected: Vec<(i64, i64)> = [A, B]
        .into_iter()
        .flat_map(|key| (1..=4).map(move |job| (key, job)))
        .collect();
    assert_eq!(ran, expected, "every job once: {runs:?}");
    for run in &runs {
        assert_eq!(run.setting, run.tenant.to_string(), "{run:?}");
    }
    let workers: std::collections::BTreeSet<&str> =
        runs.iter().map(|run| run.worker.as_str()).collect();
    assert_eq!(workers.len(), 2, "both workers claimed jobs: {runs:?}");
    refused.sort_by_key(|(key, _)| *key);
    assert_eq!(
        refused,
        [(SUSPENDED, Some(TenantStatus::Suspended)), (UNKNOWN, None)]
    );

    // What the database holds agrees, and the suspended tenant's queue was
    // not touched.
    for key in [A, B, SUSPENDED] {
        let tenant = tenant(key);
        let mut tx = pool.begin(&tenant).await?;
        let jobs: Vec<Job> = tx.fetch_all(Job::select(&tenant)).await?;
        tx.commit().await?;
        let state = if key == SUSPENDED { "queued" } else { "done" };
        assert!(
            jobs.len() == 4
                && jobs
                    .iter()
                    .all(|job| job.state == state && job.tenant_id == key),
            "tenant {key}: {jobs:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_spawned_task_runs_in_a_span_that_names_its_tenant() -> TestResult {
    let (_captured, _guard) = tenancy_test::capture::Capture::install();
    let task = spawn_for_tenant(tenant(A), |tenant| async move {
        let span = tracing::Span::current();
        let name = span.metadata().map(|metadata| metadata.name());
        (tenant, name, span.has_field("tenant.id"))
    })?;
    assert_eq!(task.await?, (tenant(A), Some("tenant task"), true));
    Ok(())
}

#[test]
fn spawning_outside_a_runtime_is_an_error_not_a_panic() {
    let spawned = spawn_for_tenant(tenant(A), |_| async {});
    assert!(spawned.is_err());
}
