//! `tenancy migrate` and `tenancy tenants`.

use serde_json::json;
use sqlx::Connection as _;
use sqlx::postgres::PgConnectOptions;
use tenancy_sqlx::audit;
use tenancy_sqlx::drift;
use tenancy_sqlx::migrate::{
    self, FleetReport, Migrations, Outcome, RetryPolicy, Runner, RunnerOptions, Target,
    TargetStatus,
};
use tenancy_sqlx::{CrossTenant, Identifier};

use crate::cli::{
    Connection, DownArgs, DraftArgs, InitArgs, LockArgs, MigrateCommand, RunArgs, Source,
    StatusArgs, TargetArgs, TenantsArgs, UpArgs,
};
use crate::error::CliError;
use crate::input;
use crate::progress::Progress;
use crate::targets;
use crate::text::Exit;

pub async fn run(command: MigrateCommand) -> Result<Exit, CliError> {
    match command {
        MigrateCommand::Status(args) => status(args).await,
        MigrateCommand::Up(args) => up(args, false).await,
        MigrateCommand::Canary(args) => up(args, true).await,
        MigrateCommand::Down(args) => down(args).await,
        MigrateCommand::Init(args) => init(args),
        MigrateCommand::Draft(args) => draft(args).await,
    }
}

/// The runner's database, its targets and migrations.
struct Setup {
    home: PgConnectOptions,
    targets: Vec<Target>,
    migrations: Migrations,
}

async fn setup(
    connection: &Connection,
    source: &Source,
    targets: &TargetArgs,
) -> Result<Setup, CliError> {
    let home = connection.options()?;
    let migrations = Migrations::from_dir(&source.source).await?;
    let mut connection = input::connect(&home).await?;
    let targets = targets::resolve(targets, &home, &mut connection).await?;
    let _ = connection.close().await;
    Ok(Setup {
        home,
        targets,
        migrations,
    })
}

fn options(run: &RunArgs, locks: Option<&LockArgs>) -> Result<RunnerOptions, CliError> {
    let mut options = RunnerOptions::new()
        .concurrency(run.concurrency)
        .ledger_schema(Identifier::new("schema", &run.ledger_schema)?)
        .application_name(&run.application_name);
    if let Some(locks) = locks {
        options = options.lock_timeout(locks.lock_timeout).retry(RetryPolicy {
            attempts: locks.attempts,
            ..RetryPolicy::default()
        });
        if let Some(timeout) = locks.statement_timeout {
            options = options.statement_timeout(timeout);
        }
    }
    Ok(options)
}

fn runner(
    setup: Setup,
    what: &str,
    options: RunnerOptions,
) -> Result<(Runner, Vec<Target>), CliError> {
    let runner = Runner::new(
        setup.home,
        CrossTenant::with_reason(format!("tenancy migrate {what} (command line)"))?,
        setup.migrations,
    )
    .options(options);
    Ok((runner, setup.targets))
}

async fn up(args: UpArgs, canary_only: bool) -> Result<Exit, CliError> {
    let setup = setup(&args.connection, &args.source, &args.targets).await?;
    let progress = Progress::new(setup.targets.len());
    let options = options(&args.run, Some(&args.locks))?
        .canary(args.canary)
        .max_failures(args.max_failures)
        .create_schemas(args.create_schemas)
        .observer(progress.observer());
    let (runner, targets) = runner(setup, if canary_only { "canary" } else { "up" }, options)?;
    let report = match (canary_only, args.to) {
        (true, _) => runner.canary(&targets).await?,
        (false, Some(version)) => runner.up_to(&targets, version).await?,
        (false, None) => runner.up(&targets).await?,
    };
    progress.finish();
    Ok(finish(&report, args.json, canary_only))
}

async fn down(args: DownArgs) -> Result<Exit, CliError> {
    let setup = setup(&args.connection, &args.source, &args.targets).await?;
    let progress = Progress::new(setup.targets.len());
    let options = options(&args.run, Some(&args.locks))?
        .max_failures(args.max_failures)
        .observer(progress.observer());
    let (runner, targets) = runner(setup, "down", options)?;
    let report = runner.down_to(&targets, args.to).await?;
    progress.finish();
    Ok(finish(&report, args.json, false))
}

/// Prints the report; exit 1 unless every target is where it should be (a
/// canary run only answers for its canary).
fn finish(report: &FleetReport, json: bool, canary_only: bool) -> Exit {
    let succeeded = if canary_only {
        report.stopped.is_none() && report.failed().next().is_none()
    } else {
        report.succeeded()
    };
    let exit = if succeeded {
        Exit::Clean
    } else {
        Exit::Findings
    };
    if json {
        println!("{}", report_json(report, exit));
    } else {
        println!("{}", report.summary());
    }
    exit
}

