//! The owner pool, under a cross-tenant capability: it refuses statements
//! built for one tenant.

use tenancy_sqlx::{BuildStatement, CrossTenant, Error, OwnerPool, StatementScope, TenantId};
use tenancy_test::TestResult;
use tenancy_test::shop::shop;
use tenancy_test::shop::tables::Customer;

#[tokio::test]
async fn the_owner_pool_refuses_tenant_statements() -> TestResult {
    let db = shop(&[]).await?;
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("erasure job"),
    );
    let tenant = TenantId::from_verified(3_i64);
    let refused = owner.execute(Customer::delete(&tenant)).await;
    match refused {
        Err(Error::TenantStatementOnOwnerPool { statement }) => {
            assert_eq!(statement, tenant.key_value())
        }
        other => return Err(format!("expected TenantStatementOnOwnerPool, got {other:?}").into()),
    }
    let capability = CrossTenant::with_reason("count all customers");
    let statement = Customer::select_across_tenants(&capability);
    assert_eq!(statement.scope(), StatementScope::AllTenants);
    // The owner is subject to the forced policy and sets no tenant: it sees
    // no rows, rather than every row.
    let all: Vec<Customer> = owner.fetch_all(statement).await?;
    assert!(all.is_empty());
    Ok(())
}
