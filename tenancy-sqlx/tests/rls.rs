//! Generated RLS DDL: idempotent, effective for the application role, and
//! checked by the catalog audit.

mod support;

use support::tables::{Customer, Order, table_set};
use support::{TestResult, database_with_tables};
use tenancy_sqlx::audit::{self, FindingKind};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, RoleAttribute, TestDatabase};
use tenancy_sqlx::{
    CrossTenant, OwnerPool, Postgres, SettingName, TenantId, TenantPool, TenantPoolOptions,
    tenant_scoped,
};

fn owner_pool(pool: sqlx::PgPool) -> OwnerPool {
    OwnerPool::from_pool(
        pool,
        CrossTenant::with_reason("RLS tests").expect("a stated reason"),
    )
}

#[tokio::test]
async fn applying_the_schema_twice_changes_nothing_and_leaves_no_findings() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = owner_pool(db.owner_pool().await?);
    let policy = RlsPolicy::for_role(APP_ROLE)?;
    owner.apply_schema(&table_set(), &policy).await?;
    owner.apply_schema(&table_set(), &policy).await?;

    let findings = owner.verify(&table_set(), &SettingName::default()).await?;
    assert!(findings.is_empty(), "{findings:#?}");

    // The application role reads the catalog just as well.
    let mut app = db.app_pool().await?.acquire().await?;
    let findings = audit::verify_tables(&mut app, &table_set(), &SettingName::default()).await?;
    assert!(findings.is_empty(), "{findings:#?}");
    Ok(())
}

#[tokio::test]
async fn the_policy_confines_raw_sql_to_the_transactions_tenant() -> TestResult {
    let db = database_with_tables().await?;
    let pool = TenantPool::<Postgres>::connect(
        &db.app_url(),
        TenantPoolOptions::new().tables(&table_set()),
    )
    .await?;

    for (tenant, email) in [(1_i64, "a@one.test"), (2, "b@two.test")] {
        let tenant = TenantId::from_verified(tenant);
        let mut tx = pool.begin(&tenant).await?;
        tx.execute(Customer::insert(&tenant).set(Customer::EMAIL, email.to_owned()))
            .await?;
        tx.commit().await?;
    }

    let tenant = TenantId::from_verified(1_i64);
    let mut tx = pool.begin(&tenant).await?;
    // No tenant predicate in this SQL: only the policy filters it.
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM customers ORDER BY email")
        .fetch_all(tx.raw_connection())
        .await?;
    assert_eq!(emails, ["a@one.test"]);
    // WITH CHECK: a row for another tenant cannot be written.
    let foreign = sqlx::query("INSERT INTO customers (tenant_id, email) VALUES (2, 'x@two.test')")
        .execute(tx.raw_connection())
        .await;
    assert!(
        foreign.is_err(),
        "inserted a row for tenant 2 from tenant 1"
    );
    tx.rollback().await?;

    // Without a tenant, nothing is visible and nothing fails.
    let outside: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
        .fetch_one(&db.app_pool().await?)
        .await?;
    assert_eq!(outside, 0);
    Ok(())
}

/// A table set up by hand, the way a hurried migration might.
#[tenant_scoped(table = "ledgers")]
pub struct Ledger {
    /// The tenant.
    pub tenant_id: i64,
    /// The key, which in the database does not lead with the tenant.
    #[tenancy(primary_key)]
    pub id: i64,
    /// Indexed, in the database, ahead of the tenant.
    pub created: i64,
}

/// A table whose foreign key, in the database, ignores the tenant.
#[tenant_scoped(table = "ledger_lines")]
pub struct LedgerLine {
    /// The tenant.
    pub tenant_id: i64,
    /// The key.
    #[tenancy(primary_key)]
    pub id: i64,
    /// References `ledgers (id)` only.
    pub ledger_id: i64,
}

