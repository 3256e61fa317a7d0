//! The migration runner on a few targets: ledger, idempotence, checksums,
//! down scripts, failures, `-- no-transaction`, lock waits, databases.

use std::time::Duration;

use sqlx::migrate::MigrationType;
use tenancy_sqlx::migrate::{
    Event, FailureKind, Migrations, Operation, Outcome, RunnerOptions, Target,
};
use tenancy_sqlx::testing::TestDatabase;
use tenancy_test::migrate::*;
use tenancy_test::sql::execute;
use tenancy_test::{BoxError, TestResult};

fn failure(
    report: &tenancy_sqlx::migrate::TargetReport,
) -> Result<&tenancy_sqlx::migrate::Failure, String> {
    match &report.outcome {
        Outcome::Failed(failure) => Ok(failure),
        other => Err(format!("{} did not fail: {other:?}", report.target)),
    }
}

#[tokio::test]
async fn migrations_are_applied_in_order_once_and_then_skipped() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 3).await?;
    let runner = runner(&db, three())?.options(quick());

    let report = runner.up(&targets).await?;
    assert!(report.succeeded(), "{}", report.summary());
    assert_eq!(report.operation, Operation::Up { to: None });
    for target in &report.targets {
        assert_eq!(target.outcome, Outcome::Done);
        assert_eq!(
            (target.version_before, target.version_after),
            (None, Some(3))
        );
        let versions: Vec<i64> = target.steps.iter().map(|step| step.version).collect();
        assert_eq!(versions, [1, 2, 3]);
        assert_eq!(
            marks(&owner, &target.target).await?,
            [(1, 1), (2, 1), (3, 1)].into()
        );
    }
    let ledger = ledger(&owner).await?;
    assert_eq!(ledger.len(), 9);
    assert!(ledger.values().all(|status| status == "applied"));
    let row: (i64, Option<i64>, i32, Option<String>) = sqlx::query_as(
        "SELECT length(checksum)::bigint, duration_ms, attempts, error FROM tenancy.migration_log
         WHERE target = 'tenant_0002' AND version = 2",
    )
    .fetch_one(&owner)
    .await?;
    assert_eq!((row.0, row.2, row.3), (48, 1, None));
    assert!(row.1.is_some_and(|ms| ms >= 0));

    // Everything applied is skipped.
    let again = runner.up(&targets).await?;
    assert!(
        again
            .targets
            .iter()
            .all(|target| target.outcome == Outcome::UpToDate)
    );
    assert_eq!(again.steps(), 0);
    for target in &targets {
        assert_eq!(
            marks(&owner, target.label()).await?,
            [(1, 1), (2, 1), (3, 1)].into()
        );
    }
    Ok(())
}

#[tokio::test]
async fn up_to_a_version_stops_there_and_status_says_what_is_pending() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 2).await?;
    let runner = runner(&db, three())?.options(quick());
    let report = runner.up_to(&targets[..1], 2).await?;
    assert_eq!(report.targets[0].version_after, Some(2));
    let status = runner.status(&targets).await?;
    assert_eq!(
        (status[0].version, &status[0].pending[..]),
        (Some(2), &[3][..])
    );
    assert_eq!(
        (status[1].version, &status[1].pending[..]),
        (None, &[1, 2, 3][..])
    );
    assert!(status.iter().all(|status| status.problems.is_empty()));
    Ok(())
}

#[tokio::test]
async fn an_edited_migration_is_refused_naming_the_version_and_the_target() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 1).await?;
    runner(&db, three())?.options(quick()).up(&targets).await?;

    let mut edited = three();
    for migration in edited
        .iter_mut()
        .filter(|m| m.version == 2 && m.migration_type == MigrationType::ReversibleUp)
    {
        *migration = tenancy_test::migrate::migration(
            2,
            "add priority",
            MigrationType::ReversibleUp,
            "ALTER TABLE orders ADD COLUMN priority integer; INSERT INTO applied (version) VALUES (2);",
        );
    }
    edited.extend(reversible(
        4,
        "more",
        "INSERT INTO applied (version) VALUES (4)",
        "SELECT 1",
    ));
    let report = runner(&db, edited)?.options(quick()).up(&targets).await?;
    let failed = failure(&report.targets[0])?;
    assert_eq!(
        (failed.kind, failed.version),
        (FailureKind::ChecksumMismatch, Some(2))
    );
    assert!(
        failed
            .message
            .contains("version 2 (add priority) was applied with checksum"),
        "{}",
        failed.message
    );
    assert!(
        report.summary().contains("failed: tenant_0001: version 2:"),
        "{}",
        report.summary()
    );
    // Nothing else ran: version 4 is not applied.
    assert!(!marks(&owner, "tenant_0001").await?.contains_key(&4));
    let status = runner(&db, three())?.status(&targets).await?;
    assert!(status[0].problems.is_empty(), "{:?}", status[0].problems);
    Ok(())
}

