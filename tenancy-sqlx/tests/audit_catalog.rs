//! The audit beyond the registered tables' own shape: what the application
//! role may do with them, and the tables, roles, functions and views of the
//! whole database through which tenant rows reach SQL that no policy
//! confines.

// The structs describe tables; no test builds a value of them.
#![allow(dead_code, missing_docs)]

use tenancy_sqlx::audit::{self, Finding, FindingKind};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, OWNER_ROLE, TestDatabase};
use tenancy_sqlx::{CrossTenant, OwnerPool, global_table, tenant_scoped};
use tenancy_test::TestResult;
use tenancy_test::sql::execute;

#[global_table(table = "plans")]
pub struct Plan {
    #[tenancy(primary_key)]
    pub id: i64,
    pub name: String,
}

#[tenant_scoped(table = "orders")]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    pub status: String,
}

fn tables() -> TableSet {
    TableSet::new().with::<Plan>().with::<Order>()
}

fn policy() -> RlsPolicy {
    RlsPolicy::for_role(APP_ROLE).expect("a valid role")
}

/// A database with the tables applied: the application role's privileges
/// are exactly the generated grants.
async fn applied() -> TestResult<(TestDatabase, OwnerPool)> {
    let db = TestDatabase::create().await?;
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("audit tests")?,
    );
    owner.apply_schema(&tables(), &policy()).await?;
    Ok((db, owner))
}

async fn verify(owner: &OwnerPool) -> TestResult<Vec<Finding>> {
    let manifest = Manifest::new(&tables(), &policy())?;
    let mut connection = owner.pool().acquire().await?;
    Ok(audit::verify(&mut connection, &manifest, None).await?)
}

fn kinds(findings: &[Finding]) -> Vec<(Option<String>, FindingKind)> {
    findings
        .iter()
        .map(|finding| (finding.table.clone(), finding.kind))
        .collect()
}

#[tokio::test]
async fn the_generated_grants_and_policy_pass_the_role_aware_audit() -> TestResult {
    let (_db, owner) = applied().await?;
    let findings = verify(&owner).await?;
    assert_eq!(findings, [], "{findings:#?}");
    Ok(())
}

#[tokio::test]
async fn a_policy_for_another_role_leaves_the_application_with_no_rows() -> TestResult {
    let (db, owner) = applied().await?;
    let other = db.create_role("reporting", &[]).await?;
    let predicate =
        "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::bigint)";
    execute(
        owner.pool(),
        &format!(
            "DROP POLICY tenancy_isolation ON orders;
             CREATE POLICY tenancy_isolation ON orders AS PERMISSIVE FOR ALL TO \"{}\" USING ({predicate}) WITH CHECK ({predicate})",
            other.name()
        ),
    )
    .await?;
    let findings = verify(&owner).await?;
    assert_eq!(
        kinds(&findings),
        [(Some("orders".to_owned()), FindingKind::PolicyRoleMismatch)]
    );
    // The owner policy (same predicate, for the owner) is listed too.
    assert!(
        findings[0].message.contains(&format!(
            "applies to {}, {OWNER_ROLE} but not to the application role `{APP_ROLE}`",
            other.name()
        )),
        "{}",
        findings[0].message
    );
    // A policy for a role the application role is a member of applies.
    execute(
        &db.admin_pool().await?,
        &format!("GRANT \"{}\" TO {APP_ROLE}", other.name()),
    )
    .await?;
    assert_eq!(verify(&owner).await?, []);
    Ok(())
}

#[tokio::test]
async fn missing_and_excess_privileges_of_the_application_role() -> TestResult {
    let (_db, owner) = applied().await?;
    execute(
        owner.pool(),
        &format!(
            "REVOKE DELETE ON orders FROM {APP_ROLE}; GRANT TRUNCATE ON orders TO {APP_ROLE}; GRANT INSERT, UPDATE ON plans TO {APP_ROLE}"
        ),
    )
    .await?;
    let findings = verify(&owner).await?;
    assert_eq!(
        kinds(&findings),
        [
            (Some("plans".to_owned()), FindingKind::GlobalTableWritable),
            (Some("orders".to_owned()), FindingKind::PrivilegeMissing),
            (Some("orders".to_owned()), FindingKind::TruncateAllowed),
        ],
        "{findings:#?}"
    );
    assert_eq!(
        findings[0].fix,
        format!("REVOKE INSERT, UPDATE ON \"plans\" FROM \"{APP_ROLE}\"")
    );
    assert_eq!(
        findings[1].fix,
        format!("GRANT DELETE ON \"orders\" TO \"{APP_ROLE}\"")
    );
    assert!(
        findings[2]
            .message
            .contains("row-level security does not apply to TRUNCATE")
    );
    Ok(())
}

