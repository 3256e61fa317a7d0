//! Start-up on PostgreSQL: the service serves only as a role that Row Level
//! Security applies to.

use orders_service::startup::{self, Isolation, PostgresConfig, StartupError};
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

/// In the database-per-tenant model the owner creates each tenant's
/// database; an owner without `CREATEDB` stops start-up with an error that
/// says which database and what to grant, and no tenant is recorded.
#[tokio::test]
async fn a_database_per_tenant_needs_an_owner_that_may_create_databases() -> tenancy_test::TestResult
{
    let database = TestDatabase::create().await?;
    // An owner of the database's tables that may not create databases.
    let owner = database.create_role("owner_without_createdb", &[]).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{db}\" OWNER TO \"{role}\"; ALTER SCHEMA public OWNER TO \"{role}\"",
        db = database.name(),
        role = owner.name()
    )))
    .execute(&database.admin_pool().await?)
    .await?;
    let config =
        PostgresConfig::new(&database.app_url(), owner.url()).isolation(Isolation::Database);
    let refused = startup::open_router(&config, &[(1, Isolation::Database)]).await;
    let Err(error @ StartupError::CreateDatabase { .. }) = refused else {
        panic!("expected the database to be refused: {refused:?}");
    };
    let message = error.to_string();
    assert!(
        message.contains("_tenant_1") && message.contains("CREATEDB"),
        "{message}"
    );
    let recorded: Option<String> =
        sqlx::query_scalar("SELECT placement FROM tenancy_tenants WHERE tenant_key = '1'")
            .fetch_optional(&database.admin_pool().await?)
            .await?;
    assert_eq!(recorded, None);
    Ok(())
}
