//! A tenant pool refuses, when it connects, a role for which PostgreSQL
//! would skip the policies — a superuser, a `BYPASSRLS` role, the tables'
//! owner — with a message that says why and what to do; it admits one only
//! when told why. Admitted, such a role shows what the refusal protects
//! against: raw SQL is no longer confined by the database.

mod common;

use common::tables::Order;
use common::{A, B, BoxError, TestResult, pool_options, shop, tenant};
use sqlx::AssertSqlSafe;
use tenancy_sqlx::testing::{OWNER_ROLE, RoleAttribute, TestDatabase};
use tenancy_sqlx::{Error, Postgres, PrivilegedRole, TenantPool};

/// The part of every refusal that says how to fix it.
const FIX: &str = "Connect the tenant pool as a role created with NOSUPERUSER NOBYPASSRLS \
                   that does not own the tables, or use `OwnerPool` for migrations \
                   (to accept this role anyway, say why with \
                   `TenantPoolOptions::allow_rls_bypassing_role`)";

/// Connects a tenant pool as `url` and returns the refusal: the role, what
/// is wrong with it, and the message.
async fn refusal(url: &str) -> Result<(String, PrivilegedRole, String), BoxError> {
    match TenantPool::<Postgres>::connect(url, pool_options()).await {
        Err(error @ Error::PrivilegedRole { .. }) => {
            let message = error.to_string();
            let Error::PrivilegedRole { role, problem } = error else {
                return Err("the error changed its variant".into());
            };
            Ok((role, problem, message))
        }
        Err(other) => Err(format!("refused for another reason: {other}").into()),
        Ok(_) => Err(format!("accepted {url}").into()),
    }
}

/// A role with `BYPASSRLS`, allowed to read and write the shop's tables.
async fn bypassing_role(db: &TestDatabase) -> Result<tenancy_sqlx::testing::TestRole, BoxError> {
    let role = db
        .create_role("bypass", &[RoleAttribute::BypassRls])
        .await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{}\"",
        role.name()
    )))
    .execute(&db.owner_pool().await?)
    .await?;
    Ok(role)
}

#[tokio::test]
async fn a_superuser_is_refused_with_the_reason_and_the_fix() -> TestResult {
    let db = shop(&[A, B]).await?;
    let (role, problem, message) = refusal(&db.admin_url()).await?;
    assert_eq!(problem, PrivilegedRole::Superuser);
    assert_eq!(
        message,
        format!(
            "role `{role}` is a superuser: PostgreSQL skips every row-level security policy \
             for it. {FIX}"
        )
    );
    Ok(())
}

#[tokio::test]
async fn a_bypassrls_role_is_refused_with_the_reason_and_the_fix() -> TestResult {
    let db = shop(&[A, B]).await?;
    let bypass = bypassing_role(&db).await?;
    let (role, problem, message) = refusal(bypass.url()).await?;
    assert_eq!(
        (role.as_str(), &problem),
        (bypass.name(), &PrivilegedRole::BypassRls)
    );
    assert_eq!(
        message,
        format!(
            "role `{role}` has the BYPASSRLS attribute: PostgreSQL skips every row-level \
             security policy for it. {FIX}"
        )
    );
    Ok(())
}

#[tokio::test]
async fn the_tables_owner_is_refused_with_the_reason_and_the_fix() -> TestResult {
    let db = shop(&[A, B]).await?;
    let (role, problem, message) = refusal(&db.owner_url()).await?;
    let owned = ["customers", "order_items", "orders", "plans"].map(str::to_owned);
    assert_eq!(
        (role.as_str(), problem),
        (OWNER_ROLE, PrivilegedRole::OwnsTables(owned.to_vec()))
    );
    assert_eq!(
        message,
        format!(
            "role `{OWNER_ROLE}` owns (or has the privileges of the owner of) customers, \
             order_items, orders, plans: an owner can disable row-level security or drop the \
             policy, and skips the policies unless FORCE ROW LEVEL SECURITY is set. {FIX}"
        )
    );
    Ok(())
}

/// With a stated reason each role is admitted, and the builder still
/// confines its statements to the tenant. Raw SQL shows what the database
/// layer does for such a role: nothing at all for the superuser and the
/// `BYPASSRLS` role, which see every tenant's rows; for the owner, under
/// FORCE with policies written for the application role, no policy applies,
/// so it sees no row at all — through the builder either.
#[tokio::test]
async fn a_stated_reason_admits_each_role_and_the_builder_still_confines_it() -> TestResult {
    let db = shop(&[A, B]).await?;
    let bypass = bypassing_role(&db).await?;
    let every_tenant = vec![A, A, A, A, B, B, B, B];
    // (role, URL, orders the builder's select returns, tenants raw SQL sees)
    let roles = [
        ("superuser", db.admin_url(), 4, every_tenant.clone()),
        ("BYPASSRLS", bypass.url().to_owned(), 4, every_tenant),
        ("owner", db.owner_url(), 0, vec![]),
        ("application", db.app_url(), 4, vec![A; 4]),
    ];
    for (kind, url, built_rows, raw_sees) in roles {
        let options = pool_options().allow_rls_bypassing_role("single-role development database");
        let pool = TenantPool::<Postgres>::connect(&url, options).await?;
        let a = tenant(A);
        let mut tx = pool.begin(&a).await?;
        let built: Vec<Order> = tx.fetch_all(Order::select(&a)).await?;
        assert_eq!(built.len(), built_rows, "{kind}: {built:?}");
        assert!(
            built.iter().all(|order| order.tenant_id == A),
            "{kind}: {built:?}"
        );
        let raw: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM orders ORDER BY tenant_id")
            .fetch_all(tx.raw_connection())
            .await?;
        assert_eq!(raw, raw_sees, "{kind}: raw SQL");
        tx.rollback().await?;
        pool.close().await;
    }
    Ok(())
}
