//! The noisy neighbour: 20 small tenants run light transactions while one
//! tenant floods a pool of 8 connections with heavy ones, with and without
//! the pool's per-tenant limits, against the same small tenants without the
//! flood.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tenancy_benches::database::{BenchDatabase, execute};
use tenancy_benches::harness::Samples;
use tenancy_benches::results::{BenchResult, Load, Section, Unit};
use tenancy_benches::{BenchError, Step};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::limits::{TenantLimits, Tier};
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::APP_ROLE;
use tenancy_sqlx::{CrossTenant, Dialect, OwnerPool, TenantId, TenantPool, TenantPoolOptions};

mod schema {
    use tenancy_sqlx::tenant_scoped;

    #[tenant_scoped]
    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct Item {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub label: String,
    }
}

use schema::Item;

/// The pool every scenario shares out.
const POOL: u32 = 8;
/// The small tenants, 2..=21.
const SMALL: i64 = 20;
/// The flooding tenant.
const FLOODER: i64 = 1;
/// The flooding tenant's concurrent tasks: twice the pool.
const FLOOD_TASKS: usize = 16;
/// How long one heavy transaction holds its connection.
const HEAVY: Duration = Duration::from_millis(20);
/// A small tenant's pause between its transactions.
const THINK: Duration = Duration::from_millis(5);
/// How long each scenario runs per round.
const RUN: Duration = Duration::from_secs(3);
/// Rounds, the scenarios taking turns.
const ROUNDS: usize = 3;
/// The flooding tenant's limit in the limited scenario.
const PER_TENANT: usize = 2;
/// The goal: the small tenants' p99 with limits under the flood
/// within 1.5× of their p99 without it.
const GOAL: f64 = 1.5;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    Quiet,
    Flood,
    FloodLimited,
}

impl Scenario {
    const ALL: [Scenario; 3] = [Scenario::Quiet, Scenario::Flood, Scenario::FloodLimited];

    fn name(self) -> &'static str {
        match self {
            Scenario::Quiet => "no flood",
            Scenario::Flood => "flood, no limits",
            Scenario::FloodLimited => "flood, 2 per tenant",
        }
    }
}

/// One scenario's run: the small tenants' latencies, sorted.
struct Run {
    scenario: Scenario,
    latencies: Vec<Duration>,
    heavy: usize,
    busy: usize,
}

impl Run {
    fn percentile(&self, p: f64) -> Duration {
        let at = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(at).copied().unwrap_or_default()
    }
}

fn tables() -> TableSet {
    TableSet::new().with::<Item>()
}

fn main() -> std::process::ExitCode {
    tenancy_benches::run_async_main(run())
}

async fn run() -> Result<(), BenchError> {
    let started = Instant::now();
    let load = Load::at_start();
    let database = BenchDatabase::create().await?;
    seed(&database).await?;
    let app: PgConnectOptions = database
        .test_database()
        .app_url()
        .parse()
        .step("parse the application's URL")?;
    let mut runs = Vec::new();
    for round in 0..ROUNDS {
        for turn in 0..Scenario::ALL.len() {
            let scenario = Scenario::ALL[(round + turn) % Scenario::ALL.len()];
            let run = scenario_run(scenario, &app).await?;
            println!(
                "round {round}, {}: p50 {:.2} ms, p99 {:.2} ms over {} light transactions; {} heavy; {} refused busy",
                scenario.name(),
                run.percentile(0.5).as_secs_f64() * 1000.0,
                run.percentile(0.99).as_secs_f64() * 1000.0,
                run.latencies.len(),
                run.heavy,
                run.busy
            );
            runs.push(run);
        }
    }
    BenchResult {
        id: "neighbours".to_owned(),
        title: "Noisy neighbours".to_owned(),
        description: description(),
        postgres: Some(database.server_version().await?),
        elapsed_seconds: started.elapsed().as_secs_f64(),
        load,
        sections: sections(&runs)?,
    }
    .save()
}

fn description() -> String {
    format!(
        "{SMALL} small tenants each run a light transaction (`BEGIN` with the tenant set, one \
         select by key through the builder, `COMMIT`) every {} ms, while tenant {FLOODER} runs \
         {FLOOD_TASKS} tasks of heavy transactions ({} ms of `pg_sleep` each, holding a \
         connection) on the same pool of {POOL} connections, for {} s per scenario. Without \
         limits the flood takes every connection and the small tenants queue behind it; with \
         `TenantLimits` of {PER_TENANT} transactions per tenant and fair turns, it holds at most \
         {PER_TENANT}. The figures are the small tenants' latency percentiles, `begin` to the \
         end of `commit`; the scenarios take turns over {ROUNDS} rounds.",
        THINK.as_millis(),
        HEAVY.as_millis(),
        RUN.as_secs()
    )
}

/// The table, RLS, and a row per small tenant.
async fn seed(database: &BenchDatabase) -> Result<(), BenchError> {
    let owner = database.owner_pool().await?;
    let tables = tables();
    for statement in tables
        .create_statements(Dialect::Postgres)
        .step("render the DDL")?
    {
        execute(&owner, &statement).await?;
    }
    execute(
        &owner,
        "INSERT INTO items SELECT t, 1, 'item of ' || t FROM generate_series(1, 21) AS t",
    )
    .await?;
    OwnerPool::from_pool(
        owner.clone(),
        CrossTenant::with_reason("noisy neighbour set-up").step("state the reason")?,
    )
    .with_tables(&tables)
    .apply_schema(
        &tables,
        &RlsPolicy::for_role(APP_ROLE).step("name the application role")?,
    )
    .await
    .step("protect the table")?;
    owner.close().await;
    Ok(())
}

