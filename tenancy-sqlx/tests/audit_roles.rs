//! The role audit lists the login roles that skip row-level security or can
//! make themselves a role that does, with a fix PostgreSQL accepts, and
//! leaves out the roles a deployment accepts, so that it can gate CI.

use sqlx::AssertSqlSafe;
use tenancy_sqlx::Error;
use tenancy_sqlx::audit::{self, Finding, FindingKind, RoleAudit};
use tenancy_sqlx::testing::{APP_ROLE, RoleAttribute, TestDatabase};
use tenancy_test::TestResult;

/// The audit, as the application role (any role may run it).
async fn audit_as_app(db: &TestDatabase, audit: &RoleAudit) -> TestResult<Vec<Finding>> {
    let mut connection = db.app_pool().await?.acquire().await?;
    Ok(audit.run(&mut connection).await?)
}

/// The finding about `role`.
fn finding_of<'f>(findings: &'f [Finding], role: &str) -> TestResult<&'f Finding> {
    findings
        .iter()
        .find(|finding| finding.message.starts_with(&format!("role `{role}` ")))
        .ok_or_else(|| format!("{role} not reported: {findings:#?}").into())
}

async fn as_admin(db: &TestDatabase, sql: String) -> TestResult {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&db.admin_pool().await?)
        .await?;
    Ok(())
}

#[tokio::test]
async fn the_role_audit_lists_login_roles_that_skip_policies() -> TestResult {
    let db = TestDatabase::create().await?;
    let bypass = db
        .create_role("exporter", &[RoleAttribute::BypassRls])
        .await?;
    let mut conn = db.app_pool().await?.acquire().await?;
    let findings = audit::roles_bypassing_rls(&mut conn).await?;
    let exporter = finding_of(&findings, bypass.name())?;
    assert_eq!(exporter.kind, FindingKind::LoginRoleBypassesRls);
    assert!(exporter.message.contains("BYPASSRLS"));
    assert!(
        !findings
            .iter()
            .any(|finding| finding.message.contains(&format!("`{APP_ROLE}`"))),
        "{findings:#?}"
    );
    assert!(
        findings
            .iter()
            .any(|finding| finding.message.contains("SUPERUSER"))
    );
    Ok(())
}

/// A login role that is a member of a `BYPASSRLS` role (which itself cannot
/// log in) is one `SET ROLE` away from skipping every policy.
#[tokio::test]
async fn the_role_audit_lists_login_roles_that_can_set_role_to_a_bypassing_one() -> TestResult {
    let db = TestDatabase::create().await?;
    let exporter = db.create_role("exporter", &[]).await?;
    let group = format!("{}_group", exporter.name());
    as_admin(
        &db,
        format!(
            "CREATE ROLE \"{group}\" NOLOGIN BYPASSRLS; GRANT \"{group}\" TO \"{}\"",
            exporter.name()
        ),
    )
    .await?;
    let findings = audit_as_app(&db, &RoleAudit::new()).await;
    as_admin(&db, format!("DROP ROLE \"{group}\"")).await?;
    let findings = findings?;

    let finding = finding_of(&findings, exporter.name())?;
    assert_eq!(finding.kind, FindingKind::LoginRoleBypassesRls);
    assert_eq!(
        finding.message,
        format!(
            "role `{}` can log in and is a member of `{group}`, which is BYPASSRLS: \
             after `SET ROLE` it skips every row-level security policy",
            exporter.name()
        )
    );
    assert_eq!(
        finding.fix,
        format!("REVOKE \"{group}\" FROM \"{}\"", exporter.name())
    );
    assert!(
        finding_of(&findings, &group).is_err(),
        "a role that cannot log in is reported: {findings:#?}"
    );
    Ok(())
}

