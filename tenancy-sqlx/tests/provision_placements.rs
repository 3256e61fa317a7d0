//! Provisioning tenants: a schema or a database migrated with the fleet
//! runner (tables, RLS, policy, grants from the generated first
//! migration), then recorded; a failed migration records nothing.

use sqlx::AssertSqlSafe;
use tenancy_sqlx::directory::{DatabaseUrl, Placement, TableDirectory, TenantDirectory};
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::migrate::{self, Migrations, Runner};
use tenancy_sqlx::provision::Provisioner;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{CrossTenant, Error, Identifier, KeyValue, RouterOptions};
use tenancy_test::TestResult;
use tenancy_test::models::{router, seed_through, visible_tenants};
use tenancy_test::shop::tables::table_set;
use tenancy_test::shop::{A, B, ORDERS_PER_TENANT, shop, tenant};

async fn provisioner(main: &TestDatabase, migrations: Migrations) -> TestResult<Provisioner> {
    let owner = main.owner_pool().await?;
    for statement in TableDirectory::create_statements(&Identifier::new("role", APP_ROLE)?) {
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&owner)
            .await?;
    }
    let runner = Runner::new(
        main.owner_url().parse()?,
        CrossTenant::with_reason("test: provisioning")?,
        migrations,
    )
    .options(tenancy_test::migrate::quick());
    Ok(Provisioner::new(
        runner,
        TableDirectory::new(owner.clone()),
        owner,
    ))
}

fn generated() -> TestResult<Migrations> {
    let manifest = Manifest::new(&table_set(), &RlsPolicy::for_role(APP_ROLE)?)?;
    Ok(Migrations::from_list(
        migrate::initial(&manifest, 1, "tenant_tables")?.migrations(),
    )?)
}

/// A tenant provisioned in a schema and one in a database are served by
/// the router with their own rows, under their policies, and see no other
/// tenant's.
#[tokio::test]
async fn tenants_provisioned_in_a_schema_and_a_database_are_served() -> TestResult {
    let main = shop(&[A, B]).await?;
    let own = TestDatabase::create().await?;
    let provisioner = provisioner(&main, generated()?).await?;
    provisioner.shared(KeyValue::I64(A)).await?;
    let schema = Identifier::new("schema", "tenant_5")?;
    assert!(
        provisioner
            .schema(KeyValue::I64(5), &schema)
            .await?
            .succeeded()
    );
    let report = provisioner
        .database(
            KeyValue::I64(6),
            own.owner_url().parse()?,
            DatabaseUrl::new(own.app_url())?,
        )
        .await?;
    assert!(report.succeeded());
    // The plans are global rows the owner seeds in every new place.
    for (pool, plans) in [
        (main.owner_pool().await?, "tenant_5.plans"),
        (own.owner_pool().await?, "public.plans"),
    ] {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "INSERT INTO {plans} (id, name) VALUES (1, 'free'), (2, 'pro')"
        )))
        .execute(&pool)
        .await?;
    }
    let router = router(&main, RouterOptions::new()).await?;
    for key in [5, 6] {
        seed_through(&router, key).await?;
    }
    for key in [A, 5, 6] {
        let mut tx = router.begin(&tenant(key)).await?;
        let (built, raw) = visible_tenants(&mut tx).await?;
        tx.rollback().await?;
        let expected = vec![key; ORDERS_PER_TENANT as usize];
        assert_eq!((built, raw), (expected.clone(), expected), "tenant {key}");
    }
    let directory = TableDirectory::new(main.app_pool().await?);
    assert_eq!(
        directory
            .entry(KeyValue::I64(5))
            .await?
            .map(|e| e.placement),
        Some(Placement::Schema(schema))
    );
    // The new places are row-level secured like the shared one.
    let forced: Vec<bool> = sqlx::query_scalar(
        "SELECT relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'tenant_5' AND c.relname IN ('customers', 'orders', 'order_items')",
    )
    .fetch_all(&main.admin_pool().await?)
    .await?;
    assert_eq!(forced, [true, true, true]);
    Ok(())
}

/// A migration that fails leaves the tenant out of the directory.
#[tokio::test]
async fn a_failed_migration_records_no_tenant() -> TestResult {
    let main = shop(&[A]).await?;
    let broken = Migrations::from_list(tenancy_test::migrate::reversible(
        1,
        "broken",
        "CREATE TABLE orders (id bigint); SELECT no_such_function();",
        "DROP TABLE orders;",
    ))?;
    let provisioner = provisioner(&main, broken).await?;
    let failed = provisioner
        .schema(KeyValue::I64(7), &Identifier::new("schema", "tenant_7")?)
        .await
        .unwrap_err();
    assert!(
        matches!(
            failed,
            tenancy_sqlx::migrate::MigrateError::Library(Error::ProvisioningFailed { .. })
        ),
        "{failed}"
    );
    let directory = TableDirectory::new(main.app_pool().await?);
    assert_eq!(directory.entry(KeyValue::I64(7)).await?, None);
    Ok(())
}
