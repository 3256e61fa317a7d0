//! The read-only analytics role: it sees every tenant's rows through its
//! own `FOR SELECT` policy and can change none; the application still sees
//! one tenant; the catalog audit accepts the policy. No role has
//! `BYPASSRLS`.

use tenancy_sqlx::analytics::AnalyticsPolicy;
use tenancy_sqlx::audit::FindingKind;
use tenancy_test::TestResult;
use tenancy_test::shop::tables::{Customer, table_set};
use tenancy_test::shop::{owner_pool, shop, tenant, tenant_pool};
use tenancy_test::sql::{INSUFFICIENT_PRIVILEGE, execute, sqlstate};

#[tokio::test]
async fn the_analytics_role_reads_every_tenant_and_writes_nothing() -> TestResult {
    let db = shop(&[1, 2]).await?;
    let owner = owner_pool(&db).await?;
    let analytics = db.create_role("analytics", &[]).await?;
    owner
        .apply_analytics(&table_set(), &AnalyticsPolicy::for_role(analytics.name())?)
        .await?;
    let reader = analytics.pool().await?;
    // No tenant set, and still every tenant's rows: its policy says so.
    let tenants: Vec<i64> =
        sqlx::query_scalar("SELECT DISTINCT tenant_id FROM customers ORDER BY 1")
            .fetch_all(&reader)
            .await?;
    assert_eq!(tenants, [1, 2]);
    for statement in [
        "INSERT INTO customers (tenant_id, email, name, plan_id) VALUES (1, 'x@y', 'x', 1)",
        "UPDATE customers SET name = 'changed'",
        "DELETE FROM orders",
        "TRUNCATE order_items",
    ] {
        let refused = execute(&reader, statement).await;
        assert_eq!(
            refused.as_ref().err().and_then(sqlstate).as_deref(),
            Some(INSUFFICIENT_PRIVILEGE),
            "{statement}: {refused:?}"
        );
    }

    // The application still sees one tenant.
    let pool = tenant_pool(&db).await?;
    let mut tx = pool.begin(&tenant(1)).await?;
    let raw: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT tenant_id FROM customers")
        .fetch_all(tx.raw_connection())
        .await?;
    assert_eq!(raw, [1]);
    let customers: Vec<Customer> = tx.fetch_all(Customer::select(tx.tenant())).await?;
    assert_eq!(customers.len(), 3);
    tx.commit().await?;

    // The audit accepts the analytics policy, and still reports it once it
    // is for every role, which widens the application's view.
    let findings = owner.verify(&table_set()).await?;
    assert!(
        !findings
            .iter()
            .any(|f| f.kind == FindingKind::ExtraPermissivePolicy),
        "{findings:#?}"
    );
    execute(
        owner.pool(),
        "DROP POLICY tenancy_analytics ON orders;
         CREATE POLICY tenancy_analytics ON orders FOR SELECT TO PUBLIC USING (true)",
    )
    .await?;
    let findings = owner.verify(&table_set()).await?;
    assert!(
        findings
            .iter()
            .any(|f| f.kind == FindingKind::ExtraPermissivePolicy),
        "{findings:#?}"
    );
    Ok(())
}
