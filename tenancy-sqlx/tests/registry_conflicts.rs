//! Two table types that describe one physical table are refused wherever
//! the adapter takes a `TableSet`, before anything is sent: a second
//! registration could otherwise create the table unscoped, or replace its
//! row-level security policy with one on another column.

// The structs describe tables; no test builds a value of them.
#![allow(dead_code, missing_docs)]

use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{
    CrossTenant, DdlError, Error, OwnerPool, Postgres, TenantPool, TenantPoolOptions, global_table,
    tenant_scoped,
};
use tenancy_test::TestResult;

#[tenant_scoped]
pub struct Invoice {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub amount: i64,
}

/// The same table, scoped by another column: its policy would compare
/// `org_id` with the tenant.
#[tenant_scoped(table = "invoices")]
pub struct OrgInvoice {
    #[tenancy(tenant)]
    pub org_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub amount: i64,
}

/// The same table again, as a global table spelled in capitals.
#[global_table(table = "INVOICES")]
pub struct InvoiceArchive {
    #[tenancy(primary_key)]
    pub id: i64,
}

fn capability() -> Result<CrossTenant, Error> {
    Ok(CrossTenant::with_reason("table registry tests: set-up")?)
}

fn is_conflict(result: Result<(), Error>) -> bool {
    matches!(result, Err(Error::Ddl(DdlError::ConflictingTables { .. })))
}

#[tokio::test]
async fn sqlite_refuses_to_create_a_conflicted_set() -> TestResult {
    let pool =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&TableSet::new()))
            .await?;
    let owner = pool.owner_pool(capability()?);
    let conflicted = TableSet::new().with::<Invoice>().with::<InvoiceArchive>();
    assert!(is_conflict(owner.apply_schema(&conflicted).await));
    owner
        .apply_schema(&TableSet::new().with::<Invoice>())
        .await?;
    Ok(())
}

#[tokio::test]
async fn postgres_refuses_a_conflicted_set_everywhere() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = OwnerPool::from_pool(db.owner_pool().await?, capability()?);
    let policy = RlsPolicy::for_role(APP_ROLE)?;
    let conflicted = TableSet::new().with::<Invoice>().with::<OrgInvoice>();

    assert!(is_conflict(owner.apply_schema(&conflicted, &policy).await));
    assert!(is_conflict(owner.apply_rls(&conflicted, &policy).await));
    assert!(is_conflict(policy.statements(&conflicted).map(|_| ())));
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = 'public'",
    )
    .fetch_all(&db.owner_pool().await?)
    .await?;
    assert!(tables.is_empty(), "created {tables:?}");

    // Set up with the one registration, then a pool given the conflicted
    // set does not start.
    owner
        .apply_schema(&TableSet::new().with::<Invoice>(), &policy)
        .await?;
    let refused =
        TenantPool::<Postgres>::connect(&db.app_url(), TenantPoolOptions::new(&conflicted)).await;
    assert!(
        matches!(refused, Err(Error::Ddl(DdlError::ConflictingTables { .. }))),
        "{refused:?}"
    );
    Ok(())
}
