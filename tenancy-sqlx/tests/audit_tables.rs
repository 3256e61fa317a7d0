//! The catalog audit of registered tables: what the generated DDL sets up
//! passes it, and a table set up by hand — missing, without row-level
//! security, with a weaker policy, with keys that do not lead with the
//! tenant, or with partitions the policy does not cover — is reported with
//! its fix.

use sqlx::AssertSqlSafe;
use tenancy_sqlx::audit::{self, FindingKind};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::{RlsPolicy, isolation_predicate};
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{
    CrossTenant, Identifier, OwnerPool, Postgres, SettingName, TenantId, TenantPool,
    TenantPoolOptions, tenant_scoped,
};
use tenancy_test::TestResult;
use tenancy_test::shop::tables::{Order, table_set};

fn owner_pool(pool: sqlx::PgPool) -> OwnerPool {
    OwnerPool::from_pool(
        pool,
        CrossTenant::with_reason("audit tests").expect("a stated reason"),
    )
}

#[tokio::test]
async fn applying_the_schema_twice_changes_nothing_and_leaves_no_findings() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = owner_pool(db.owner_pool().await?);
    let policy = RlsPolicy::for_role(APP_ROLE)?;
    owner.apply_schema(&table_set(), &policy).await?;
    owner.apply_schema(&table_set(), &policy).await?;

    let findings = owner.verify(&table_set()).await?;
    assert!(findings.is_empty(), "{findings:#?}");

    // The application role reads the catalog just as well.
    let mut app = db.app_pool().await?.acquire().await?;
    let findings = audit::verify_tables(&mut app, &table_set()).await?;
    assert!(findings.is_empty(), "{findings:#?}");
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
    let findings = owner_pool(owner.clone()).verify(&tables).await?;

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
        .verify(&tables)
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
        .verify(&TableSet::new().with::<Order>())
        .await?;
    let kinds: Vec<FindingKind> = findings.iter().map(|finding| finding.kind).collect();
    assert_eq!(kinds, [FindingKind::TableMissing]);
    Ok(())
}

/// A tenant table partitioned by a migration written by hand.
#[tenant_scoped(table = "events")]
#[derive(Debug)]
pub struct Event {
    /// The tenant.
    pub tenant_id: i64,
    /// The key.
    #[tenancy(primary_key)]
    pub id: i64,
    /// What happened.
    pub body: String,
}

/// The events of two tenants, a partition each, one of them partitioned
/// again; row-level security set up on the parent only, the way
/// `OwnerPool::apply_rls` does; and the application role granted every
/// table in the schema, as migrations often do.
async fn partitioned_events(db: &TestDatabase) -> TestResult<OwnerPool> {
    let owner = owner_pool(db.owner_pool().await?);
    sqlx::raw_sql(
        "CREATE TABLE events (tenant_id bigint NOT NULL, id bigint NOT NULL, body text NOT NULL,
             PRIMARY KEY (tenant_id, id)) PARTITION BY LIST (tenant_id);
         CREATE TABLE events_1 PARTITION OF events FOR VALUES IN (1);
         CREATE TABLE events_2 PARTITION OF events FOR VALUES IN (2) PARTITION BY RANGE (id);
         CREATE TABLE events_2_all PARTITION OF events_2 FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
         INSERT INTO events VALUES (1, 1, 'one'), (2, 1, 'two');",
    )
    .execute(owner.pool())
    .await?;
    owner
        .apply_rls(&events(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {APP_ROLE}"
    )))
    .execute(owner.pool())
    .await?;
    Ok(owner)
}

fn events() -> TableSet {
    TableSet::new().with::<Event>()
}

/// What tenant 1's raw SQL reads from a partition of tenant 2.
async fn tenant_one_reads(db: &TestDatabase, partition: &str) -> TestResult<Vec<String>> {
    let options = TenantPoolOptions::new(&events());
    let pool = TenantPool::<Postgres>::connect(&db.app_url(), options).await?;
    let mut tx = pool.begin(&TenantId::from_verified(1)).await?;
    let bodies = sqlx::query_scalar(AssertSqlSafe(format!("SELECT body FROM {partition}")))
        .fetch_all(tx.raw_connection())
        .await?;
    tx.rollback().await?;
    Ok(bodies)
}

