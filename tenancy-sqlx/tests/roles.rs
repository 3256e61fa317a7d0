//! The tenant pool refuses, at connect time, a role that row-level security
//! does not apply to.

mod support;

use support::tables::table_set;
use support::{TestResult, database_with_tables};
use tenancy_sqlx::testing::{OWNER_ROLE, RoleAttribute};
use tenancy_sqlx::{Error, Postgres, PrivilegedRole, TenantPool, TenantPoolOptions};

fn options() -> TenantPoolOptions {
    TenantPoolOptions::new().tables(&table_set())
}

/// The role, the problem and the message of a refusal.
fn refusal(result: Result<TenantPool, Error>) -> Result<(String, PrivilegedRole, String), String> {
    let error = match result {
        Ok(_) => return Err("accepted".to_owned()),
        Err(error) => error,
    };
    let message = error.to_string();
    match error {
        Error::PrivilegedRole { role, problem } => Ok((role, problem, message)),
        other => Err(format!("refused for another reason: {other}")),
    }
}

#[tokio::test]
async fn a_superuser_is_refused() -> TestResult {
    let db = database_with_tables().await?;
    let (_, problem, message) =
        refusal(TenantPool::<Postgres>::connect(&db.admin_url(), options()).await)?;
    assert_eq!(problem, PrivilegedRole::Superuser);
    assert!(
        message.contains("is a superuser: PostgreSQL skips every row-level security policy for it"),
        "{message}"
    );
    assert!(
        message.contains(
            "Connect the tenant pool as a role created with NOSUPERUSER NOBYPASSRLS that does not own \
             the tables, or use `OwnerPool` for migrations"
        ),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn a_bypassrls_role_is_refused() -> TestResult {
    let db = database_with_tables().await?;
    let role = db
        .create_role("bypass", &[RoleAttribute::BypassRls])
        .await?;
    let (name, problem, message) =
        refusal(TenantPool::<Postgres>::connect(role.url(), options()).await)?;
    assert_eq!(
        (name.as_str(), problem),
        (role.name(), PrivilegedRole::BypassRls)
    );
    assert!(message.contains("BYPASSRLS"), "{message}");
    Ok(())
}

#[tokio::test]
async fn the_owner_of_a_registered_table_is_refused() -> TestResult {
    let db = database_with_tables().await?;
    let (name, problem, message) =
        refusal(TenantPool::<Postgres>::connect(&db.owner_url(), options()).await)?;
    assert_eq!(name, OWNER_ROLE);
    assert_eq!(
        problem,
        PrivilegedRole::OwnsTables(vec![
            "customers".to_owned(),
            "orders".to_owned(),
            "plans".to_owned()
        ])
    );
    assert!(
        message.contains("owns (or has the privileges of the owner of) customers, orders, plans"),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn a_member_of_the_owner_role_is_refused() -> TestResult {
    let db = database_with_tables().await?;
    let member = db.create_role("member", &[]).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "GRANT {OWNER_ROLE} TO {}",
        member.name()
    )))
    .execute(&db.admin_pool().await?)
    .await?;
    let (_, problem, _) = refusal(TenantPool::<Postgres>::connect(member.url(), options()).await)?;
    assert!(
        matches!(problem, PrivilegedRole::OwnsTables(_)),
        "{problem:?}"
    );
    Ok(())
}

#[tokio::test]
async fn the_application_role_is_accepted_and_a_stated_reason_admits_the_owner() -> TestResult {
    let db = database_with_tables().await?;
    TenantPool::<Postgres>::connect(&db.app_url(), options()).await?;
    TenantPool::<Postgres>::connect(
        &db.owner_url(),
        options().allow_rls_bypassing_role("single-role development database"),
    )
    .await?;
    Ok(())
}
