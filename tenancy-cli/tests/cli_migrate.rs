//! `tenancy migrate` and `tenancy tenants`, run as the built binary: exit
//! codes, JSON reports, generated migrations, `--help`, and a run killed
//! with SIGKILL at random moments and started again.

// The structs describe tables; no test builds a value of them.
#![allow(dead_code, missing_docs)]

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{
    BoxError, TestResult, command, execute, json_of, tenancy, tenant_schemas, write_manifest,
    write_migrations,
};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::tenant_scoped;
use tenancy_sqlx::testing::TestDatabase;

/// Four migrations: a table, a column, a slow backfill, and a concurrent
/// index build outside any transaction. The first three leave a mark in
/// `applied`, which has no key: applied twice, a migration leaves two.
fn four(dir: &Path) -> Result<(), BoxError> {
    write_migrations(
        dir,
        &[
            (
                "1_orders.up.sql",
                "CREATE TABLE orders (tenant_id bigint NOT NULL, id bigint NOT NULL, status text NOT NULL, PRIMARY KEY (tenant_id, id));\n\
                 CREATE TABLE applied (version bigint NOT NULL);\n\
                 INSERT INTO orders SELECT 1, n, CASE WHEN n % 3 = 0 THEN 'paid' ELSE 'open' END FROM generate_series(1, 50) AS n;\n\
                 INSERT INTO applied VALUES (1);\n",
            ),
            (
                "1_orders.down.sql",
                "DROP TABLE orders; DROP TABLE applied;\n",
            ),
            (
                "2_priority.up.sql",
                "ALTER TABLE orders ADD COLUMN priority bigint;\nINSERT INTO applied VALUES (2);\n",
            ),
            (
                "2_priority.down.sql",
                "ALTER TABLE orders DROP COLUMN priority;\nDELETE FROM applied WHERE version = 2;\n",
            ),
            (
                "3_backfill.up.sql",
                "UPDATE orders SET priority = CASE status WHEN 'open' THEN 1 ELSE 0 END;\n\
                 SELECT pg_sleep(0.04);\n\
                 INSERT INTO applied VALUES (3);\n",
            ),
            (
                "3_backfill.down.sql",
                "UPDATE orders SET priority = NULL;\nDELETE FROM applied WHERE version = 3;\n",
            ),
            (
                "4_priority_index.up.sql",
                "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_priority_idx ON orders (tenant_id, priority);\n",
            ),
            (
                "4_priority_index.down.sql",
                "-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS orders_priority_idx;\n",
            ),
        ],
    )
}

fn str_of(path: &Path) -> Result<&str, BoxError> {
    path.to_str()
        .ok_or_else(|| "a path that is not UTF-8".into())
}

