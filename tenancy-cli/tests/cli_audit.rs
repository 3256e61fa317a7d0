//! `tenancy audit`, run as the built binary: exit codes 0 / 1 / 2, the
//! JSON report, accepted findings, the text a DBA reads.

// The structs describe tables; no test builds a value of them.
#![allow(dead_code, missing_docs)]

mod support;

use support::{TestResult, execute, json_of, tenancy, write_manifest};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{CrossTenant, OwnerPool, tenant_scoped};

#[tenant_scoped(table = "customers")]
pub struct Customer {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    #[tenancy(unique)]
    pub email: String,
}

#[tenant_scoped(table = "orders")]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    #[tenancy(references = Customer)]
    pub customer_id: i64,
    #[tenancy(index)]
    pub status: String,
}

/// The orders after the struct gained a field.
mod later {
    #[tenancy_sqlx::tenant_scoped(table = "orders")]
    pub struct Order {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(references = super::Customer)]
        pub customer_id: i64,
        #[tenancy(index)]
        pub status: String,
        pub priority: i64,
    }
}

/// `tenancy audit` of `db` with a manifest and accepted findings.
fn audit(
    db: &TestDatabase,
    manifest: &std::path::Path,
    accepted: &std::path::Path,
    extra: &[&str],
) -> Result<support::Output, Box<dyn std::error::Error>> {
    let url = db.owner_url();
    let mut args = vec![
        "audit",
        "--database-url",
        url.as_str(),
        "--manifest",
        manifest.to_str().ok_or("path")?,
        "--accepted",
        accepted.to_str().ok_or("path")?,
    ];
    args.extend_from_slice(extra);
    tenancy(&args)
}

fn tables() -> TableSet {
    TableSet::new().with::<Customer>().with::<Order>()
}

/// A database with the tables applied, and an accepted-findings file for
/// the server's own privileged login roles (the bootstrap superuser), which
/// every cluster has.
async fn database(
    dir: &std::path::Path,
) -> Result<(TestDatabase, std::path::PathBuf), Box<dyn std::error::Error>> {
    let db = TestDatabase::create().await?;
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("cli tests")?,
    );
    owner
        .apply_schema(&tables(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT rolname::text FROM pg_roles WHERE rolcanlogin AND (rolsuper OR rolbypassrls OR rolcreaterole)",
    )
    .fetch_all(&db.admin_pool().await?)
    .await?;
    let mut accepted = String::from("# The server's administrators.\n");
    for role in roles {
        for kind in ["login_role_bypasses_rls", "login_role_can_escalate"] {
            accepted.push_str(&format!(
                "[[accept]]\nkind = \"{kind}\"\nmatching = \"role `{role}`\"\nreason = \"administers the server; applications never connect as it\"\n\n"
            ));
        }
    }
    let path = dir.join("accepted.toml");
    std::fs::write(&path, accepted)?;
    Ok((db, path))
}

#[tokio::test]
async fn a_clean_database_exits_0() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (db, accepted) = database(dir.path()).await?;
    let manifest = write_manifest(dir.path(), "tenancy.json", &tables())?;
    let output = audit(&db, &manifest, &accepted, &[])?;
    assert_eq!(output.code, Some(0), "{output}");
    assert!(output.stdout.contains("result: clean (exit 0)"), "{output}");
    assert!(
        output.stdout.contains("checked: 2 registered tables from"),
        "{output}"
    );
    Ok(())
}

