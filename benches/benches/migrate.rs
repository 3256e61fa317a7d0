//! The migration runner on 1,000 tenant schemas × 3 migrations (add a
//! column, build an index `CONCURRENTLY`, backfill), at concurrency 1, 4
//! and 20, against the seed formula "duration of one migration × batches".

use std::time::{Duration, Instant};

use sqlx::migrate::{Migration, MigrationType};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqlSafeStr};
use tenancy_benches::database::{BenchDatabase, execute};
use tenancy_benches::harness::Samples;
use tenancy_benches::results::{BenchResult, Load, Section, Unit};
use tenancy_benches::{BenchError, Step};
use tenancy_sqlx::CrossTenant;
use tenancy_sqlx::migrate::{FleetReport, Migrations, Runner, RunnerOptions, Target};

/// Tenant schemas per run.
const SCHEMAS: usize = 1_000;

/// Rows of each schema's `orders`.
const ROWS: usize = 200;

/// The concurrencies compared.
const CONCURRENCY: [usize; 3] = [1, 4, 20];

/// What the issue asks of the 1,000-schema run, at the default concurrency.
const GOAL: Duration = Duration::from_secs(60);

/// The runner's default concurrency, which the goal is for.
const DEFAULT_CONCURRENCY: usize = 20;

/// Runs of every concurrency, taking turns round by round.
const ROUNDS: usize = 3;

fn main() -> std::process::ExitCode {
    tenancy_benches::run_async_main(run())
}

/// One run at one concurrency, on a database of its own.
struct Run {
    round: usize,
    concurrency: usize,
    wall: Duration,
    /// Median, over the schemas, of the time the three migrations took in
    /// the server (from the ledger's `started_at` and `finished_at`, summed
    /// per schema).
    one_schema: Duration,
    report: FleetReport,
}

async fn run() -> Result<(), BenchError> {
    let started = Instant::now();
    let load = Load::at_start();
    // The schemas are made once and copied for every run: `CREATE DATABASE
    // .. TEMPLATE` copies files, where making 1,000 schemas runs SQL.
    let seed = BenchDatabase::create().await?;
    let targets = schemas(&seed).await?;
    seed.checkpoint().await?;
    let mut runs = Vec::new();
    for round in 0..ROUNDS {
        for turn in 0..CONCURRENCY.len() {
            let concurrency = CONCURRENCY[(round + turn) % CONCURRENCY.len()];
            let (copy, _) = seed.copy(&format!("r{round}_c{concurrency}")).await?;
            runs.push(migrate(&copy, &targets, round, concurrency).await?);
        }
    }
    BenchResult {
        id: "migrate".to_owned(),
        title: "Fleet migrations".to_owned(),
        description: description(),
        postgres: Some(seed.server_version().await?),
        elapsed_seconds: started.elapsed().as_secs_f64(),
        load,
        sections: vec![section(&runs)?],
    }
    .save()
}

fn description() -> String {
    format!(
        "The migration runner (`tenancy_sqlx::migrate::Runner`, what `tenancy migrate up` runs) \
         applies three migrations to {SCHEMAS} tenant schemas, each with an `orders` table of \
         {ROWS} rows: `ALTER TABLE orders ADD COLUMN priority bigint`; `CREATE INDEX \
         CONCURRENTLY` on `(tenant_id, priority)`, a `-- no-transaction` migration run statement \
         by statement; and a backfill `UPDATE` of every row. Each transactional migration runs in \
         its own transaction with `SET LOCAL lock_timeout` and `search_path` and writes its ledger \
         row before committing; the canary is the first 5 schemas. Each run starts from a new \
         runner (connections included) on a fresh copy of the same database; the concurrencies \
         take turns over {ROUNDS} rounds. \
         \"One migration × batches\" is the seed formula the issue measures against: the median \
         time the three migrations of one schema took in the server at concurrency 1 in the same \
         round (from the ledger's `started_at` and `finished_at`), times `ceil({SCHEMAS} / \
         concurrency)`. Below 1, the run beat the formula; \
         above it, per-schema overhead (locking the target, reading its ledger, round trips) or \
         contention for the machine's two cores, which the server and the runner share."
    )
}