#[tokio::test]
async fn up_status_tenants_and_down_report_in_json() -> TestResult {
    let dir = tempfile::tempdir()?;
    four(dir.path())?;
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    tenant_schemas(&owner, 12).await?;
    let url = db.owner_url();
    let source = str_of(dir.path())?;
    let targets = ["--schemas-like", "tenant\\_%"];
    let status = |check: bool| -> Result<support::Output, BoxError> {
        let mut args = vec![
            "migrate",
            "status",
            "--database-url",
            url.as_str(),
            "--source",
            source,
        ];
        args.extend_from_slice(&targets);
        if check {
            args.push("--check");
        }
        tenancy(&args)
    };
    let before = status(true)?;
    assert_eq!(before.code, Some(1), "{before}");
    assert!(
        before
            .stdout
            .contains("0 of 12 targets at the latest version (4); 12 need attention"),
        "{before}"
    );

    let mut up = vec!["migrate", "up", "--concurrency", "3", "--json"];
    up.extend_from_slice(&["--database-url", url.as_str(), "--source", source]);
    up.extend_from_slice(&targets);
    let output = tenancy(&up)?;
    assert_eq!(output.code, Some(0), "{output}");
    let report = json_of(&output)?;
    assert_eq!(report["succeeded"], true);
    assert_eq!(report["migrations"], 48);
    assert_eq!(report["connections"], 4);
    assert_eq!(
        report["versions"],
        serde_json::json!([{"version": 4, "targets": 12}])
    );
    assert_eq!(
        report["targets"][0]["steps"].as_array().map(Vec::len),
        Some(4)
    );
    assert!(
        output.stderr.contains("tenant_0001: at version 4"),
        "plain progress lines off a terminal:\n{output}"
    );

    assert_eq!(status(true)?.code, Some(0));
    let mut tenants = vec![
        "tenants",
        "--json",
        "--database-url",
        url.as_str(),
        "--source",
        source,
    ];
    tenants.extend_from_slice(&targets);
    let listed = json_of(&tenancy(&tenants)?)?;
    assert_eq!(listed["latest"], 4);
    let versions: Vec<i64> = listed["targets"]
        .as_array()
        .ok_or("no targets")?
        .iter()
        .filter_map(|target| target["version"].as_i64())
        .collect();
    assert_eq!(versions, [4; 12]);

    let mut down = vec![
        "migrate",
        "down",
        "--to",
        "2",
        "--json",
        "--database-url",
        url.as_str(),
        "--source",
        source,
    ];
    down.extend_from_slice(&targets);
    let output = tenancy(&down)?;
    assert_eq!(output.code, Some(0), "{output}");
    assert_eq!(
        json_of(&output)?["versions"],
        serde_json::json!([{"version": 2, "targets": 12}])
    );
    let index: Option<bool> = sqlx::query_scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('tenant_0001.orders_priority_idx')")
        .fetch_optional(&owner)
        .await?;
    assert_eq!(index, None);
    Ok(())
}

