//! Generated migrations: the first one from the registered tables, and a
//! draft of the next from a struct change, each run by the runner on the
//! shared schema and on tenant schemas, leaving no drift behind.

// The structs describe tables; no test builds a value of them.
#![allow(dead_code, missing_docs)]

use sqlx::PgPool;
use tenancy_sqlx::audit::{self, FindingKind};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::drift::{self, Change};
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::migrate::{self, MigrateError, Migrations, Runner, Target};
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{CrossTenant, Identifier, tenant_scoped};
use tenancy_test::migrate::quick;
use tenancy_test::sql::execute;
use tenancy_test::{BoxError, TestResult};

mod v1 {
    use super::tenant_scoped;

    #[tenant_scoped(table = "customers")]
    pub struct Customer {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(unique)]
        pub email: String,
    }

    #[tenant_scoped(table = "comments")]
    pub struct Comment {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        pub body: String,
    }

    pub fn tables() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new()
            .with::<Customer>()
            .with::<Comment>()
    }
}

/// The comments gained an indexed priority and a nullable note, and a new
/// table arrived.
mod v2 {
    use super::tenant_scoped;

    #[tenant_scoped(table = "comments")]
    pub struct Comment {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(references = super::v1::Customer)]
        pub customer_id: i64,
        pub body: String,
        #[tenancy(index)]
        pub priority: i64,
        pub note: Option<String>,
    }

    #[tenant_scoped(table = "reactions")]
    pub struct Reaction {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(references = Comment)]
        pub comment_id: i64,
    }

    pub fn tables() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new()
            .with::<super::v1::Customer>()
            .with::<Comment>()
            .with::<Reaction>()
    }
}

fn manifest(tables: &TableSet) -> Result<Manifest, BoxError> {
    Ok(Manifest::new(tables, &RlsPolicy::for_role(APP_ROLE)?)?)
}

fn targets() -> Result<Vec<Target>, BoxError> {
    Ok(["public", "tenant_a", "tenant_b"]
        .into_iter()
        .map(Target::schema)
        .collect::<Result<_, _>>()?)
}

async fn run(
    db: &TestDatabase,
    dir: &std::path::Path,
) -> Result<tenancy_sqlx::migrate::FleetReport, BoxError> {
    let runner = Runner::new(
        db.owner_url().parse()?,
        CrossTenant::with_reason("generated migrations")?,
        Migrations::from_dir(dir).await?,
    )
    .options(quick());
    Ok(runner.up(&targets()?).await?)
}

/// Every finding of the audit of `manifest` in each target schema.
async fn findings_everywhere(owner: &PgPool, manifest: &Manifest) -> Result<Vec<String>, BoxError> {
    let mut connection = owner.acquire().await?;
    let mut all = Vec::new();
    for schema in ["public", "tenant_a", "tenant_b"] {
        let placement = Identifier::new("schema", schema)?;
        for finding in audit::verify(&mut connection, manifest, Some(&placement)).await? {
            all.push(finding.to_string());
        }
    }
    Ok(all)
}

#[tokio::test]
async fn the_first_migration_creates_what_apply_schema_would_in_every_schema() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    execute(&owner, "CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b").await?;
    let dir = tempfile::tempdir()?;
    let manifest = manifest(&v1::tables())?;
    let files = migrate::initial(&manifest, 1, "tenant_tables")?;
    assert_eq!(
        files.file_names(),
        ["1_tenant_tables.up.sql", "1_tenant_tables.down.sql"]
    );
    for statement in manifest.schema_statements() {
        assert!(files.up().contains(&statement), "missing {statement}");
    }
    files.write_to(dir.path())?;
    // What sqlx reads from the files is what the library generated.
    let read = Migrations::from_dir(dir.path()).await?;
    let generated = Migrations::from_list(files.migrations())?;
    assert_eq!(
        read.up(1).map(|m| m.checksum.clone()),
        generated.up(1).map(|m| m.checksum.clone())
    );
    // Never overwritten.
    assert!(matches!(
        files.write_to(dir.path()),
        Err(MigrateError::FileExists { .. })
    ));

    let report = run(&db, dir.path()).await?;
    assert!(report.succeeded(), "{}", report.summary());
    assert_eq!(
        findings_everywhere(&owner, &manifest).await?,
        Vec::<String>::new()
    );
    for schema in ["tenant_a", "tenant_b"] {
        let usage: bool = sqlx::query_scalar("SELECT has_schema_privilege($1, $2, 'USAGE')")
            .bind(APP_ROLE)
            .bind(schema)
            .fetch_one(&owner)
            .await?;
        assert!(usage, "{APP_ROLE} cannot use {schema}");
    }
    Ok(())
}