/// The migrations, as sqlx would read them from `migrations/`.
fn migrations() -> Result<Migrations, BenchError> {
    let migration = |version, name: &str, sql: &str| {
        Migration::new(
            version,
            name.to_owned().into(),
            MigrationType::Simple,
            AssertSqlSafe(sql.to_owned()).into_sql_str(),
            sql.starts_with("-- no-transaction"),
        )
    };
    Migrations::from_list([
        migration(1, "add priority", "ALTER TABLE orders ADD COLUMN priority bigint"),
        migration(
            2,
            "index priority",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_priority_idx ON orders (tenant_id, priority)",
        ),
        migration(
            3,
            "backfill priority",
            "UPDATE orders SET priority = CASE status WHEN 'open' THEN 1 ELSE 0 END WHERE priority IS NULL",
        ),
    ])
    .step("read the migrations")
}

/// Creates the tenant schemas, a hundred per statement.
async fn schemas(database: &BenchDatabase) -> Result<Vec<Target>, BenchError> {
    let owner = database.owner_pool().await?;
    let names: Vec<String> = (1..=SCHEMAS).map(|n| format!("tenant_{n:04}")).collect();
    for chunk in names.chunks(100) {
        let sql: String = chunk
            .iter()
            .map(|schema| {
                format!(
                    "CREATE SCHEMA {schema};
                     CREATE TABLE {schema}.orders (tenant_id bigint NOT NULL, id bigint NOT NULL,
                         status text NOT NULL, total bigint NOT NULL, PRIMARY KEY (tenant_id, id));
                     INSERT INTO {schema}.orders
                         SELECT 1, g, CASE WHEN g % 4 = 0 THEN 'open' ELSE 'paid' END, g * 10
                         FROM generate_series(1, {ROWS}) AS g;"
                )
            })
            .collect();
        execute(&owner, &sql).await?;
    }
    execute(&owner, "ANALYZE").await?;
    owner.close().await;
    names
        .iter()
        .map(|name| Target::schema(name).step("name a schema target"))
        .collect()
}

async fn migrate(
    database: &PgConnectOptions,
    targets: &[Target],
    round: usize,
    concurrency: usize,
) -> Result<Run, BenchError> {
    let runner = Runner::new(
        database.clone(),
        CrossTenant::with_reason("migration benchmark").step("state the reason")?,
        migrations()?,
    )
    .options(RunnerOptions::new().concurrency(concurrency));
    let start = Instant::now();
    let report = runner.up(targets).await.step("run the migrations")?;
    let wall = start.elapsed();
    if !report.succeeded() || report.steps() != SCHEMAS * 3 {
        return Err(BenchError::message(format!(
            "the run at concurrency {concurrency} did not migrate every schema:\n{}",
            report.summary()
        )));
    }
    let mut owner = PgConnection::connect_with(database)
        .await
        .step("connect to read the ledger")?;
    // From the timestamps rather than `duration_ms`, for microseconds.
    let one_schema: f64 = sqlx::query_scalar(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total)
         FROM (SELECT sum(extract(epoch FROM finished_at - started_at))::float8 AS total
               FROM tenancy.migration_log GROUP BY target) AS t",
    )
    .fetch_one(&mut owner)
    .await
    .step("read the ledger's durations")?;
    let _ = owner.close().await;
    println!(
        "round {round}, concurrency {concurrency}: {SCHEMAS} schemas in {:.1} s; {} lock waits seen",
        wall.as_secs_f64(),
        report.lock_waits.len()
    );
    Ok(Run {
        round,
        concurrency,
        wall,
        one_schema: Duration::from_secs_f64(one_schema),
        report,
    })
}

fn contender(concurrency: usize) -> String {
    format!("concurrency {concurrency}")
}

fn formula(concurrency: usize) -> String {
    format!("one migration × batches at concurrency {concurrency}")
}