#[tokio::test]
async fn a_failed_target_exits_1_and_is_named_in_the_report() -> TestResult {
    let dir = tempfile::tempdir()?;
    four(dir.path())?;
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    tenant_schemas(&owner, 3).await?;
    execute(&owner, "CREATE TABLE tenant_0002.orders (id int)").await?;
    let output = tenancy(&[
        "migrate",
        "up",
        "--database-url",
        &db.owner_url(),
        "--source",
        str_of(dir.path())?,
        "--schema",
        "tenant_0001",
        "--schema",
        "tenant_0002",
        "--schema",
        "tenant_0003",
        "--canary",
        "0",
        "--json",
    ])?;
    assert_eq!(output.code, Some(1), "{output}");
    let report = json_of(&output)?;
    let failed = &report["targets"][1];
    assert_eq!(
        (failed["target"].as_str(), failed["outcome"].as_str()),
        (Some("tenant_0002"), Some("failed"))
    );
    assert_eq!(failed["failure"]["version"], 1);
    assert!(
        failed["failure"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("SQLSTATE 42P07"),
        "{report:#}"
    );
    assert!(
        output
            .stderr
            .contains("tenant_0002: FAILED, left at no version"),
        "{output}"
    );
    assert!(
        report["stopped"]
            .as_str()
            .unwrap_or_default()
            .contains("the limit is 1"),
        "{report:#}"
    );

    // Bad input is an error (exit 2), not a failed target.
    let bad = tenancy(&[
        "migrate",
        "up",
        "--database-url",
        &db.owner_url(),
        "--source",
        str_of(dir.path())?,
        "--schema",
        "x; DROP SCHEMA public",
    ])?;
    assert_eq!(bad.code, Some(2), "{bad}");
    assert!(bad.stderr.contains("invalid schema name"), "{bad}");
    let missing = tenancy(&[
        "migrate",
        "up",
        "--database-url",
        &db.owner_url(),
        "--source",
        "/no/such/dir",
    ])?;
    assert_eq!(missing.code, Some(2), "{missing}");
    assert!(
        missing.stderr.contains("cannot read the migrations"),
        "{missing}"
    );
    let twice = tenancy(&[
        "migrate",
        "status",
        "--database-url",
        &db.owner_url(),
        "--source",
        str_of(dir.path())?,
        "--database",
        &db.owner_url(),
        "--database",
        &db.owner_url(),
    ])?;
    assert_eq!(twice.code, Some(2), "{twice}");
    assert!(
        twice.stderr.contains("two database targets are both named"),
        "{twice}"
    );
    let duration = tenancy(&[
        "migrate",
        "up",
        "--database-url",
        &db.owner_url(),
        "--lock-timeout",
        "5h",
    ])?;
    assert_eq!(duration.code, Some(2), "{duration}");
    assert!(duration.stderr.contains("unknown unit"), "{duration}");
    Ok(())
}

#[tenant_scoped(table = "notes")]
pub struct Note {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    pub body: String,
}

mod later {
    #[tenancy_sqlx::tenant_scoped(table = "notes")]
    pub struct Note {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        pub body: String,
        #[tenancy(index)]
        pub pinned: Option<bool>,
    }
}

#[tokio::test]
async fn init_writes_the_first_migration_and_draft_the_next() -> TestResult {
    let dir = tempfile::tempdir()?;
    let migrations = dir.path().join("migrations");
    let db = TestDatabase::create().await?;
    let url = db.owner_url();
    let first = write_manifest(dir.path(), "v1.json", &TableSet::new().with::<Note>())?;
    let output = tenancy(&[
        "migrate",
        "init",
        "--manifest",
        str_of(&first)?,
        "--source",
        str_of(&migrations)?,
        "--version",
        "1",
    ])?;
    assert_eq!(output.code, Some(0), "{output}");
    assert!(output.stdout.contains("1_tenant_tables.up.sql"), "{output}");
    let output = tenancy(&[
        "migrate",
        "up",
        "--database-url",
        &url,
        "--source",
        str_of(&migrations)?,
    ])?;
    assert_eq!(output.code, Some(0), "{output}");

    let second = write_manifest(
        dir.path(),
        "v2.json",
        &TableSet::new().with::<later::Note>(),
    )?;
    let output = tenancy(&[
        "migrate",
        "draft",
        "--database-url",
        &url,
        "--manifest",
        str_of(&second)?,
        "--source",
        str_of(&migrations)?,
        "--name",
        "pin_notes",
        "--schema",
        "public",
    ])?;
    assert_eq!(output.code, Some(0), "{output}");
    let draft = std::fs::read_to_string(migrations.join("2_pin_notes.up.sql"))?;
    assert!(
        draft.contains("ALTER TABLE \"notes\" ADD COLUMN \"pinned\" BOOLEAN;"),
        "{draft}"
    );
    assert!(
        draft.contains("CREATE INDEX IF NOT EXISTS \"notes_tenant_id_pinned_idx\""),
        "{draft}"
    );
    let output = tenancy(&[
        "migrate",
        "up",
        "--database-url",
        &url,
        "--source",
        str_of(&migrations)?,
    ])?;
    assert_eq!(output.code, Some(0), "{output}");
    let output = tenancy(&[
        "migrate",
        "draft",
        "--database-url",
        &url,
        "--manifest",
        str_of(&second)?,
        "--source",
        str_of(&migrations)?,
        "--name",
        "nothing",
    ])?;
    assert!(output.stdout.contains("nothing to draft"), "{output}");
    // Existing files are never overwritten.
    let output = tenancy(&[
        "migrate",
        "init",
        "--manifest",
        str_of(&first)?,
        "--source",
        str_of(&migrations)?,
        "--version",
        "1",
    ])?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(output.stderr.contains("exists already"), "{output}");
    Ok(())
}

#[test]
fn every_command_explains_itself() -> TestResult {
    for (args, expected) in [
        (
            &["--help"][..],
            "Exit codes: 0 all is well, 1 findings or failed targets, 2 an error",
        ),
        (&["audit", "--help"], "--accepted <FILE>"),
        (&["audit", "--help"], "SECURITY DEFINER"),
        (&["migrate", "--help"], "tenancy.migration_log"),
        (&["migrate", "up", "--help"], "--lock-timeout <DURATION>"),
        (&["migrate", "up", "--help"], "--schemas-like <PATTERN>"),
        (&["migrate", "canary", "--help"], "--canary <K>"),
        (&["migrate", "down", "--help"], "--to <VERSION>"),
        (&["migrate", "status", "--help"], "--check"),
        (&["migrate", "init", "--help"], "--manifest <FILE>"),
        (&["migrate", "draft", "--help"], "ADD COLUMN"),
        (&["tenants", "--help"], "Reads the ledgers only"),
    ] {
        let output = tenancy(args)?;
        assert_eq!(output.code, Some(0), "{args:?}: {output}");
        assert!(
            output.stdout.contains(expected),
            "{args:?} lacks {expected:?}:\n{output}"
        );
    }
    Ok(())
}

/// A small generator of kill moments, seeded from the clock so that runs
/// differ, printed so that a failing run can be reproduced.
struct Moments(u64);

impl Moments {
    fn next_millis(&mut self, low: u64, high: u64) -> u64 {
        // xorshift64
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        low + self.0 % (high - low)
    }
}

/// The real binary, killed with SIGKILL at random moments of a run over a
/// fleet and started again each time (the backfill sleeps 40 ms per
/// target, so an uninterrupted run takes longer than the latest kill
/// moment even on an idle machine): at the end every target is at the
/// latest version, each transactional migration left exactly one mark,
/// and every concurrently built index is valid.
#[tokio::test]
async fn a_run_killed_at_random_moments_resumes_and_applies_each_migration_once() -> TestResult {
    const TARGETS: usize = 120;
    let dir = tempfile::tempdir()?;
    four(dir.path())?;
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    tenant_schemas(&owner, TARGETS).await?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64
        | 1;
    println!("kill moments seeded with {seed}");
    let mut moments = Moments(seed);
    let args = [
        "migrate",
        "up",
        "--database-url",
        &db.owner_url(),
        "--source",
        str_of(dir.path())?,
        "--schemas-like",
        "tenant\\_%",
        "--concurrency",
        "4",
    ];

    let mut interrupted = 0;
    for _ in 0..4 {
        let mut child = command()
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let delay = Duration::from_millis(moments.next_millis(150, 1500));
        let started = Instant::now();
        let mut finished = false;
        while started.elapsed() < delay {
            if child.try_wait()?.is_some() {
                finished = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if finished {
            break;
        }
        child.kill()?; // SIGKILL
        if child.wait()?.success() {
            // It exited between the last poll and the kill: a killed run
            // cannot succeed, so this one was not interrupted.
            break;
        }
        interrupted += 1;
        let applied: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM tenancy.migration_log WHERE status = 'applied'",
        )
        .fetch_one(&owner)
        .await
        .unwrap_or(0);
        println!("killed after {delay:?}: {applied} migrations applied so far");
    }
    assert!(
        interrupted > 0,
        "the run always finished before it could be killed"
    );

    let output = tenancy(&args)?;
    assert_eq!(output.code, Some(0), "{output}");
    let ledger: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT target, version, status FROM tenancy.migration_log ORDER BY 1, 2")
            .fetch_all(&owner)
            .await?;
    assert_eq!(ledger.len(), TARGETS * 4);
    assert!(
        ledger.iter().all(|(_, _, status)| status == "applied"),
        "{ledger:?}"
    );
    for n in 1..=TARGETS {
        let schema = format!("tenant_{n:04}");
        let marks: HashMap<i64, i64> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT version, count(*) FROM {schema}.applied GROUP BY version"
        )))
        .fetch_all(&owner)
        .await?
        .into_iter()
        .collect();
        assert_eq!(marks, [(1, 1), (2, 1), (3, 1)].into(), "{schema}");
        let valid: Option<bool> = sqlx::query_scalar(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)",
        )
        .bind(format!("{schema}.orders_priority_idx"))
        .fetch_optional(&owner)
        .await?;
        assert_eq!(valid, Some(true), "{schema}");
        let unfilled: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {schema}.orders WHERE priority IS NULL"
        )))
        .fetch_one(&owner)
        .await?;
        assert_eq!(unfilled, 0, "{schema}");
    }
    Ok(())
}

