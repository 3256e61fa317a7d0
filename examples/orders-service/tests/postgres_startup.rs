//! Start-up on PostgreSQL: the service serves only as a role that Row Level
//! Security applies to.

use orders_service::startup::{self, StartupError};
use tenancy_sqlx::testing::TestDatabase;

#[tokio::test]
async fn the_table_owner_is_refused_as_the_application_role() -> tenancy_test::TestResult {
    let database = TestDatabase::create().await?;
    // The owner owns the tables, so the policies would not bind it.
    let refused = startup::open_postgres(&database.owner_url(), &database.owner_url()).await;
    let Err(StartupError::Database(tenancy_sqlx::Error::PrivilegedRole { role, .. })) = refused
    else {
        panic!("the owner was accepted as the application role: {refused:?}");
    };
    assert_eq!(role, tenancy_sqlx::testing::OWNER_ROLE);

    let accepted = startup::open_postgres(&database.app_url(), &database.owner_url()).await;
    assert!(accepted.is_ok(), "{:?}", accepted.err());
    Ok(())
}