#[tokio::test]
async fn the_audit_reports_partitions_that_row_level_security_does_not_cover() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = partitioned_events(&db).await?;
    // Named directly, a partition is checked against its own policies.
    assert_eq!(tenant_one_reads(&db, "events_2_all").await?, ["two"]);

    let findings = owner.verify(&events()).await?;
    let found: Vec<(Option<String>, FindingKind)> = findings
        .iter()
        .map(|finding| (finding.table.clone(), finding.kind))
        .collect();
    let mut expected = Vec::new();
    for child in ["events_1", "events_2", "events_2_all"] {
        for kind in [
            FindingKind::RlsDisabled,
            FindingKind::RlsNotForced,
            FindingKind::PolicyMissing,
        ] {
            expected.push((Some(child.to_owned()), kind));
        }
    }
    assert_eq!(found, expected, "{findings:#?}");
    assert!(
        findings[0]
            .message
            .starts_with("a partition or inheritance child of `events`"),
        "{}",
        findings[0].message
    );

    // Protected like the parent, the partitions pass, and filter.
    let column = Identifier::new("column", "tenant_id")?;
    let check = isolation_predicate(&column, &SettingName::default(), "bigint");
    for child in ["events_1", "events_2", "events_2_all"] {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "ALTER TABLE {child} ENABLE ROW LEVEL SECURITY;
             ALTER TABLE {child} FORCE ROW LEVEL SECURITY;
             CREATE POLICY tenancy_isolation ON {child} AS PERMISSIVE FOR ALL TO {APP_ROLE}
                 USING ({check}) WITH CHECK ({check})"
        )))
        .execute(owner.pool())
        .await?;
    }
    let findings = owner.verify(&events()).await?;
    assert_eq!(findings, [], "{findings:#?}");
    assert_eq!(
        tenant_one_reads(&db, "events_2_all").await?,
        Vec::<String>::new()
    );
    Ok(())
}

/// With the application role known (a manifest), the audit reports where
/// it can create objects, each with the `REVOKE` that fixes it.
#[tokio::test]
async fn the_audit_reports_an_application_role_that_can_create_objects() -> TestResult {
    use tenancy_sqlx::manifest::Manifest;

    let db = TestDatabase::create().await?;
    let policy = RlsPolicy::for_role(APP_ROLE)?;
    owner_pool(db.owner_pool().await?)
        .apply_schema(&table_set(), &policy)
        .await?;
    let manifest = Manifest::new(&table_set(), &policy)?;
    let mut app = db.app_pool().await?.acquire().await?;
    let creates = |findings: Vec<audit::Finding>| -> Vec<String> {
        findings
            .into_iter()
            .filter(|finding| finding.kind == FindingKind::ApplicationRoleCanCreate)
            .map(|finding| finding.fix)
            .collect()
    };
    assert_eq!(
        creates(audit::verify(&mut app, &manifest, None).await?),
        Vec::<String>::new()
    );

    let admin = db.admin_pool().await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE SCHEMA scratch; GRANT CREATE ON SCHEMA scratch TO {APP_ROLE}"
    )))
    .execute(&admin)
    .await?;
    let fixes = creates(audit::verify(&mut app, &manifest, None).await?);
    assert_eq!(fixes.len(), 1, "{fixes:?}");
    assert!(
        fixes[0].starts_with(&format!(
            "REVOKE CREATE ON SCHEMA scratch FROM \"{APP_ROLE}\""
        )),
        "{fixes:?}"
    );
    // The fix it states is the fix.
    sqlx::raw_sql(AssertSqlSafe(format!(
        "REVOKE CREATE ON SCHEMA scratch FROM {APP_ROLE}"
    )))
    .execute(&admin)
    .await?;
    assert!(creates(audit::verify(&mut app, &manifest, None).await?).is_empty());
    Ok(())
}