/// `CREATEROLE`, `ADMIN OPTION` on a privileged role, and the roles that
/// read the server's files: not bypassing yet, one statement away from it.
#[tokio::test]
async fn the_role_audit_lists_roles_that_can_make_themselves_privileged() -> TestResult {
    let db = TestDatabase::create().await?;
    let creator = db
        .create_role("creator", &[RoleAttribute::CreateRole])
        .await?;
    let bypass_group = db
        .create_role("bypass_group", &[RoleAttribute::BypassRls])
        .await?;
    let granter = db.create_role("granter", &[]).await?;
    let reader = db.create_role("reader", &[]).await?;
    as_admin(
        &db,
        format!(
            "GRANT \"{}\" TO \"{}\" WITH ADMIN OPTION; GRANT pg_read_server_files TO \"{}\"",
            bypass_group.name(),
            granter.name(),
            reader.name()
        ),
    )
    .await?;
    let findings = audit_as_app(&db, &RoleAudit::new()).await?;

    let finding = finding_of(&findings, creator.name())?;
    assert_eq!(finding.kind, FindingKind::LoginRoleCanEscalate);
    assert!(finding.message.contains("has CREATEROLE"), "{finding:?}");
    assert_eq!(
        finding.fix,
        format!(
            "if applications connect as `{0}`, give them a role without it, or ALTER ROLE \"{0}\" NOCREATEROLE",
            creator.name()
        )
    );

    let finding = finding_of(&findings, granter.name())?;
    assert_eq!(finding.kind, FindingKind::LoginRoleBypassesRls);
    assert!(
        finding.message.contains(&format!(
            "is a member of `{}` (with ADMIN OPTION: it can grant it to any role, itself included), which is BYPASSRLS",
            bypass_group.name()
        )),
        "{finding:?}"
    );

    let finding = finding_of(&findings, reader.name())?;
    assert_eq!(finding.kind, FindingKind::LoginRoleCanEscalate);
    assert!(
        finding.message.contains("`pg_read_server_files`")
            && finding
                .message
                .contains("can read every tenant's rows from disk"),
        "{finding:?}"
    );
    assert_eq!(
        finding.fix,
        format!("REVOKE \"pg_read_server_files\" FROM \"{}\"", reader.name())
    );
    Ok(())
}

/// The bootstrap superuser cannot lose `SUPERUSER` (PostgreSQL 16 refuses;
/// on 15 it would leave the cluster without one): its finding says to keep
/// applications off it and to accept it, and once accepted it is left out,
/// so that the audit's findings can be required to be empty.
#[tokio::test]
async fn accepted_roles_are_left_out_and_the_bootstrap_superuser_gets_a_fix_that_works()
-> TestResult {
    let db = TestDatabase::create().await?;
    let bypass = db
        .create_role("exporter", &[RoleAttribute::BypassRls])
        .await?;
    let bootstrap: String = sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE oid = 10")
        .fetch_one(&db.admin_pool().await?)
        .await?;

    let findings = audit_as_app(&db, &RoleAudit::new()).await?;
    let finding = finding_of(&findings, &bootstrap)?;
    assert_eq!(finding.kind, FindingKind::LoginRoleBypassesRls);
    assert!(!finding.fix.contains("NOSUPERUSER"), "{finding:?}");
    assert!(
        finding.fix.contains("is the bootstrap superuser")
            && finding
                .fix
                .contains(&format!("RoleAudit::accept(\"{bootstrap}\", ..)")),
        "{finding:?}"
    );

    let audit = RoleAudit::new()
        .accept(
            &bootstrap,
            "the bootstrap superuser; only the DBA logs in, locally",
        )?
        .accept(bypass.name(), "the nightly export job")?;
    let findings = audit_as_app(&db, &audit).await?;
    for accepted in [bootstrap.as_str(), bypass.name()] {
        assert!(
            finding_of(&findings, accepted).is_err(),
            "{accepted} reported although accepted: {findings:#?}"
        );
    }
    Ok(())
}

#[test]
fn accepting_a_role_takes_a_role_name_and_a_reason() {
    for reason in ["", "  "] {
        let refused = RoleAudit::new().accept("postgres", reason);
        assert!(
            matches!(refused, Err(Error::MissingReason { .. })),
            "{reason:?}: {refused:?}"
        );
    }
    let refused = RoleAudit::new().accept("x\"; DROP ROLE postgres; --", "a reason");
    assert!(
        matches!(refused, Err(Error::InvalidIdentifier { kind: "role", .. })),
        "{refused:?}"
    );
}