#[tokio::test]
async fn findings_exit_1_and_json_lists_them_with_their_fix() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (db, accepted) = database(dir.path()).await?;
    execute(
        &db.owner_pool().await?,
        "ALTER TABLE orders NO FORCE ROW LEVEL SECURITY; CREATE TABLE exports (tenant_id bigint, body text)",
    )
    .await?;
    let manifest = write_manifest(
        dir.path(),
        "tenancy.json",
        &TableSet::new().with::<Customer>().with::<later::Order>(),
    )?;
    let output = audit(&db, &manifest, &accepted, &["--json"])?;
    assert_eq!(output.code, Some(1), "{output}");
    let report = json_of(&output)?;
    let to_fix: Vec<(String, String)> = report["findings"]
        .as_array()
        .ok_or("no findings")?
        .iter()
        .filter(|finding| finding["accepted"] == false)
        .map(|finding| {
            (
                finding["table"].as_str().unwrap_or_default().to_owned(),
                finding["kind"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        to_fix,
        [
            ("orders".to_owned(), "rls_not_forced".to_owned()),
            ("orders".to_owned(), "column_missing".to_owned()),
            ("exports".to_owned(), "unregistered_tenant_table".to_owned()),
        ],
        "{report:#}"
    );
    assert_eq!(report["summary"]["to_fix"], 3);
    assert_eq!(report["exit_code"], 1);
    let forced = &report["findings"]
        .as_array()
        .ok_or("no findings")?
        .iter()
        .find(|finding| finding["kind"] == "rls_not_forced")
        .ok_or("no rls_not_forced")?;
    assert_eq!(
        forced["fix"],
        "ALTER TABLE \"orders\" FORCE ROW LEVEL SECURITY"
    );

    // The same as text, grouped for a DBA.
    let output = audit(&db, &manifest, &accepted, &[])?;
    assert_eq!(output.code, Some(1), "{output}");
    for expected in [
        "3 findings to fix",
        "\nTABLES\n  exports\n    - unregistered_tenant_table\n",
        "  orders\n    - rls_not_forced\n",
        "      fix: ALTER TABLE \"orders\" FORCE ROW LEVEL SECURITY\n",
        "ACCEPTED (",
        "result: 3 findings to fix (exit 1)",
    ] {
        assert!(
            output.stdout.contains(expected),
            "missing {expected:?} in\n{output}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn accepted_findings_pass_and_stale_acceptances_are_listed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (db, accepted) = database(dir.path()).await?;
    execute(
        &db.owner_pool().await?,
        "CREATE TABLE exports (tenant_id bigint, body text)",
    )
    .await?;
    let mut file = std::fs::read_to_string(&accepted)?;
    file.push_str(
        "[[accept]]\nkind = \"unregistered_tenant_table\"\ntable = \"exports\"\nreason = \"written by the export job, read by no one else\"\n\n\
         [[accept]]\nkind = \"rls_disabled\"\ntable = \"legacy\"\nreason = \"dropped last year\"\n",
    );
    std::fs::write(&accepted, file)?;
    let manifest = write_manifest(dir.path(), "tenancy.json", &tables())?;
    let output = audit(&db, &manifest, &accepted, &["--json"])?;
    assert_eq!(output.code, Some(0), "{output}");
    let report = json_of(&output)?;
    let exports = report["findings"]
        .as_array()
        .ok_or("no findings")?
        .iter()
        .find(|finding| finding["table"] == "exports")
        .ok_or("exports not reported")?;
    assert_eq!(exports["accepted"], true);
    assert_eq!(
        exports["reason"],
        "written by the export job, read by no one else"
    );
    let stale: Vec<&serde_json::Value> = report["unused_acceptances"]
        .as_array()
        .ok_or("no unused acceptances")?
        .iter()
        .filter(|acceptance| acceptance["kind"] == "rls_disabled")
        .collect();
    assert_eq!(stale.len(), 1, "{report:#}");
    assert_eq!(stale[0]["table"], "legacy");
    Ok(())
}

#[tokio::test]
async fn errors_exit_2_and_say_what_is_wrong() -> TestResult {
    let dir = tempfile::tempdir()?;
    let unreachable = tenancy(&[
        "audit",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
    ])?;
    assert_eq!(unreachable.code, Some(2), "{unreachable}");
    assert!(
        unreachable
            .stderr
            .contains("cannot connect to the database"),
        "{unreachable}"
    );

    let db = TestDatabase::create().await?;
    let manifest = dir.path().join("broken.json");
    std::fs::write(&manifest, "{ \"format\": 1 }")?;
    let broken = tenancy(&[
        "audit",
        "--database-url",
        &db.owner_url(),
        "--manifest",
        manifest.to_str().ok_or("path")?,
    ])?;
    assert_eq!(broken.code, Some(2), "{broken}");
    assert!(
        broken.stderr.contains("broken.json: invalid manifest"),
        "{broken}"
    );

    let accepted = dir.path().join("accepted.toml");
    std::fs::write(
        &accepted,
        "[[accept]]\nkind = \"rls_disabled\"\nreason = \"\"\n",
    )?;
    let no_reason = tenancy(&[
        "audit",
        "--database-url",
        &db.owner_url(),
        "--accepted",
        accepted.to_str().ok_or("path")?,
    ])?;
    assert_eq!(no_reason.code, Some(2), "{no_reason}");
    assert!(no_reason.stderr.contains("empty reason"), "{no_reason}");

    let usage = tenancy(&["audit", "--database-url", &db.owner_url(), "--no-such-flag"])?;
    assert_eq!(usage.code, Some(2), "{usage}");
    Ok(())
}

#[tokio::test]
async fn tenant_schemas_are_audited_each_in_its_own_schema() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (db, accepted) = database(dir.path()).await?;
    let owner = db.owner_pool().await?;
    let manifest =
        tenancy_sqlx::manifest::Manifest::new(&tables(), &RlsPolicy::for_role(APP_ROLE)?)?;
    let statements = manifest.schema_statements().join(";\n");
    for schema in ["tenant_a", "tenant_b"] {
        execute(
            &owner,
            &format!("CREATE SCHEMA {schema}; GRANT USAGE ON SCHEMA {schema} TO {APP_ROLE}; SET search_path TO {schema}; {statements}; RESET search_path"),
        )
        .await?;
    }
    execute(
        &owner,
        "ALTER TABLE tenant_b.orders DISABLE ROW LEVEL SECURITY",
    )
    .await?;
    let path = write_manifest(dir.path(), "tenancy.json", &tables())?;
    let output = audit(
        &db,
        &path,
        &accepted,
        &["--schemas-like", "tenant\\_%", "--json"],
    )?;
    assert_eq!(output.code, Some(1), "{output}");
    let report = json_of(&output)?;
    let found: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .ok_or("no findings")?
        .iter()
        .filter(|finding| finding["accepted"] == false)
        .map(|finding| {
            (
                finding["table"].as_str().unwrap_or_default(),
                finding["kind"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(found, [("tenant_b.orders", "rls_disabled")], "{report:#}");
    assert_eq!(
        report["checked"]["schemas"],
        serde_json::json!(["tenant_a", "tenant_b"])
    );
    Ok(())
}
