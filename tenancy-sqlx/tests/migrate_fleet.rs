//! The migration runner on a fleet of tenant schemas: stopping after
//! failures, the canary, bounded connections, two runners at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use tenancy_sqlx::migrate::{Outcome, StopReason, Target};
use tenancy_sqlx::testing::TestDatabase;
use tenancy_test::TestResult;
use tenancy_test::migrate::*;
use tenancy_test::sql::execute;

const FLEET: usize = 200;

/// Makes version 2 fail on `schema`: its column exists already.
async fn sabotage(owner: &sqlx::PgPool, schema: &str) -> Result<(), sqlx::Error> {
    execute(
        owner,
        &format!(
            "CREATE TABLE {schema}.orders (tenant_id bigint NOT NULL, id bigint NOT NULL, status text NOT NULL, priority text, PRIMARY KEY (tenant_id, id))"
        ),
    )
    .await
}

/// Version 1 without its `CREATE TABLE orders` when the table exists.
fn tolerant_three() -> Vec<sqlx::migrate::Migration> {
    let mut migrations = three();
    migrations[0] = migration(
        1,
        "orders",
        sqlx::migrate::MigrationType::ReversibleUp,
        "CREATE TABLE IF NOT EXISTS orders (tenant_id bigint NOT NULL, id bigint NOT NULL, status text NOT NULL, PRIMARY KEY (tenant_id, id));
         CREATE TABLE applied (version bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
         INSERT INTO orders VALUES (1, 1, 'open'), (1, 2, 'paid');
         INSERT INTO applied (version) VALUES (1);",
    );
    migrations
}

/// Every target's version in the ledger matches the report, and no
/// migration left more than one mark anywhere.
async fn ledger_agrees_with(
    owner: &sqlx::PgPool,
    report: &tenancy_sqlx::migrate::FleetReport,
) -> TestResult {
    let ledger = ledger(owner).await?;
    for target in &report.targets {
        let applied = ledger
            .iter()
            .filter(|((label, _), status)| label == &target.target && *status == "applied")
            .map(|((_, version), _)| *version)
            .max();
        assert_eq!(
            applied, target.version_after,
            "{}: {:?}",
            target.target, target.outcome
        );
        for (version, count) in marks(owner, &target.target).await? {
            assert_eq!(
                count, 1,
                "{} version {version} applied {count} times",
                target.target
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_fleet_stops_after_the_configured_failures_and_the_ledger_says_where_each_target_is()
-> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, FLEET).await?;
    sabotage(&owner, "tenant_0030").await?;

    let first =
        runner(&db, tolerant_three())?.options(quick().concurrency(4).canary(5).max_failures(1));
    let report = first.up(&targets).await?;
    assert!(!report.succeeded());
    assert_eq!(
        report.stopped,
        Some(StopReason::TooManyFailures {
            failures: 1,
            limit: 1
        })
    );
    let failed: Vec<&str> = report
        .failed()
        .map(|target| target.target.as_str())
        .collect();
    assert_eq!(failed, ["tenant_0030"]);
    let tenant_30 = &report.targets[29];
    assert_eq!(tenant_30.version_after, Some(1), "{tenant_30:?}");
    let not_run = report
        .targets
        .iter()
        .filter(|target| target.outcome == Outcome::NotRun)
        .count();
    assert!(
        not_run > FLEET / 2,
        "only {not_run} targets were not run:\n{}",
        report.summary()
    );
    for target in &report.targets[..5] {
        assert_eq!(target.outcome, Outcome::Done, "canary {}", target.target);
    }
    ledger_agrees_with(&owner, &report).await?;
    let summary = report.summary();
    assert!(
        summary.contains("failed: tenant_0030: version 2: SQLSTATE 42701"),
        "{summary}"
    );
    assert!(
        summary.contains("stopped: 1 targets failed (the limit is 1)"),
        "{summary}"
    );

    // With a higher limit the run goes on past one failure, and stops at
    // the third.
    for schema in ["tenant_0100", "tenant_0150"] {
        sabotage(&owner, schema).await?;
    }
    let report = runner(&db, tolerant_three())?
        .options(quick().concurrency(4).max_failures(3))
        .up(&targets)
        .await?;
    let failed: Vec<&str> = report
        .failed()
        .map(|target| target.target.as_str())
        .collect();
    assert_eq!(
        failed,
        ["tenant_0030", "tenant_0100", "tenant_0150"],
        "{}",
        report.summary()
    );
    assert_eq!(
        report.stopped,
        Some(StopReason::TooManyFailures {
            failures: 3,
            limit: 3
        })
    );
    ledger_agrees_with(&owner, &report).await?;

    // Repaired, a third run brings every target to the latest version,
    // each migration applied once.
    for schema in ["tenant_0030", "tenant_0100", "tenant_0150"] {
        execute(
            &owner,
            &format!("ALTER TABLE {schema}.orders DROP COLUMN priority"),
        )
        .await?;
    }
    let report = runner(&db, tolerant_three())?
        .options(quick().concurrency(8))
        .up(&targets)
        .await?;
    assert!(report.succeeded(), "{}", report.summary());
    assert_eq!(report.versions(), [(Some(3), FLEET)].into());
    ledger_agrees_with(&owner, &report).await?;
    for target in &targets {
        assert_eq!(
            marks(&owner, target.label()).await?,
            [(1, 1), (2, 1), (3, 1)].into()
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_failing_canary_stops_the_run_before_any_other_target() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 40).await?;
    sabotage(&owner, "tenant_0003").await?;
    let fleet =
        runner(&db, tolerant_three())?.options(quick().concurrency(2).canary(5).max_failures(10));
    let report = fleet.up(&targets).await?;
    assert_eq!(
        report.stopped,
        Some(StopReason::CanaryFailed {
            failed: vec!["tenant_0003".to_owned()]
        })
    );
    for target in &report.targets[5..] {
        assert_eq!(target.outcome, Outcome::NotRun, "{}", target.target);
        assert_eq!(target.version_after, None);
        assert!(marks(&owner, &target.target).await?.is_empty());
    }
    ledger_agrees_with(&owner, &report).await?;

    // `canary` alone migrates the canary and nothing else.
    execute(
        &owner,
        "ALTER TABLE tenant_0003.orders DROP COLUMN priority",
    )
    .await?;
    let report = fleet.canary(&targets).await?;
    assert!(report.stopped.is_none());
    assert!(
        report.targets[..5]
            .iter()
            .all(|target| target.version_after == Some(3))
    );
    assert!(
        report.targets[5..]
            .iter()
            .all(|target| target.outcome == Outcome::NotRun)
    );
    Ok(())
}

/// The runner holds at most `concurrency + 1` connections, however many
/// targets: the server's own list of sessions says so.
#[tokio::test]
async fn connections_stay_bounded_on_the_server() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, FLEET).await?;
    let admin = db.admin_pool().await?;
    let most = Arc::new(AtomicI64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn({
        let (admin, most, running) = (admin.clone(), Arc::clone(&most), Arc::clone(&running));
        async move {
            while running.load(Ordering::SeqCst) {
                let count: Result<i64, _> = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tenancy-migrate-bounded'",
                )
                .fetch_one(&admin)
                .await;
                if let Ok(count) = count {
                    most.fetch_max(count, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    let options = quick()
        .concurrency(6)
        .application_name("tenancy-migrate-bounded");
    let report = runner(&db, three())?
        .options(options.clone())
        .up(&targets)
        .await?;
    running.store(false, Ordering::SeqCst);
    sampler.await?;
    assert!(report.succeeded(), "{}", report.summary());
    assert_eq!(report.connections, 7);
    let most = most.load(Ordering::SeqCst);
    assert!(most <= 7, "{most} connections for concurrency 6");
    assert!(
        most >= 3,
        "only {most} connections: the targets were not migrated concurrently"
    );
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tenancy-migrate-bounded'",
    )
    .fetch_one(&admin)
    .await?;
    assert_eq!(left, 0, "the runner left sessions open");
    Ok(())
}

/// Two runners started at the same moment on the same fleet: each target
/// is migrated by whichever gets its lock first; the other finds it done.
#[tokio::test]
async fn two_runners_at_once_never_apply_a_migration_twice() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let targets = tenant_schemas(&owner, 60).await?;
    // Slow enough that neither runner can finish the fleet before the
    // other has started.
    let mut slow = three();
    slow[0] = migration(
        1,
        "orders",
        sqlx::migrate::MigrationType::ReversibleUp,
        &format!("{}; SELECT pg_sleep(0.02);", slow[0].sql.as_str()),
    );
    let first = runner(&db, slow.clone())?.options(quick().concurrency(4).canary(0));
    let second = runner(&db, slow)?.options(quick().concurrency(4).canary(0));
    let reversed: Vec<Target> = targets.iter().rev().cloned().collect();
    let (one, two) = tokio::join!(first.up(&targets), second.up(&reversed));
    let (one, two) = (one?, two?);
    assert!(one.succeeded(), "{}", one.summary());
    assert!(two.succeeded(), "{}", two.summary());
    assert_eq!(
        one.steps() + two.steps(),
        60 * 3,
        "{}\n{}",
        one.summary(),
        two.summary()
    );
    assert!(
        one.steps() > 0 && two.steps() > 0,
        "one runner did everything: {} / {}",
        one.steps(),
        two.steps()
    );
    for target in &targets {
        assert_eq!(
            marks(&owner, target.label()).await?,
            [(1, 1), (2, 1), (3, 1)].into()
        );
    }
    assert_eq!(ledger(&owner).await?.len(), 60 * 3);
    Ok(())
}