#[tokio::test]
async fn a_version_applied_but_missing_from_the_migrations_is_refused() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 1).await?;
    runner(&db, three())?.options(quick()).up(&targets).await?;
    let fewer: Vec<_> = three().into_iter().filter(|m| m.version < 3).collect();
    let report = runner(&db, fewer)?.options(quick()).up(&targets).await?;
    let failed = failure(&report.targets[0])?;
    assert_eq!(
        (failed.kind, failed.version),
        (FailureKind::UnknownVersion, Some(3))
    );
    Ok(())
}

#[tokio::test]
async fn down_scripts_revert_to_a_version_newest_first() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 2).await?;
    let runner = runner(&db, three())?.options(quick());
    runner.up(&targets).await?;

    let report = runner.down_to(&targets, 1).await?;
    assert!(report.succeeded(), "{}", report.summary());
    for target in &report.targets {
        let versions: Vec<i64> = target.steps.iter().map(|step| step.version).collect();
        assert_eq!(versions, [3, 2]);
        assert_eq!(target.version_after, Some(1));
        assert_eq!(marks(&owner, &target.target).await?, [(1, 1)].into());
    }
    let ledger = ledger(&owner).await?;
    assert_eq!(ledger[&("tenant_0001".to_owned(), 2)], "reverted");
    assert_eq!(ledger[&("tenant_0001".to_owned(), 1)], "applied");
    let has_priority: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'tenant_0001' AND column_name = 'priority')",
    )
    .fetch_one(&owner)
    .await?;
    assert!(!has_priority);

    // Up again re-applies what was reverted, once.
    let report = runner.up(&targets).await?;
    assert_eq!(report.steps(), 4);
    assert_eq!(
        marks(&owner, "tenant_0002").await?,
        [(1, 1), (2, 1), (3, 1)].into()
    );
    // Down to 0 empties the schema.
    runner.down_to(&targets, 0).await?;
    assert_eq!(marks(&owner, "tenant_0001").await?, Default::default());
    Ok(())
}

#[tokio::test]
async fn a_version_without_a_down_script_cannot_be_reverted() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 1).await?;
    let mut migrations = three();
    migrations.push(migration(
        4,
        "irreversible",
        MigrationType::Simple,
        "INSERT INTO applied (version) VALUES (4)",
    ));
    let runner = runner(&db, migrations)?.options(quick());
    runner.up(&targets).await?;
    let report = runner.down_to(&targets, 2).await?;
    let failed = failure(&report.targets[0])?;
    assert_eq!(
        (failed.kind, failed.version),
        (FailureKind::NoDownScript, Some(4))
    );
    assert_eq!(report.targets[0].version_after, Some(4));
    Ok(())
}

/// One tenant schema migrated with [`three`] and a fourth migration.
async fn with_fourth(
    up: &str,
) -> Result<
    (
        TestDatabase,
        sqlx::PgPool,
        tenancy_sqlx::migrate::FleetReport,
    ),
    BoxError,
> {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 1).await?;
    let mut migrations = three();
    migrations.extend(reversible(4, "fourth", up, "SELECT 1"));
    let report = runner(&db, migrations)?
        .options(quick())
        .up(&targets)
        .await?;
    Ok((db, owner, report))
}

#[tokio::test]
async fn a_failing_migration_is_rolled_back_and_recorded_with_its_error() -> TestResult {
    let (_db, owner, report) = with_fourth(
        "CREATE TABLE half_done (id int); INSERT INTO applied (version) VALUES (4); SELECT 1 / 0;",
    )
    .await?;
    let failed = failure(&report.targets[0])?;
    assert_eq!(
        (failed.kind, failed.version),
        (FailureKind::Migration, Some(4))
    );
    assert!(
        failed.message.contains("SQLSTATE 22012: division by zero"),
        "{}",
        failed.message
    );
    assert_eq!(report.targets[0].version_after, Some(3));
    // The migration's own statements were rolled back with it.
    let half_done: bool =
        sqlx::query_scalar("SELECT to_regclass('tenant_0001.half_done') IS NOT NULL")
            .fetch_one(&owner)
            .await?;
    assert!(!half_done);
    assert!(!marks(&owner, "tenant_0001").await?.contains_key(&4));
    let (status, error): (String, Option<String>) = sqlx::query_as(
        "SELECT status, error FROM tenancy.migration_log WHERE target = 'tenant_0001' AND version = 4",
    )
    .fetch_one(&owner)
    .await?;
    assert_eq!(status, "failed");
    assert!(error.is_some_and(|error| error.contains("division by zero")));
    Ok(())
}