fn report_json(report: &FleetReport, exit: Exit) -> String {
    let targets: Vec<serde_json::Value> = report
        .targets
        .iter()
        .map(|target| {
            let (outcome, failure) = match &target.outcome {
                Outcome::UpToDate => ("up_to_date", None),
                Outcome::Done => ("done", None),
                Outcome::Stopped => ("stopped", None),
                Outcome::NotRun => ("not_run", None),
                Outcome::Failed(failure) => (
                    "failed",
                    Some(json!({
                        "version": failure.version,
                        "kind": format!("{:?}", failure.kind),
                        "message": failure.message,
                    })),
                ),
                _ => ("unknown", None),
            };
            json!({
                "target": target.target,
                "outcome": outcome,
                "version_before": target.version_before,
                "version_after": target.version_after,
                "steps": target.steps.iter().map(|step| json!({
                    "version": step.version,
                    "description": step.description,
                    "duration_ms": step.duration.as_secs_f64() * 1000.0,
                    "attempts": step.attempts,
                })).collect::<Vec<_>>(),
                "failure": failure,
            })
        })
        .collect();
    let versions: Vec<serde_json::Value> = report
        .versions()
        .iter()
        .map(|(version, count)| json!({"version": version, "targets": count}))
        .collect();
    let lock_waits: Vec<serde_json::Value> = report
        .lock_waits
        .iter()
        .map(|wait| {
            json!({
                "target": wait.target,
                "version": wait.version,
                "attempt": wait.attempt,
                "lock_type": wait.lock_type,
                "relation": wait.relation,
                "mode": wait.mode,
                "blocked_by": wait.blocked_by,
                "waited_ms": wait.waited.as_millis(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "succeeded": report.succeeded(),
        "stopped": report.stopped.as_ref().map(ToString::to_string),
        "elapsed_ms": report.elapsed.as_millis(),
        "connections": report.connections,
        "migrations": report.steps(),
        "versions": versions,
        "targets": targets,
        "lock_waits": lock_waits,
        "exit_code": exit.code(),
    }))
    .unwrap_or_default()
}

async fn status(args: StatusArgs) -> Result<Exit, CliError> {
    let setup = setup(&args.connection, &args.source, &args.targets).await?;
    let latest = setup.migrations.latest();
    let (runner, targets) = runner(setup, "status", options(&args.run, None)?)?;
    let statuses = runner.status(&targets).await?;
    let behind = statuses
        .iter()
        .filter(|status| !status.pending.is_empty() || !status.problems.is_empty())
        .count();
    let exit = if args.check && behind > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    };
    if args.json {
        println!("{}", statuses_json(&statuses, latest, exit));
    } else {
        print!("{}", statuses_text(&statuses, latest));
        println!(
            "{} of {} targets at the latest version ({}); {behind} need attention",
            statuses.len() - behind,
            statuses.len(),
            latest.map_or_else(|| "none".to_owned(), |v| v.to_string())
        );
    }
    Ok(exit)
}

/// `tenancy tenants` is the status of every target, without `--check`.
pub async fn tenants(args: TenantsArgs) -> Result<Exit, CliError> {
    status(StatusArgs {
        connection: args.connection,
        source: args.source,
        check: false,
        json: args.json,
        run: args.run,
        targets: args.targets,
    })
    .await
}

fn statuses_text(statuses: &[TargetStatus], latest: Option<i64>) -> String {
    let width = statuses
        .iter()
        .map(|status| status.target.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!(
        "{:<width$}  {:>14}  {:>7}  notes\n",
        "target", "version", "pending"
    );
    for status in statuses {
        let version = status
            .version
            .map_or_else(|| "-".to_owned(), |v| v.to_string());
        let marker = if status.version == latest && status.pending.is_empty() {
            ""
        } else {
            " *"
        };
        out.push_str(&format!(
            "{:<width$}  {:>14}  {:>7}  {}{marker}\n",
            status.target,
            version,
            status.pending.len(),
            status.problems.join("; ")
        ));
    }
    out
}

fn statuses_json(statuses: &[TargetStatus], latest: Option<i64>, exit: Exit) -> String {
    let targets: Vec<serde_json::Value> = statuses
        .iter()
        .map(|status| {
            json!({
                "target": status.target,
                "version": status.version,
                "applied": status.applied,
                "pending": status.pending,
                "problems": status.problems,
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "latest": latest,
        "targets": targets,
        "exit_code": exit.code(),
    }))
    .unwrap_or_default()
}

fn init(args: InitArgs) -> Result<Exit, CliError> {
    let manifest = input::manifest(&args.manifest)?;
    let version = match args.version {
        Some(version) => version,
        None => migrate::next_version(&args.source.source)?,
    };
    let files = migrate::initial(&manifest, version, &args.name)?;
    for path in files.write_to(&args.source.source)? {
        println!("wrote {}", path.display());
    }
    println!("review both files, then commit them");
    Ok(Exit::Clean)
}

async fn draft(args: DraftArgs) -> Result<Exit, CliError> {
    let manifest = input::manifest(&args.manifest)?;
    let placement = args
        .schema
        .as_deref()
        .map(|schema| Identifier::new("schema", schema))
        .transpose()?;
    let (_, mut connection) = args.connection.connect().await?;
    let drift = drift::detect(&mut connection, &manifest, placement.as_ref()).await?;
    let findings = audit::verify(&mut connection, &manifest, placement.as_ref()).await?;
    let _ = connection.close().await;
    let version = match args.version {
        Some(version) => version,
        None => migrate::next_version(&args.source.source)?,
    };
    match migrate::draft(
        &manifest,
        placement.as_ref(),
        &drift,
        &findings,
        version,
        &args.name,
    )? {
        Some(files) => {
            for path in files.write_to(&args.source.source)? {
                println!("wrote {}", path.display());
            }
            println!(
                "drafted from {} differences: review both files (backfills, destructive changes), then commit them",
                drift.len()
            );
        }
        None => println!("the database matches the manifest: nothing to draft"),
    }
    Ok(Exit::Clean)
}