async fn scenario_run(scenario: Scenario, app: &PgConnectOptions) -> Result<Run, BenchError> {
    let mut options = TenantPoolOptions::new(&tables());
    if scenario == Scenario::FloodLimited {
        options = options.limits(
            TenantLimits::new()
                .default_tier(Tier::new("default").per_tenant(PER_TENANT))
                .max_wait(Duration::from_secs(30)),
        );
    }
    let pool = TenantPool::connect_with(
        PgPoolOptions::new()
            .max_connections(POOL)
            .min_connections(POOL)
            .acquire_timeout(Duration::from_secs(30)),
        app.clone(),
        options,
    )
    .await
    .step("connect the tenant pool")?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut flood = Vec::new();
    if scenario != Scenario::Quiet {
        for _ in 0..FLOOD_TASKS {
            flood.push(tokio::spawn(heavy(pool.clone(), Arc::clone(&stop))));
        }
    }
    let mut small = Vec::new();
    for key in 2..2 + SMALL {
        small.push(tokio::spawn(light(pool.clone(), key, Arc::clone(&stop))));
    }
    tokio::time::sleep(RUN).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for task in small {
        latencies.extend(joined(task).await?);
    }
    let (mut heavy_done, mut busy) = (0, 0);
    for task in flood {
        let (done, refused) = joined(task).await?;
        heavy_done += done;
        busy += refused;
    }
    pool.close().await;
    latencies.sort();
    Ok(Run {
        scenario,
        latencies,
        heavy: heavy_done,
        busy,
    })
}

async fn joined<T>(task: tokio::task::JoinHandle<Result<T, BenchError>>) -> Result<T, BenchError> {
    task.await
        .map_err(|error| BenchError::message(format!("a task failed: {error}")))?
}

/// A small tenant's loop: its latencies.
async fn light(
    pool: TenantPool,
    key: i64,
    stop: Arc<AtomicBool>,
) -> Result<Vec<Duration>, BenchError> {
    let tenant = TenantId::from_verified(key);
    let mut latencies = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        let mut tx = pool
            .begin(&tenant)
            .await
            .step("begin a light transaction")?;
        let item: Item = tx
            .fetch_one(Item::select(&tenant).filter(Item::ID.eq(1)))
            .await
            .step("read the small tenant's item")?;
        tx.commit().await.step("commit a light transaction")?;
        latencies.push(start.elapsed());
        if item.tenant_id != key {
            return Err(BenchError::message(format!(
                "tenant {key} read tenant {}'s item",
                item.tenant_id
            )));
        }
        tokio::time::sleep(THINK).await;
    }
    Ok(latencies)
}

/// One of the flooding tenant's tasks: heavy transactions done, and
/// `begin`s refused as busy.
async fn heavy(pool: TenantPool, stop: Arc<AtomicBool>) -> Result<(usize, usize), BenchError> {
    let tenant = TenantId::from_verified(FLOODER);
    let (mut done, mut busy) = (0, 0);
    let sleep = format!("SELECT pg_sleep({})", HEAVY.as_secs_f64());
    while !stop.load(Ordering::Relaxed) {
        let mut tx = match pool.begin(&tenant).await {
            Ok(tx) => tx,
            Err(tenancy_sqlx::Error::TenantBusy { .. }) => {
                busy += 1;
                continue;
            }
            Err(error) => return Err(BenchError::message(format!("a heavy begin: {error}"))),
        };
        execute(tx.raw_connection(), &sleep).await?;
        tx.commit().await.step("commit a heavy transaction")?;
        done += 1;
    }
    Ok((done, busy))
}

fn samples(runs: &[Run], p: f64) -> Vec<Samples> {
    Scenario::ALL
        .iter()
        .map(|scenario| Samples {
            name: scenario.name().to_owned(),
            iterations: 1,
            nanos_per_iteration: runs
                .iter()
                .filter(|run| run.scenario == *scenario)
                .map(|run| run.percentile(p).as_nanos() as f64)
                .collect(),
            cpu_nanos_per_iteration: None,
        })
        .collect()
}

fn sections(runs: &[Run]) -> Result<Vec<Section>, BenchError> {
    let mut out = Vec::new();
    for (p, label) in [(0.99, "p99"), (0.5, "p50")] {
        let all = samples(runs, p);
        let mut section = Section::new(
            format!("the small tenants' {label} latency"),
            Unit::Milliseconds,
            &all,
        );
        let goal = (p == 0.99).then_some(GOAL);
        section.ratio(
            &all,
            Scenario::FloodLimited.name(),
            Scenario::Quiet.name(),
            goal,
        )?;
        section.ratio(&all, Scenario::Flood.name(), Scenario::Quiet.name(), None)?;
        out.push(section);
    }
    let light: usize = runs.iter().map(|run| run.latencies.len()).sum();
    if let Some(first) = out.first_mut() {
        first.notes.push(format!(
            "{light} light transactions measured over all runs; every one read its own \
             tenant's item."
        ));
    }
    Ok(out)
}