#[tokio::test]
async fn a_migration_that_commits_by_itself_is_not_recorded_as_applied() -> TestResult {
    let (_db, owner, report) = with_fourth("COMMIT; CREATE TABLE escaped (id int);").await?;
    let failed = failure(&report.targets[0])?;
    assert_eq!(
        (failed.kind, failed.version),
        (FailureKind::TransactionEnded, Some(4))
    );
    assert!(
        failed.message.contains("mark the file `-- no-transaction`"),
        "{}",
        failed.message
    );
    let ledger = ledger(&owner).await?;
    assert_eq!(ledger[&("tenant_0001".to_owned(), 4)], "failed");
    Ok(())
}

#[tokio::test]
async fn a_missing_schema_fails_its_target_unless_schemas_may_be_created() -> TestResult {
    let db = TestDatabase::create().await?;
    let targets = [Target::schema("tenant_nowhere")?];
    let report = runner(&db, three())?.options(quick()).up(&targets).await?;
    let failed = failure(&report.targets[0])?;
    assert_eq!(failed.kind, FailureKind::Target);
    assert!(
        failed
            .message
            .contains("schema `tenant_nowhere` does not exist"),
        "{}",
        failed.message
    );
    let report = runner(&db, three())?
        .options(quick().create_schemas(true))
        .up(&targets)
        .await?;
    assert!(report.succeeded(), "{}", report.summary());
    // Schema names are validated identifiers.
    assert!(Target::schema("tenant_1; DROP SCHEMA public").is_err());
    Ok(())
}

fn concurrent_index_migrations() -> Vec<sqlx::migrate::Migration> {
    let mut migrations = three();
    migrations.extend(reversible(
        4,
        "indexes",
        "-- no-transaction\n\
         CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (tenant_id, status);\n\
         CREATE INDEX CONCURRENTLY orders_priority_idx ON orders (tenant_id, priority);\n\
         INSERT INTO applied (version) VALUES (4);",
        "-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;\nDROP INDEX CONCURRENTLY IF EXISTS orders_priority_idx;",
    ));
    migrations
}

async fn index_validity(pool: &sqlx::PgPool, index: &str) -> Result<Option<bool>, BoxError> {
    Ok(
        sqlx::query_scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)")
            .bind(index)
            .fetch_optional(pool)
            .await?,
    )
}

#[tokio::test]
async fn a_no_transaction_migration_runs_statement_by_statement() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 2).await?;
    let runner = runner(&db, concurrent_index_migrations())?.options(quick());
    let report = runner.up(&targets).await?;
    assert!(report.succeeded(), "{}", report.summary());
    for schema in ["tenant_0001", "tenant_0002"] {
        assert_eq!(
            index_validity(&owner, &format!("{schema}.orders_status_idx")).await?,
            Some(true)
        );
        assert_eq!(
            index_validity(&owner, &format!("{schema}.orders_priority_idx")).await?,
            Some(true)
        );
    }
    // The session's settings were reset after it.
    let report = runner.down_to(&targets, 3).await?;
    assert!(report.succeeded(), "{}", report.summary());
    assert_eq!(
        index_validity(&owner, "tenant_0001.orders_status_idx").await?,
        None
    );
    Ok(())
}

