//! Background jobs on PostgreSQL, as the application role under forced
//! row-level security: a serialized job becomes a witness only after a
//! lookup in the tenants table says the tenant is active, and two workers
//! draining a job queue with `FOR UPDATE SKIP LOCKED` run every job once,
//! each under the tenant that owns it.

mod sales;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sales::tables::Job;
use sales::{A, B, TestResult, tenant};
use tenancy_sqlx::job::{TenantsTable, TenantsTableError, spawn_for_tenant};
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{Error, JobError, Postgres, TenantId, TenantJob, TenantPool, TenantStatus};

/// Seeded like A and B, but suspended.
const SUSPENDED: i64 = 3;
/// Has no row in the tenants table.
const UNKNOWN: i64 = 4;
const DELETED: i64 = 5;
const NULL_STATUS: i64 = 6;
const SHOUTED: i64 = 7;

/// The tenants table, readable by the application role.
async fn tenants_table(
    db: &TestDatabase,
) -> Result<TenantsTable, Box<dyn std::error::Error + Send + Sync>> {
    let owner = db.owner_pool().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE tenants (id bigint PRIMARY KEY, status text);
         INSERT INTO tenants VALUES ({A}, 'active'), ({B}, 'active'), ({SUSPENDED}, 'suspended'),
             ({DELETED}, 'deleted'), ({NULL_STATUS}, NULL), ({SHOUTED}, 'ACTIVE');
         GRANT SELECT ON tenants TO {APP_ROLE};"
    )))
    .execute(&owner)
    .await?;
    Ok(TenantsTable::new(
        db.app_pool().await?,
        None,
        "tenants",
        "id",
        "status",
    )?)
}

fn queued(key: i64) -> String {
    let job = TenantJob::new(&TenantId::from_verified(key), ());
    serde_json::to_string(&job).expect("a job serializes")
}

#[tokio::test]
async fn the_tenants_table_yields_a_witness_only_for_an_active_tenant() -> TestResult {
    let (db, _pool): (_, TenantPool<Postgres>) = sales::postgres().await?;
    let table = tenants_table(&db).await?;

    let job: TenantJob<i64, String> =
        serde_json::from_str(&format!(r#"{{"tenant":{A},"payload":"invoice"}}"#))?;
    let (witness, payload) = job.verify(&table).await?;
    assert_eq!((witness, payload.as_str()), (tenant(A), "invoice"));

    for (key, expected) in [
        (SUSPENDED, TenantStatus::Suspended),
        (DELETED, TenantStatus::Deleted),
        (UNKNOWN, TenantStatus::Unknown),
    ] {
        let job: TenantJob<i64, ()> = serde_json::from_str(&queued(key))?;
        match job.verify(&table).await {
            Err(JobError::Refused { status, .. }) => assert_eq!(status, expected, "tenant {key}"),
            other => return Err(format!("tenant {key}: {other:?}").into()),
        }
    }
    // A status the library does not know (or none) is no licence to run.
    for key in [NULL_STATUS, SHOUTED] {
        let job: TenantJob<i64, ()> = serde_json::from_str(&queued(key))?;
        match job.verify(&table).await {
            Err(JobError::Verifier {
                source: TenantsTableError::UnrecognisedStatus(_),
                ..
            }) => {}
            other => return Err(format!("tenant {key}: {other:?}").into()),
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_tenants_table_refuses_hostile_names() -> TestResult {
    let db = TestDatabase::create().await?;
    let pool = db.app_pool().await?;
    for (table, key, status) in [
        ("tenants; DROP TABLE x", "id", "status"),
        ("tenants", "id\" = id OR \"", "status"),
        ("tenants", "id", ""),
    ] {
        match TenantsTable::new(pool.clone(), None, table, key, status) {
            Err(Error::InvalidIdentifier { .. }) => {}
            other => return Err(format!("{table:?} {key:?} {status:?}: {other:?}").into()),
        }
    }
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
    let table = Arc::new(tenants_table(&db).await?);

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
                    Err(JobError::Refused { status, .. }) => refused.push((key, status)),
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
        [
            (SUSPENDED, TenantStatus::Suspended),
            (UNKNOWN, TenantStatus::Unknown)
        ]
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