/// `--directory` migrates the schema or database of every tenant the
/// directory gives one of its own, reaching a database as the
/// `--database-url` role although the directory holds the application's
/// URL, and leaves deleted tenants and the shared tables (unless named)
/// alone.
#[tokio::test]
async fn the_directory_names_the_tenants_schemas_and_databases() -> TestResult {
    use tenancy_sqlx::directory::{
        DatabaseUrl, Placement, TableDirectory, TenantEntry, TenantStatus,
    };
    use tenancy_sqlx::testing::APP_ROLE;
    use tenancy_sqlx::{Identifier, KeyValue};

    let dir = tempfile::tempdir()?;
    four(dir.path())?;
    let db = TestDatabase::create().await?;
    let own = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    for statement in TableDirectory::create_statements(&Identifier::new("role", APP_ROLE)?) {
        execute(&owner, &statement).await?;
    }
    execute(&owner, "CREATE SCHEMA tenant_2; CREATE SCHEMA tenant_4").await?;
    let directory = TableDirectory::new(owner.clone());
    let schema = |name: &str| -> Result<Placement, BoxError> {
        Ok(Placement::Schema(Identifier::new("schema", name)?))
    };
    directory
        .put(KeyValue::I64(1), &TenantEntry::active(Placement::Shared))
        .await?;
    directory
        .put(KeyValue::I64(2), &TenantEntry::active(schema("tenant_2")?))
        .await?;
    directory
        .put(
            KeyValue::I64(3),
            &TenantEntry::active(Placement::Database(DatabaseUrl::new(own.app_url())?)),
        )
        .await?;
    directory
        .put(
            KeyValue::I64(4),
            &TenantEntry {
                placement: schema("tenant_4")?,
                status: TenantStatus::Deleted,
            },
        )
        .await?;

    let url = db.owner_url();
    let output = tenancy(&[
        "migrate",
        "up",
        "--json",
        "--database-url",
        url.as_str(),
        "--source",
        str_of(dir.path())?,
        "--directory",
    ])?;
    assert_eq!(output.code, Some(0), "{output}");
    let report = json_of(&output)?;
    let targets: Vec<&str> = report["targets"]
        .as_array()
        .ok_or("no targets")?
        .iter()
        .filter_map(|target| target["target"].as_str())
        .collect();
    assert_eq!(targets, ["tenant_2", own.name()], "{output}");
    // Migrated as the owner: the tenant's database has the tables and its
    // own ledger.
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM applied")
        .fetch_one(&own.owner_pool().await?)
        .await?;
    assert_eq!(applied, 3);
    let untouched: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('tenant_4.orders')::text")
            .fetch_one(&owner)
            .await?;
    assert_eq!(untouched, None, "the deleted tenant's schema is left alone");
    let shared: Option<String> = sqlx::query_scalar("SELECT to_regclass('public.orders')::text")
        .fetch_one(&owner)
        .await?;
    assert_eq!(shared, None, "the shared schema is not named");

    // An entry naming a server nobody trusted: refused before anything is
    // migrated, as the owner's password would go there.
    let at = own
        .app_url()
        .split_once('@')
        .map(|(user, _)| user.to_owned());
    let elsewhere = format!(
        "{}@203.0.113.7:5432/tenant_5",
        at.ok_or("no user in the URL")?
    );
    directory
        .put(
            KeyValue::I64(5),
            &TenantEntry::active(Placement::Database(DatabaseUrl::new(elsewhere)?)),
        )
        .await?;
    execute(&owner, "CREATE SCHEMA tenant_6").await?;
    directory
        .put(KeyValue::I64(6), &TenantEntry::active(schema("tenant_6")?))
        .await?;
    let refused = tenancy(&[
        "migrate",
        "up",
        "--database-url",
        url.as_str(),
        "--source",
        str_of(dir.path())?,
        "--directory",
    ])?;
    assert_eq!(refused.code, Some(2), "{refused}");
    assert!(
        refused.stderr.contains("203.0.113.7:5432") && refused.stderr.contains("--trust-server"),
        "{refused}"
    );
    let migrated: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('tenant_6.orders')::text")
            .fetch_one(&owner)
            .await?;
    assert_eq!(
        migrated, None,
        "nothing is migrated when one target is refused"
    );
    Ok(())
}