/// What a run killed in the middle of a concurrent build leaves: the
/// ledger says `running`; one index was finished, the other left invalid.
#[tokio::test]
async fn an_interrupted_no_transaction_migration_is_completed_by_the_next_run() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 1).await?;
    let migrations = concurrent_index_migrations();
    runner(&db, migrations.clone())?
        .options(quick())
        .up_to(&targets, 3)
        .await?;

    // Reproduce the interruption: the finished index, and an invalid one
    // (a unique build over duplicates fails and leaves its index invalid).
    execute(
        &owner,
        "CREATE INDEX orders_status_idx ON tenant_0001.orders (tenant_id, status);
         INSERT INTO tenant_0001.orders VALUES (1, 3, 'open', 1);",
    )
    .await?;
    let failed = execute(
        &owner,
        "CREATE UNIQUE INDEX CONCURRENTLY orders_priority_idx ON tenant_0001.orders (tenant_id, priority)",
    )
    .await;
    assert!(failed.is_err());
    assert_eq!(
        index_validity(&owner, "tenant_0001.orders_priority_idx").await?,
        Some(false)
    );
    let up = Migrations::from_list(migrations.clone())?;
    let version_4 = up.up(4).ok_or("no version 4")?;
    sqlx::query(
        "INSERT INTO tenancy.migration_log (target, version, description, checksum, status, started_at)
         VALUES ('tenant_0001', 4, 'indexes', $1, 'running', now())",
    )
    .bind(&*version_4.checksum)
    .execute(&owner)
    .await?;
    let status = runner(&db, migrations.clone())?.status(&targets).await?;
    assert!(
        status[0]
            .problems
            .iter()
            .any(|problem| problem.contains("was interrupted")),
        "{:?}",
        status[0].problems
    );

    let report = runner(&db, migrations)?
        .options(quick())
        .up(&targets)
        .await?;
    assert!(report.succeeded(), "{}", report.summary());
    assert_eq!(
        index_validity(&owner, "tenant_0001.orders_priority_idx").await?,
        Some(true)
    );
    assert_eq!(
        index_validity(&owner, "tenant_0001.orders_status_idx").await?,
        Some(true)
    );
    assert_eq!(marks(&owner, "tenant_0001").await?[&4], 1);
    assert_eq!(
        ledger(&owner).await?[&("tenant_0001".to_owned(), 4)],
        "applied"
    );
    Ok(())
}

/// Another session holds a lock the migration needs: the migration gives
/// up after `lock_timeout`, the wait is seen in `pg_locks` and reported
/// with the session that held the lock, and the retry succeeds once it is
/// released.
#[tokio::test]
async fn lock_waits_are_observed_reported_and_retried() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 1).await?;
    let runner_of = |options: RunnerOptions| -> Result<_, BoxError> {
        Ok(runner(&db, three())?.options(options))
    };
    runner_of(quick())?.up_to(&targets, 1).await?;

    let mut blocker = holding(
        &db,
        "long-report",
        "SELECT count(*) FROM tenant_0001.orders",
    )
    .await?;

    let (events, record) = recorder();
    let retry = tenancy_sqlx::migrate::RetryPolicy {
        attempts: 100,
        initial: Duration::from_millis(100),
        max: Duration::from_millis(200),
    };
    let options = quick()
        .lock_timeout(Duration::from_millis(150))
        .retry(retry)
        .observer(record);
    let run = tokio::spawn({
        let runner = runner_of(options)?;
        let targets = targets.clone();
        async move { runner.up(&targets).await }
    });
    // Release the lock once the migration has given up on it at least once
    // and the monitor has seen it wait, whatever the machine's pace.
    let waited = |events: &[Event]| {
        events
            .iter()
            .any(|event| matches!(event, Event::Retrying { .. }))
            && events
                .iter()
                .any(|event| matches!(event, Event::LockWait(_)))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !waited(&events.lock().map_err(|_| "poisoned")?) {
        if std::time::Instant::now() > deadline {
            return Err("the migration never waited for the lock".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    execute_on(&mut blocker, "COMMIT").await?;
    let report = run.await??;
    assert!(report.succeeded(), "{}", report.summary());
    let step = &report.targets[0].steps[0];
    assert_eq!(step.version, 2);
    assert!(step.attempts > 1, "{step:?}");

    let wait = report
        .lock_waits
        .iter()
        .find(|wait| wait.relation.as_deref() == Some("tenant_0001.orders"))
        .ok_or_else(|| {
            format!(
                "no lock wait on tenant_0001.orders: {:?}",
                report.lock_waits
            )
        })?;
    assert_eq!(
        (wait.target.as_str(), wait.version, wait.mode.as_str()),
        ("tenant_0001", 2, "AccessExclusiveLock")
    );
    assert!(
        wait.blocked_by
            .iter()
            .any(|holder| holder.contains("long-report")),
        "{wait:?}"
    );
    let events = events.lock().map_err(|_| "poisoned")?;
    let retried = events.iter().find_map(|event| match event {
        Event::Retrying { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    let retried = retried.ok_or("no retry event")?;
    assert!(retried.contains("SQLSTATE 55P03"), "{retried}");
    assert!(
        retried.contains("held by") && retried.contains("long-report"),
        "{retried}"
    );
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Event::LockWait(_)))
    );
    Ok(())
}

#[tokio::test]
async fn a_lock_held_past_every_retry_fails_the_target_with_who_held_it() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 1).await?;
    runner(&db, three())?
        .options(quick())
        .up_to(&targets, 1)
        .await?;
    let mut blocker = holding(
        &db,
        "stuck-session",
        "LOCK TABLE tenant_0001.orders IN ACCESS SHARE MODE",
    )
    .await?;
    let report = runner(&db, three())?.options(quick()).up(&targets).await?;
    let failed = failure(&report.targets[0])?;
    assert_eq!(
        (failed.kind, failed.version),
        (FailureKind::LockTimeout, Some(2))
    );
    assert!(
        failed.message.contains("after 3 attempts"),
        "{}",
        failed.message
    );
    assert!(
        failed.message.contains("stuck-session"),
        "{}",
        failed.message
    );
    execute_on(&mut blocker, "ROLLBACK").await?;
    Ok(())
}

/// A session named `application_name` inside a transaction that ran `sql`,
/// holding the locks it took.
async fn holding(
    db: &TestDatabase,
    application_name: &str,
    sql: &str,
) -> Result<sqlx::PgConnection, BoxError> {
    let options = db
        .owner_url()
        .parse::<sqlx::postgres::PgConnectOptions>()?
        .application_name(application_name);
    let mut session = <sqlx::PgConnection as sqlx::Connection>::connect_with(&options).await?;
    execute_on(&mut session, &format!("BEGIN; {sql}")).await?;
    Ok(session)
}

async fn execute_on(connection: &mut sqlx::PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *connection)
        .await
        .map(drop)
}