#[tokio::test]
async fn an_application_role_that_does_not_exist_is_a_finding() -> TestResult {
    let (_db, owner) = applied().await?;
    let manifest = Manifest::new(&tables(), &RlsPolicy::for_role("no_such_role")?)?;
    let mut connection = owner.pool().acquire().await?;
    let findings = audit::verify(&mut connection, &manifest, None).await?;
    assert_eq!(
        kinds(&findings),
        [(None, FindingKind::PrivilegeMissing)],
        "{findings:#?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_unregistered_table_with_the_tenant_column_and_no_rls_is_found() -> TestResult {
    let (_db, owner) = applied().await?;
    execute(
        owner.pool(),
        "CREATE TABLE exports (tenant_id bigint NOT NULL, payload text);
         CREATE TABLE audited (tenant_id bigint NOT NULL, payload text);
         ALTER TABLE audited ENABLE ROW LEVEL SECURITY;
         CREATE TABLE unrelated (owner_id bigint);
         CREATE SCHEMA tenant_a;
         CREATE TABLE tenant_a.orders (tenant_id bigint NOT NULL, id bigint, status text);",
    )
    .await?;
    let manifest = Manifest::new(&tables(), &policy())?;
    let mut connection = owner.pool().acquire().await?;
    let placements = [None];
    let findings =
        audit::unregistered_tenant_tables(&mut connection, &manifest, &placements, &[]).await?;
    assert_eq!(
        kinds(&findings),
        [
            (
                Some("exports".to_owned()),
                FindingKind::UnregisteredTenantTable
            ),
            (
                Some("tenant_a.orders".to_owned()),
                FindingKind::UnregisteredTenantTable
            ),
        ]
    );
    // A tenant schema whose copies of the registered tables are checked as
    // such is not reported.
    let placements = [
        None,
        Some(tenancy_sqlx::Identifier::new("schema", "tenant_a")?),
    ];
    let findings =
        audit::unregistered_tenant_tables(&mut connection, &manifest, &placements, &[]).await?;
    assert_eq!(
        kinds(&findings),
        [(
            Some("exports".to_owned()),
            FindingKind::UnregisteredTenantTable
        )]
    );
    Ok(())
}

#[tokio::test]
async fn security_definer_functions_of_a_superuser_are_found() -> TestResult {
    let (db, owner) = applied().await?;
    let admin = db.admin_pool().await?;
    execute(
        &admin,
        "CREATE FUNCTION all_orders() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM orders';
         CREATE FUNCTION invoker_orders() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM orders';",
    )
    .await?;
    execute(
        owner.pool(),
        "CREATE FUNCTION owner_orders() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM orders'",
    )
    .await?;
    let mut connection = owner.pool().acquire().await?;
    let findings = audit::security_definer_functions(&mut connection).await?;
    assert_eq!(
        kinds(&findings),
        [(None, FindingKind::SecurityDefinerBypassesRls)],
        "{findings:#?}"
    );
    assert!(
        findings[0]
            .message
            .contains("function `all_orders()` is SECURITY DEFINER"),
        "{}",
        findings[0].message
    );
    assert!(
        findings[0].message.contains("EXECUTE is granted to PUBLIC"),
        "{}",
        findings[0].message
    );
    Ok(())
}

#[tokio::test]
async fn views_that_read_rls_tables_as_a_bypassing_owner_are_found() -> TestResult {
    let (db, owner) = applied().await?;
    let admin = db.admin_pool().await?;
    execute(
        &admin,
        "CREATE VIEW every_order AS SELECT * FROM orders;
         CREATE VIEW invoker_orders WITH (security_invoker = true) AS SELECT * FROM orders;
         CREATE MATERIALIZED VIEW order_counts AS SELECT tenant_id, count(*) FROM orders GROUP BY 1;
         CREATE VIEW plan_names AS SELECT name FROM plans;",
    )
    .await?;
    // The owner of orders is subject to the policy: RLS is forced.
    execute(
        owner.pool(),
        "CREATE VIEW owner_orders AS SELECT * FROM orders",
    )
    .await?;
    let mut connection = owner.pool().acquire().await?;
    let findings = audit::views_bypassing_rls(&mut connection).await?;
    assert_eq!(
        kinds(&findings),
        [
            (Some("every_order".to_owned()), FindingKind::ViewBypassesRls),
            (
                Some("order_counts".to_owned()),
                FindingKind::ViewBypassesRls
            ),
        ],
        "{findings:#?}"
    );
    assert!(
        findings[1].message.starts_with("the materialized view"),
        "{}",
        findings[1].message
    );
    // Without FORCE, the tables' owner skips the policy, and so do its views.
    execute(
        owner.pool(),
        "ALTER TABLE orders NO FORCE ROW LEVEL SECURITY",
    )
    .await?;
    let findings = audit::views_bypassing_rls(&mut connection).await?;
    assert!(
        findings
            .iter()
            .any(|finding| finding.table.as_deref() == Some("owner_orders")
                && finding.message.contains("not forced")),
        "{findings:#?}"
    );
    Ok(())
}
