//! Start-up on PostgreSQL: the service serves only as a role that Row Level
//! Security applies to.

use orders_service::startup::{self, PostgresConfig, StartupError};
use tenancy_sqlx::audit::FindingKind;
use tenancy_sqlx::testing::TestDatabase;

#[tokio::test]
async fn the_table_owner_is_refused_as_the_application_role() -> tenancy_test::TestResult {
    let database = TestDatabase::create().await?;
    // The owner owns the tables, so the policies would not bind it. The
    // schema's own check refuses it first, before the pool would: with
    // policies and grants for the owner, the result does not protect the
    // tables (the role can create objects and write the global tables).
    let refused = startup::open_postgres(&PostgresConfig::new(
        &database.owner_url(),
        &database.owner_url(),
    ))
    .await;
    let Err(StartupError::Database(tenancy_sqlx::Error::SchemaNotProtected { findings })) = refused
    else {
        panic!("the owner was accepted as the application role: {refused:?}");
    };
    let owner = format!("`{}`", tenancy_sqlx::testing::OWNER_ROLE);
    assert!(
        findings.iter().any(|finding| {
            finding.kind == FindingKind::ApplicationRoleCanCreate
                && finding.message.contains(&owner)
        }),
        "{findings:#?}"
    );

    let accepted = startup::open_postgres(&PostgresConfig::new(
        &database.app_url(),
        &database.owner_url(),
    ))
    .await;
    assert!(accepted.is_ok(), "{:?}", accepted.err());
    Ok(())
}