/// A database per tenant: each has its own ledger, written in the same
/// transaction as its migrations.
#[tokio::test]
async fn databases_are_targets_with_their_own_ledgers() -> TestResult {
    let home = TestDatabase::create().await?;
    let mut tenants = Vec::new();
    for _ in 0..3 {
        tenants.push(TestDatabase::create().await?);
    }
    let targets: Vec<Target> = tenants
        .iter()
        .map(|db| Ok(Target::database(db.name(), db.owner_url().parse()?, None)?))
        .collect::<Result<_, BoxError>>()?;
    let runner = runner(&home, three())?.options(quick().concurrency(2));
    let report = runner.up(&targets).await?;
    assert!(report.succeeded(), "{}", report.summary());
    for db in &tenants {
        let pool = db.owner_pool().await?;
        assert_eq!(
            marks(&pool, "public").await?,
            [(1, 1), (2, 1), (3, 1)].into()
        );
        let ledger = ledger(&pool).await?;
        assert_eq!(ledger.len(), 3);
        assert!(ledger.keys().all(|(target, _)| target == db.name()));
    }
    // The runner's own database got no ledger: it has no schema target.
    let home_ledger: bool =
        sqlx::query_scalar("SELECT to_regclass('tenancy.migration_log') IS NOT NULL")
            .fetch_one(&home.owner_pool().await?)
            .await?;
    assert!(!home_ledger);
    let status = runner.status(&targets).await?;
    assert!(
        status
            .iter()
            .all(|status| status.version == Some(3) && status.pending.is_empty())
    );
    assert!(
        runner
            .up(&targets)
            .await?
            .targets
            .iter()
            .all(|t| t.outcome == Outcome::UpToDate)
    );
    Ok(())
}

#[tokio::test]
async fn the_same_target_twice_and_unworkable_options_are_refused() -> TestResult {
    let db = TestDatabase::create().await?;
    let twice = [Target::schema("a")?, Target::schema("a")?];
    let error = runner(&db, three())?
        .up(&twice)
        .await
        .err()
        .ok_or("accepted")?;
    assert!(
        error.to_string().contains("target `a` is listed twice"),
        "{error}"
    );
    let error = runner(&db, three())?
        .options(RunnerOptions::new().concurrency(0))
        .up(&[Target::schema("a")?])
        .await
        .err()
        .ok_or("accepted")?;
    assert!(
        error.to_string().contains("concurrency must be at least 1"),
        "{error}"
    );
    Ok(())
}