const GOAL_CONTENDER: &str = "goal: 60 s";

/// Per contender, one sample per round: the runs' wall times, the formula
/// from the same round's sequential run, and the goal.
fn samples(runs: &[Run]) -> Result<Vec<Samples>, BenchError> {
    let one_schema = |round: usize| {
        runs.iter()
            .find(|run| run.round == round && run.concurrency == 1)
            .map(|run| run.one_schema)
            .ok_or_else(|| BenchError::message(format!("no run at concurrency 1 in round {round}")))
    };
    let samples = |name: String, values: Vec<f64>| Samples {
        name,
        iterations: 1,
        nanos_per_iteration: values,
        cpu_nanos_per_iteration: None,
    };
    let mut all = Vec::new();
    for concurrency in CONCURRENCY {
        let batches = SCHEMAS.div_ceil(concurrency) as u32;
        let mut walls = Vec::new();
        let mut formulas = Vec::new();
        for round in 0..ROUNDS {
            let run = runs
                .iter()
                .find(|run| run.round == round && run.concurrency == concurrency)
                .ok_or_else(|| {
                    BenchError::message(format!(
                        "no run at concurrency {concurrency} in round {round}"
                    ))
                })?;
            walls.push(run.wall.as_nanos() as f64);
            formulas.push((one_schema(round)? * batches).as_nanos() as f64);
        }
        all.push(samples(contender(concurrency), walls));
        all.push(samples(formula(concurrency), formulas));
    }
    all.push(samples(
        GOAL_CONTENDER.to_owned(),
        vec![GOAL.as_nanos() as f64; ROUNDS],
    ));
    Ok(all)
}

fn section(runs: &[Run]) -> Result<Section, BenchError> {
    let all = samples(runs)?;
    let mut section = Section::new(
        format!("{SCHEMAS} tenant schemas × 3 migrations"),
        Unit::Seconds,
        &all,
    );
    for concurrency in CONCURRENCY {
        section.ratio(&all, &contender(concurrency), &formula(concurrency), None)?;
    }
    section.ratio(
        &all,
        &contender(DEFAULT_CONCURRENCY),
        GOAL_CONTENDER,
        Some(1.0),
    )?;
    let median_ms = |concurrency: usize, value: &dyn Fn(&Run) -> f64| {
        let mut values: Vec<f64> = runs
            .iter()
            .filter(|run| run.concurrency == concurrency)
            .map(value)
            .collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
    };
    section.notes.push(format!(
        "The formula's \"one migration\" is one schema's three migrations in the server at \
         concurrency 1: {:.2} ms (median of the rounds' medians).",
        median_ms(1, &|run| run.one_schema.as_secs_f64() * 1000.0)
    ));
    for concurrency in CONCURRENCY {
        let of = |run: &&Run| run.concurrency == concurrency;
        let waits: usize = runs
            .iter()
            .filter(of)
            .map(|run| run.report.lock_waits.len())
            .sum();
        let relations: usize = runs
            .iter()
            .filter(of)
            .flat_map(|run| &run.report.lock_waits)
            .filter(|wait| wait.relation.is_some())
            .count();
        let retries: u32 = runs
            .iter()
            .filter(of)
            .flat_map(|run| &run.report.targets)
            .flat_map(|target| &target.steps)
            .map(|step| step.attempts.saturating_sub(1))
            .sum();
        section.notes.push(format!(
            "Concurrency {concurrency}: {:.2} ms of wall time per schema; one schema's migrations \
             took {:.1} ms in the server (median); at most {} connections; over {ROUNDS} runs, \
             {waits} lock waits seen in pg_locks ({relations} on relations, the others on \
             transactions a concurrent index build waits out) and {retries} retries.",
            median_ms(concurrency, &|run| run.wall.as_secs_f64() * 1000.0
                / SCHEMAS as f64),
            median_ms(concurrency, &|run| run.one_schema.as_secs_f64() * 1000.0),
            concurrency + 1,
        ));
    }
    Ok(section)
}
