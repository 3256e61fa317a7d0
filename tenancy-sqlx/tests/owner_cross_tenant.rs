//! The owner pool, under a cross-tenant capability: it refuses statements
//! built for one tenant, and every statement it runs — cross-tenant and
//! global ones, and the schema it applies — is logged on target
//! `tenancy::cross_tenant` with the capability's reason and the SQL, never
//! the values.
//!
//! Every test here installs the capture before it does anything, so that
//! each logging callsite is first reached with a subscriber listening.

use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{
    BuildStatement, CrossTenant, Delete, Error, OwnerPool, Select, StatementScope, TenantId,
};
use tenancy_test::TestResult;
use tenancy_test::capture::{Capture, CapturedEvent};
use tenancy_test::shop::shop;
use tenancy_test::shop::tables::{Customer, Plan, table_set};

const TARGET: &str = "tenancy::cross_tenant";

/// The events of statements the owner pool ran.
fn statements_run(events: &[CapturedEvent]) -> Vec<&CapturedEvent> {
    events
        .iter()
        .filter(|event| event.message() == "cross-tenant statement")
        .collect()
}

#[tokio::test]
async fn the_owner_pool_refuses_tenant_statements() -> TestResult {
    let (_captured, _guard) = Capture::install();
    let db = shop(&[]).await?;
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("erasure job")?,
    )
    .with_tables(&table_set());
    let tenant = TenantId::from_verified(3_i64);
    let refused = owner.execute(Customer::delete(&tenant)).await;
    match refused {
        Err(Error::TenantStatementOnOwnerPool { statement }) => {
            assert_eq!(statement, tenant.key_value())
        }
        other => return Err(format!("expected TenantStatementOnOwnerPool, got {other:?}").into()),
    }
    let capability = CrossTenant::with_reason("count all customers")?;
    let statement = Select::<Customer>::across_tenants(&capability);
    assert_eq!(statement.scope(), StatementScope::AllTenants);
    // The owner is subject to the forced policy and sets no tenant: it sees
    // no rows, rather than every row.
    let all: Vec<Customer> = owner.fetch_all(statement).await?;
    assert!(all.is_empty());
    Ok(())
}

#[tokio::test]
async fn every_statement_is_logged_with_the_reason_and_the_sql_but_not_the_values() -> TestResult {
    let (captured, _guard) = Capture::install();
    let db = shop(&[1, 2]).await?;
    let reason = "erasure of tenant 2, ticket OPS-1234";
    let owner = OwnerPool::from_pool(db.owner_pool().await?, CrossTenant::with_reason(reason)?)
        .with_tables(&table_set());
    let created: Vec<CapturedEvent> = captured
        .events_of(TARGET)
        .into_iter()
        .filter(|event| event.field("reason") == Some(reason))
        .collect();
    assert_eq!(created.len(), 1, "{created:#?}");
    assert_eq!(created[0].message(), "cross-tenant capability created");
    captured.clear();

    let secret = "secret-value-7f3a@example.test";
    let capability = CrossTenant::with_reason("test: statements across tenants")?;
    let across = Select::<Customer>::across_tenants(&capability).filter(Customer::EMAIL.eq(secret));
    let erase = Delete::<Customer>::across_tenants(&capability).filter(Customer::EMAIL.eq(secret));
    let global = Plan::select().filter(Plan::NAME.eq(secret));
    let expected_sql = [
        across.to_postgres()?.sql().to_owned(),
        erase.to_postgres()?.sql().to_owned(),
        global.to_postgres()?.sql().to_owned(),
    ];
    let _: Vec<Customer> = owner.fetch_all(across).await?;
    owner.execute(erase).await?;
    let _: Option<Plan> = owner.fetch_optional(global).await?;

    let events = captured.events_of(TARGET);
    let run = statements_run(&events);
    assert_eq!(run.len(), 3, "{events:#?}");
    for (event, sql) in run.iter().zip(&expected_sql) {
        assert_eq!(event.field("reason"), Some(reason), "{event:?}");
        assert_eq!(event.field("sql"), Some(sql.as_str()), "{event:?}");
        assert!(
            !event.text().contains(secret),
            "a bound value was logged: {event:?}"
        );
        assert!(sql.contains("$1"), "{sql}");
    }

    // A statement refused for its scope is not logged as run.
    captured.clear();
    let refused = owner
        .execute(Customer::delete(&TenantId::from_verified(2)))
        .await;
    assert!(matches!(
        refused,
        Err(Error::TenantStatementOnOwnerPool { .. })
    ));
    assert_eq!(
        statements_run(&captured.events_of(TARGET)),
        Vec::<&CapturedEvent>::new()
    );
    Ok(())
}

#[tokio::test]
async fn schema_changes_are_logged_with_the_reason() -> TestResult {
    let (captured, _guard) = Capture::install();
    let db = TestDatabase::create().await?;
    let reason = "deploy 2024-06-01: migrations and policies";
    let owner = OwnerPool::from_pool(db.owner_pool().await?, CrossTenant::with_reason(reason)?);
    captured.clear();
    owner
        .apply_schema(&table_set(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    let changes: Vec<CapturedEvent> = captured
        .events_of(TARGET)
        .into_iter()
        .filter(|event| event.message() == "schema change")
        .collect();
    let statements: Vec<&str> = changes
        .iter()
        .map(|event| event.field("statement").unwrap_or_default())
        .collect();
    assert!(
        statements
            .iter()
            .any(|statement| statement.starts_with("CREATE TABLE IF NOT EXISTS")),
        "{statements:#?}"
    );
    assert!(
        statements
            .iter()
            .any(|statement| statement.starts_with("CREATE POLICY")),
        "{statements:#?}"
    );
    assert!(
        changes
            .iter()
            .all(|event| event.field("reason") == Some(reason)),
        "{changes:#?}"
    );
    Ok(())
}
