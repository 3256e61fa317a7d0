//! `apply_schema` checks its own result, in its own transaction, with the
//! catalog checks, and rolls everything back when a table would stay
//! protected otherwise than the library protects it: applying the DDL again
//! does not remove what was added by hand.

#![allow(missing_docs)] // a table struct of the tests

use sqlx::{AssertSqlSafe, PgPool};
use tenancy_sqlx::audit::FindingKind;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{Error, tenant_scoped};
use tenancy_test::TestResult;
use tenancy_test::shop::owner_pool;
use tenancy_test::shop::tables::table_set;

/// A table the second apply would add.
#[tenant_scoped]
pub struct Invoice {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub amount: i64,
}

/// The kinds of the findings of a refused apply, and their tables.
fn not_protected(result: Result<(), Error>) -> TestResult<Vec<(FindingKind, Option<String>)>> {
    match result {
        Err(Error::SchemaNotProtected { findings }) => Ok(findings
            .into_iter()
            .map(|finding| (finding.kind, finding.table))
            .collect()),
        other => Err(format!("expected SchemaNotProtected, got {other:?}").into()),
    }
}

/// Whether `public.<table>` exists.
async fn exists(admin: &PgPool, table: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT to_regclass('public.' || $1) IS NOT NULL")
        .bind(table)
        .fetch_one(admin)
        .await
}

async fn run(pool: &PgPool, sql: String) -> TestResult {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(pool).await?;
    Ok(())
}

#[tokio::test]
async fn an_extra_permissive_policy_rolls_the_whole_apply_back() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = owner_pool(&db).await?;
    let policy = RlsPolicy::for_role(APP_ROLE)?;
    owner.apply_schema(&table_set(), &policy).await?;
    // Permissive policies are OR-ed: this one shows every tenant's orders.
    run(
        owner.pool(),
        "CREATE POLICY everyone ON orders AS PERMISSIVE FOR SELECT USING (true)".to_owned(),
    )
    .await?;

    let bigger = table_set().with::<Invoice>();
    let found = not_protected(owner.apply_schema(&bigger, &policy).await)?;
    assert_eq!(
        found,
        [(
            FindingKind::ExtraPermissivePolicy,
            Some("orders".to_owned())
        )]
    );
    let admin = db.admin_pool().await?;
    assert!(
        !exists(&admin, "invoices").await?,
        "the apply was rolled back"
    );

    run(owner.pool(), "DROP POLICY everyone ON orders".to_owned()).await?;
    owner.apply_schema(&bigger, &policy).await?;
    assert!(exists(&admin, "invoices").await?);
    Ok(())
}

#[tokio::test]
async fn privileges_granted_by_hand_roll_the_apply_back() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = owner_pool(&db).await?;
    let policy = RlsPolicy::for_role(APP_ROLE)?;
    owner.apply_schema(&table_set(), &policy).await?;
    run(
        owner.pool(),
        format!("GRANT TRUNCATE ON customers TO {APP_ROLE}; GRANT INSERT ON plans TO {APP_ROLE}"),
    )
    .await?;
    let mut found = not_protected(owner.apply_schema(&table_set(), &policy).await)?;
    found.sort_by_key(|(_, table)| table.clone());
    assert_eq!(
        found,
        [
            (FindingKind::TruncateAllowed, Some("customers".to_owned())),
            (FindingKind::GlobalTableWritable, Some("plans".to_owned())),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn an_application_role_that_can_create_objects_rolls_the_first_apply_back() -> TestResult {
    let db = TestDatabase::create().await?;
    let admin = db.admin_pool().await?;
    run(
        &admin,
        format!("GRANT CREATE ON SCHEMA public TO {APP_ROLE}"),
    )
    .await?;
    let owner = owner_pool(&db).await?;
    let policy = RlsPolicy::for_role(APP_ROLE)?;
    let found = not_protected(owner.apply_schema(&table_set(), &policy).await)?;
    assert_eq!(found, [(FindingKind::ApplicationRoleCanCreate, None)]);
    assert!(
        !exists(&admin, "orders").await?,
        "the apply was rolled back"
    );

    run(
        &admin,
        format!("REVOKE CREATE ON SCHEMA public FROM {APP_ROLE}"),
    )
    .await?;
    owner.apply_schema(&table_set(), &policy).await?;
    assert!(exists(&admin, "orders").await?);
    Ok(())
}

/// A table made by hand and owned by another role: the owner cannot alter
/// it, so the apply fails and creates nothing else either.
#[tokio::test]
async fn a_table_owned_by_another_role_fails_the_apply_and_creates_nothing() -> TestResult {
    let db = TestDatabase::create().await?;
    let admin = db.admin_pool().await?;
    run(
        &admin,
        format!(
            "CREATE TABLE customers (tenant_id bigint NOT NULL, id bigint NOT NULL, \
             email text NOT NULL, name text NOT NULL, plan_id bigint NOT NULL, \
             PRIMARY KEY (tenant_id, id));
             ALTER TABLE customers OWNER TO {APP_ROLE}"
        ),
    )
    .await?;
    let owner = owner_pool(&db).await?;
    let applied = owner
        .apply_schema(&table_set(), &RlsPolicy::for_role(APP_ROLE)?)
        .await;
    assert!(applied.is_err(), "{applied:?}");
    assert!(
        !exists(&admin, "orders").await?,
        "the apply was rolled back"
    );
    assert!(!exists(&admin, "plans").await?, "the apply was rolled back");
    Ok(())
}