#[tokio::test]
async fn the_audit_reports_a_table_set_up_by_hand() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    sqlx::raw_sql(
        "CREATE TABLE ledgers (tenant_id bigint NOT NULL, id bigint PRIMARY KEY, created bigint NOT NULL);
         CREATE INDEX ledgers_created_idx ON ledgers (created, tenant_id);
         CREATE POLICY naive ON ledgers USING (tenant_id = current_setting('app.tenant_id')::bigint);
         CREATE TABLE ledger_lines (tenant_id bigint NOT NULL, id bigint NOT NULL,
             ledger_id bigint NOT NULL REFERENCES ledgers (id), PRIMARY KEY (tenant_id, id));
         ALTER TABLE ledger_lines ENABLE ROW LEVEL SECURITY;
         ALTER TABLE ledger_lines FORCE ROW LEVEL SECURITY;",
    )
    .execute(&owner)
    .await?;
    let tables = TableSet::new().with::<Ledger>().with::<LedgerLine>();
    let findings = owner_pool(owner.clone())
        .verify(&tables, &SettingName::default())
        .await?;

    let mut kinds: Vec<(String, FindingKind)> = findings
        .iter()
        .map(|finding| (finding.table.clone().unwrap_or_default(), finding.kind))
        .collect();
    kinds.sort_by_key(|(table, kind)| (table.clone(), format!("{kind:?}")));
    assert_eq!(
        kinds,
        [
            (
                "ledger_lines".to_owned(),
                FindingKind::ForeignKeyWithoutTenant
            ),
            ("ledger_lines".to_owned(), FindingKind::PolicyMissing),
            ("ledgers".to_owned(), FindingKind::ExtraPermissivePolicy),
            ("ledgers".to_owned(), FindingKind::IndexNotLedByTenant),
            ("ledgers".to_owned(), FindingKind::PolicyMissing),
            ("ledgers".to_owned(), FindingKind::PrimaryKeyNotLedByTenant),
            ("ledgers".to_owned(), FindingKind::RlsDisabled),
            ("ledgers".to_owned(), FindingKind::RlsNotForced),
        ],
        "{findings:#?}"
    );
    let rls_off = findings
        .iter()
        .find(|finding| finding.kind == FindingKind::RlsDisabled)
        .ok_or("no RlsDisabled finding")?;
    assert_eq!(
        rls_off.fix,
        "ALTER TABLE \"ledgers\" ENABLE ROW LEVEL SECURITY"
    );
    let naive = findings
        .iter()
        .find(|finding| finding.kind == FindingKind::ExtraPermissivePolicy)
        .ok_or("no ExtraPermissivePolicy finding")?;
    assert!(naive.message.contains("`naive`"), "{}", naive.message);

    // Applying the generated RLS DDL fixes what it can; the keys stay wrong.
    owner_pool(owner.clone())
        .apply_rls(&tables, &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    sqlx::query("DROP POLICY naive ON ledgers")
        .execute(&owner)
        .await?;
    let remaining: Vec<FindingKind> = owner_pool(owner)
        .verify(&tables, &SettingName::default())
        .await?
        .into_iter()
        .map(|finding| finding.kind)
        .collect();
    assert_eq!(
        remaining,
        [
            FindingKind::PrimaryKeyNotLedByTenant,
            FindingKind::IndexNotLedByTenant,
            FindingKind::ForeignKeyWithoutTenant
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_missing_table_is_a_finding() -> TestResult {
    let db = TestDatabase::create().await?;
    let findings = owner_pool(db.owner_pool().await?)
        .verify(&TableSet::new().with::<Order>(), &SettingName::default())
        .await?;
    let kinds: Vec<FindingKind> = findings.iter().map(|finding| finding.kind).collect();
    assert_eq!(kinds, [FindingKind::TableMissing]);
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
    let exporter = findings
        .iter()
        .find(|finding| finding.message.contains(&format!("`{}`", bypass.name())))
        .ok_or_else(|| format!("{} not reported: {findings:#?}", bypass.name()))?;
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
