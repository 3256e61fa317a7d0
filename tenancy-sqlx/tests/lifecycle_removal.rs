//! Removing a tenant wherever the directory places it: a tenant of the
//! shared tables is erased; a tenant with a schema or a database of its own
//! is erased, certified, and its schema or database dropped; the entry
//! stays `deleted` and the router refuses it. A schema or database that is
//! not the tenant's alone is refused before anything changes.

use sqlx::AssertSqlSafe;
use tenancy_sqlx::directory::{
    DatabaseUrl, Placement, TableDirectory, TenantDirectory, TenantEntry, TenantStatus,
};
use tenancy_sqlx::lifecycle::{ErasureOptions, LifecycleError};
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::migrate::{self, Migrations, Runner};
use tenancy_sqlx::provision::Provisioner;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{CrossTenant, Error, Identifier, KeyValue, RouterOptions};
use tenancy_test::TestResult;
use tenancy_test::models::{router, seed_through};
use tenancy_test::shop::tables::table_set;
use tenancy_test::shop::{A, B, owner_pool, rows_outside, shop, tenant};

/// The schema tenant.
const IN_SCHEMA: i64 = 5;
/// The database tenant.
const IN_DATABASE: i64 = 6;

/// `main` with the directory, tenants A and B in the shared tables, tenant
/// 5 in schema `tenant_5` and tenant 6 in `own`, each seeded through the
/// router.
async fn fleet(main: &TestDatabase, own: &TestDatabase) -> TestResult<TableDirectory> {
    let owner = main.owner_pool().await?;
    for statement in TableDirectory::create_statements(&Identifier::new("role", APP_ROLE)?) {
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&owner)
            .await?;
    }
    let manifest = Manifest::new(&table_set(), &RlsPolicy::for_role(APP_ROLE)?)?;
    let migrations =
        Migrations::from_list(migrate::initial(&manifest, 1, "tenant_tables")?.migrations())?;
    let runner = Runner::new(
        main.owner_url().parse()?,
        CrossTenant::with_reason("test: provisioning")?,
        migrations,
    )
    .options(tenancy_test::migrate::quick());
    let directory = TableDirectory::new(owner.clone());
    let provisioner = Provisioner::new(runner, directory.clone(), owner);
    provisioner.shared(KeyValue::I64(A)).await?;
    provisioner.shared(KeyValue::I64(B)).await?;
    provisioner
        .schema(
            KeyValue::I64(IN_SCHEMA),
            &Identifier::new("schema", "tenant_5")?,
        )
        .await?;
    provisioner
        .database(
            KeyValue::I64(IN_DATABASE),
            own.owner_url().parse()?,
            DatabaseUrl::new(own.app_url())?,
        )
        .await?;
    for (pool, plans) in [
        (main.owner_pool().await?, "tenant_5.plans"),
        (own.owner_pool().await?, "public.plans"),
    ] {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "INSERT INTO {plans} (id, name) VALUES (1, 'free')"
        )))
        .execute(&pool)
        .await?;
    }
    let router = router(main, RouterOptions::new()).await?;
    for key in [IN_SCHEMA, IN_DATABASE] {
        seed_through(&router, key).await?;
    }
    Ok(directory)
}

fn options() -> ErasureOptions {
    ErasureOptions::new(&table_set()).batch_rows(3)
}

async fn status(directory: &TableDirectory, key: i64) -> TestResult<Option<TenantStatus>> {
    Ok(directory
        .entry(KeyValue::I64(key))
        .await?
        .map(|entry| entry.status))
}