#[tokio::test]
async fn a_struct_change_drafts_the_next_migration_which_leaves_no_drift() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    execute(&owner, "CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b").await?;
    let dir = tempfile::tempdir()?;
    migrate::initial(&manifest(&v1::tables())?, 1, "tenant_tables")?.write_to(dir.path())?;
    run(&db, dir.path()).await?;
    // A row exists, so a NOT NULL column needs the backfill the draft asks for.
    execute(
        &db.admin_pool().await?,
        "INSERT INTO tenant_a.customers (tenant_id, email) VALUES (1, 'a@example.test');
         INSERT INTO tenant_a.comments (tenant_id, customer_id, body) VALUES (1, 1, 'hello')",
    )
    .await?;

    let next = manifest(&v2::tables())?;
    let placement = Identifier::new("schema", "tenant_b")?;
    let mut connection = owner.acquire().await?;
    let drift = drift::detect(&mut connection, &next, Some(&placement)).await?;
    let changes: Vec<&Change> = drift.iter().map(|drift| drift.change()).collect();
    assert!(
        matches!(
            changes[..],
            [
                Change::ColumnMissing { .. },
                Change::ColumnMissing { .. },
                Change::IndexMissing { .. },
                Change::TableMissing,
            ]
        ),
        "{changes:#?}"
    );
    let findings = audit::verify(&mut connection, &next, Some(&placement)).await?;
    drop(connection);
    let version = migrate::next_version(dir.path())?;
    assert_eq!(version, 2);
    let files = migrate::draft(
        &next,
        Some(&placement),
        &drift,
        &findings,
        version,
        "comment_priority",
    )?
    .ok_or("no draft")?;
    for expected in [
        "ALTER TABLE \"comments\" ADD COLUMN \"priority\" BIGINT;",
        "-- UPDATE \"comments\" SET \"priority\" = <value> WHERE \"priority\" IS NULL;",
        "ALTER TABLE \"comments\" NO FORCE ROW LEVEL SECURITY;",
        "ALTER TABLE \"comments\" ALTER COLUMN \"priority\" SET NOT NULL;",
        "ALTER TABLE \"comments\" ADD COLUMN \"note\" TEXT;",
        "CREATE INDEX IF NOT EXISTS \"comments_tenant_id_priority_idx\" ON \"comments\" (\"tenant_id\", \"priority\");",
        "CREATE TABLE IF NOT EXISTS \"reactions\"",
        "CREATE POLICY tenancy_isolation ON \"reactions\"",
    ] {
        assert!(
            files.up().contains(expected),
            "missing {expected:?} in\n{}",
            files.up()
        );
    }
    assert!(
        files.down().contains("DROP TABLE IF EXISTS \"reactions\";"),
        "{}",
        files.down()
    );
    assert!(
        files.down().find("DROP TABLE IF EXISTS \"reactions\"")
            < files.down().find("DROP COLUMN IF EXISTS \"priority\""),
        "the down script reverts in reverse order:\n{}",
        files.down()
    );

    // Reviewed: the backfill the draft asks for is written, then it runs.
    let reviewed = files.up().replace(
        "-- UPDATE \"comments\" SET \"priority\" = <value> WHERE \"priority\" IS NULL;",
        "UPDATE \"comments\" SET \"priority\" = 0 WHERE \"priority\" IS NULL;",
    );
    let [up, _] = files.write_to(dir.path())?;
    std::fs::write(&up, reviewed)?;
    let report = run(&db, dir.path()).await?;
    assert!(report.succeeded(), "{}", report.summary());
    assert_eq!(
        findings_everywhere(&owner, &next).await?,
        Vec::<String>::new()
    );

    // Nothing left to draft.
    let mut connection = owner.acquire().await?;
    let drift = drift::detect(&mut connection, &next, Some(&placement)).await?;
    assert_eq!(drift, []);
    assert!(migrate::draft(&next, Some(&placement), &drift, &[], 3, "nothing")?.is_none());
    Ok(())
}

#[tokio::test]
async fn row_level_security_the_audit_finds_wanting_is_drafted_again() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let manifest = manifest(&v1::tables())?;
    let dir = tempfile::tempdir()?;
    migrate::initial(&manifest, 1, "tenant_tables")?.write_to(dir.path())?;
    let runner = Runner::new(
        db.owner_url().parse()?,
        CrossTenant::with_reason("generated migrations")?,
        Migrations::from_dir(dir.path()).await?,
    );
    runner.up(&[Target::schema("public")?]).await?;
    execute(&owner, "ALTER TABLE comments NO FORCE ROW LEVEL SECURITY; DROP POLICY tenancy_isolation ON comments; DROP POLICY tenancy_owner ON comments").await?;

    let mut connection = owner.acquire().await?;
    let drift = drift::detect(&mut connection, &manifest, None).await?;
    let findings = audit::verify(&mut connection, &manifest, None).await?;
    let kinds: Vec<FindingKind> = findings.iter().map(|finding| finding.kind).collect();
    assert_eq!(
        kinds,
        [FindingKind::RlsNotForced, FindingKind::PolicyMissing]
    );
    let files = migrate::draft(&manifest, None, &drift, &findings, 2, "protect_comments")?
        .ok_or("no draft")?;
    assert!(
        files
            .up()
            .contains("ALTER TABLE \"comments\" FORCE ROW LEVEL SECURITY;"),
        "{}",
        files.up()
    );
    assert!(
        !files.up().contains("ALTER TABLE \"customers\""),
        "{}",
        files.up()
    );
    Ok(())
}