#[tokio::test]
async fn every_placement_is_erased_certified_and_dropped() -> TestResult {
    let main = shop(&[A, B]).await?;
    let own = TestDatabase::create().await?;
    let directory = fleet(&main, &own).await?;
    let owner = owner_pool(&main).await?;
    let admin = main.admin_pool().await?;
    let others = rows_outside(&admin, A).await?;

    // Shared: the rows go, the entry stays, deleted.
    let removal = owner
        .remove_tenant(&tenant(A), &directory, &options())
        .await?;
    assert_eq!(removal.dropped, None);
    let rows: i64 = removal
        .erasure
        .certificate
        .content
        .tables
        .iter()
        .map(|table| table.rows)
        .sum();
    assert_eq!(rows, 3 + 4 + 8, "the seeded customers, orders and items");
    assert_eq!(status(&directory, A).await?, Some(TenantStatus::Deleted));
    assert_eq!(
        rows_outside(&admin, A).await?,
        others,
        "no other tenant's row changed"
    );
    let refused = router(&main, RouterOptions::new())
        .await?
        .begin(&tenant(A))
        .await
        .err();
    assert!(
        matches!(refused, Some(Error::TenantUnavailable { .. })),
        "{refused:?}"
    );

    // A schema of its own: erased, then dropped with its tables.
    let removal = owner
        .remove_tenant(&tenant(IN_SCHEMA), &directory, &options())
        .await?;
    assert_eq!(
        removal.dropped,
        Some(Placement::Schema(Identifier::new("schema", "tenant_5")?))
    );
    let schemas: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_5'")
            .fetch_one(&admin)
            .await?;
    assert_eq!(schemas, 0);
    assert_eq!(
        status(&directory, IN_SCHEMA).await?,
        Some(TenantStatus::Deleted)
    );

    // A database of its own: erased there, the certificate kept here, then
    // dropped.
    let removal = owner
        .remove_tenant(&tenant(IN_DATABASE), &directory, &options())
        .await?;
    assert!(
        matches!(removal.dropped, Some(Placement::Database(_))),
        "{:?}",
        removal.dropped
    );
    assert_eq!(removal.erasure.certificate.content.database, own.name());
    let databases: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(own.name())
        .fetch_one(&admin)
        .await?;
    assert_eq!(databases, 0);
    let kept: Vec<(String, String)> = sqlx::query_as(
        "SELECT tenant, sha256 FROM tenancy.tenant_deletion_certificates ORDER BY recorded_at",
    )
    .fetch_all(&admin)
    .await?;
    assert_eq!(
        kept.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["1", "5", "6"]
    );
    assert_eq!(kept[2].1, removal.erasure.certificate.sha256);
    assert_eq!(rows_outside(&admin, A).await?, others, "tenant B untouched");
    Ok(())
}

#[tokio::test]
async fn a_place_that_is_not_the_tenants_alone_is_refused() -> TestResult {
    let main = shop(&[A, B]).await?;
    let own = TestDatabase::create().await?;
    let directory = fleet(&main, &own).await?;
    let owner = owner_pool(&main).await?;
    let admin = main.admin_pool().await?;
    let before = rows_outside(&admin, 0).await?;
    let schema = |name: &str| -> TestResult<Placement> {
        Ok(Placement::Schema(Identifier::new("schema", name)?))
    };
    let cases = [
        (7, schema("tenant_5")?, "another tenant's too"),
        (8, schema("public")?, "holds the shared tables"),
        (9, schema("tenancy")?, "holds the erasure records"),
        (10, schema("pg_catalog")?, "is not a tenant schema"),
        (
            11,
            Placement::Database(DatabaseUrl::new(main.app_url())?),
            "is the shared database",
        ),
        (
            12,
            Placement::Database(DatabaseUrl::new(own.app_url())?),
            "another tenant's too",
        ),
    ];
    for (key, placement, why) in cases {
        directory
            .put(KeyValue::I64(key), &TenantEntry::active(placement.clone()))
            .await?;
        match owner
            .remove_tenant(&tenant(key), &directory, &options())
            .await
        {
            Err(Error::Lifecycle(LifecycleError::RemovalRefused { tenant, reason })) => {
                assert_eq!(tenant, key.to_string());
                assert!(reason.contains(why), "{placement:?}: {reason}");
            }
            other => return Err(format!("{placement:?}: expected a refusal, got {other:?}").into()),
        }
        assert_eq!(
            status(&directory, key).await?,
            Some(TenantStatus::Active),
            "a refused removal changes nothing"
        );
    }
    assert_eq!(rows_outside(&admin, 0).await?, before, "no row changed");
    let schemas: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_5'")
            .fetch_one(&admin)
            .await?;
    assert_eq!(schemas, 1, "the schema tenant's schema is still there");
    // A database on a server nobody trusted: the owner's password is not
    // sent there (refused before any connection; the address is one that
    // answers no one, so a connection would hang the test).
    let elsewhere = foreign_server(&own.app_url());
    directory
        .put(
            KeyValue::I64(13),
            &TenantEntry::active(Placement::Database(DatabaseUrl::new(&elsewhere)?)),
        )
        .await?;
    let untrusted = owner
        .remove_tenant(&tenant(13), &directory, &options())
        .await
        .err();
    match untrusted {
        Some(Error::UntrustedDatabaseServer {
            server,
            owner_server,
        }) => {
            assert_eq!(server, "203.0.113.7:5432");
            assert_ne!(owner_server, server);
        }
        other => return Err(format!("expected an untrusted server, got {other:?}").into()),
    }
    assert_eq!(status(&directory, 13).await?, Some(TenantStatus::Active));
    let unknown = owner
        .remove_tenant(&tenant(99), &directory, &options())
        .await
        .err();
    assert!(
        matches!(unknown, Some(Error::TenantNotFound { .. })),
        "{unknown:?}"
    );
    Ok(())
}

/// `url` with its server replaced by one in TEST-NET-3, which no one
/// answers.
fn foreign_server(url: &str) -> String {
    let (scheme_and_user, rest) = url.split_once('@').unwrap_or(("postgres://x", url));
    let path = rest.find('/').map_or("", |at| &rest[at..]);
    format!("{scheme_and_user}@203.0.113.7:5432{path}")
}
