//! One entry point for the three placements: a tenant in the shared tables,
//! one in a schema of its own and one in a database of its own, each seeing
//! only its own rows through the same router and the same statements; the
//! directory's status and entries checked before anything is sent.

use std::time::Duration;

use sqlx::AssertSqlSafe;
use tenancy_sqlx::directory::{Placement, TenantDirectory, TenantEntry, TenantStatus};
use tenancy_sqlx::{Error, KeyValue, RouterOptions};
use tenancy_test::TestResult;
use tenancy_test::models::{D, Models, S, S_SCHEMA, router, visible_tenants};
use tenancy_test::shop::tables::Order;
use tenancy_test::shop::{A, B, ORDERS_PER_TENANT, tenant};

fn fresh_placements() -> RouterOptions {
    RouterOptions::new().placement_ttl(Duration::ZERO)
}

/// Every tenant, in every placement, with all four transactions open at
/// once: the builder and raw SQL see its own orders, all of them, and no
/// other tenant's.
#[tokio::test]
async fn each_placement_sees_its_own_rows_and_no_other() -> TestResult {
    let m = Models::new(RouterOptions::new()).await?;
    let mut open = Vec::new();
    for key in [A, B, S, D] {
        open.push(m.router.begin(&tenant(key)).await?);
    }
    for tx in &mut open {
        let key = tx.tenant().key();
        let (built, raw) = visible_tenants(tx).await?;
        let expected = vec![key; ORDERS_PER_TENANT as usize];
        assert_eq!((built, raw), (expected.clone(), expected), "tenant {key}");
    }
    for tx in open {
        tx.commit().await?;
    }
    Ok(())
}

/// A schema tenant's transaction pins the schema with `BEGIN`, in one
/// simple query, and its statements name the schema.
#[tokio::test]
async fn a_schema_tenant_is_pinned_in_the_same_simple_query() -> TestResult {
    let m = Models::new(RouterOptions::new()).await?;
    let tx = m.router.begin(&tenant(S)).await?;
    assert_eq!(tx.schema().as_str(), S_SCHEMA);
    let seen: Vec<String> = sqlx::query_scalar(
        "SELECT query FROM pg_stat_activity
         WHERE datname = $1 AND state = 'idle in transaction'",
    )
    .bind(m.main.name())
    .fetch_all(&m.admin)
    .await?;
    assert_eq!(
        seen,
        [
            r#"BEGIN; SET LOCAL "app"."tenant_id" = '3'; SET LOCAL search_path TO "tenant_3", pg_temp"#
        ]
    );
    tx.rollback().await?;
    Ok(())
}

/// Raw SQL that points `search_path` at the shared tables does not move
/// the schema tenant's built statements (they name their schema), and what
/// raw SQL then reads through the shared tables is filtered by the
/// policies: nothing of the shared tenants. A shared tenant naming the
/// schema tenant's tables outright sees none of their rows either.
#[tokio::test]
async fn no_statement_reaches_another_tenants_schema() -> TestResult {
    let m = Models::new(fresh_placements()).await?;
    let schema_tenant = tenant(S);
    let mut tx = m.router.begin(&schema_tenant).await?;
    sqlx::raw_sql("SET search_path = public")
        .execute(tx.raw_connection())
        .await?;
    let built: Vec<Order> = tx.fetch_all(Order::select(&schema_tenant)).await?;
    assert_eq!(built.len(), ORDERS_PER_TENANT as usize);
    assert!(built.iter().all(|order| order.tenant_id == S));
    for sql in [
        "SELECT tenant_id FROM orders",
        "SELECT tenant_id FROM public.orders",
    ] {
        let raw: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_all(tx.raw_connection())
            .await?;
        assert_eq!(raw, Vec::<i64>::new(), "{sql}");
    }
    tx.commit().await?;

    let mut tx = m.router.begin(&tenant(A)).await?;
    let raw: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM tenant_3.orders")
        .fetch_all(tx.raw_connection())
        .await?;
    assert_eq!(raw, Vec::<i64>::new());
    tx.commit().await?;

    // The next transaction of the schema tenant finds its schema pinned
    // again, whatever the last one did to the session.
    let mut tx = m.router.begin(&schema_tenant).await?;
    let (built, raw) = visible_tenants(&mut tx).await?;
    let expected = vec![S; ORDERS_PER_TENANT as usize];
    assert_eq!((built, raw), (expected.clone(), expected));
    tx.rollback().await?;
    Ok(())
}

/// A tenant that is suspended, being moved, deleted or unknown is refused
/// before anything is sent to its place, with an error that says which.
#[tokio::test]
async fn tenants_that_are_not_active_are_refused() -> TestResult {
    let m = Models::new(fresh_placements()).await?;
    for status in [
        TenantStatus::Suspended,
        TenantStatus::Moving,
        TenantStatus::Deleted,
    ] {
        for key in [A, S, D] {
            m.directory.set_status(KeyValue::I64(key), status).await?;
            let refused = m.router.begin(&tenant(key)).await.unwrap_err();
            assert!(
                matches!(&refused, Error::TenantUnavailable { tenant, status: seen }
                    if *tenant == KeyValue::I64(key) && *seen == status),
                "{refused}"
            );
            assert!(refused.to_string().contains(status.as_str()), "{refused}");
        }
    }
    m.directory
        .set_status(KeyValue::I64(S), TenantStatus::Active)
        .await?;
    m.router.begin(&tenant(S)).await?.commit().await?;

    let unknown = m.router.begin(&tenant(99)).await.unwrap_err();
    assert!(matches!(unknown, Error::TenantNotFound { tenant } if tenant == KeyValue::I64(99)));
    Ok(())
}

/// Within the placement lifetime the router uses what it read; after it,
/// it reads the directory again, so a suspension reaches it in that time.
#[tokio::test]
async fn placements_are_cached_for_their_lifetime_only() -> TestResult {
    let m = Models::new(RouterOptions::new().placement_ttl(Duration::from_millis(300))).await?;
    m.router.begin(&tenant(A)).await?.commit().await?;
    m.directory
        .set_status(KeyValue::I64(A), TenantStatus::Suspended)
        .await?;
    m.router.begin(&tenant(A)).await?.commit().await?;
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(matches!(
        m.router.begin(&tenant(A)).await,
        Err(Error::TenantUnavailable { .. })
    ));
    Ok(())
}

/// A directory row with a hostile schema name is never used: the router
/// refuses the tenant, and nothing of the name reaches SQL.
#[tokio::test]
async fn a_hostile_directory_entry_is_refused() -> TestResult {
    let m = Models::new(fresh_placements()).await?;
    sqlx::query(
        "UPDATE tenancy_tenants SET schema_name = 'tenant_3\"; DROP TABLE orders; --'
         WHERE tenant_key = '3'",
    )
    .execute(&m.main.owner_pool().await?)
    .await?;
    let refused = m.router.begin(&tenant(S)).await.unwrap_err();
    assert!(
        matches!(refused, Error::InvalidIdentifier { kind: "schema", .. }),
        "{refused}"
    );
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM public.orders")
        .fetch_one(&m.admin)
        .await?;
    assert_eq!(orders, 2 * ORDERS_PER_TENANT);
    Ok(())
}

/// A tenant database reached as a role that row-level security does not
/// confine (here its tables' owner) is refused like the shared pool's.
#[tokio::test]
async fn a_tenant_database_reached_as_a_privileged_role_is_refused() -> TestResult {
    let m = Models::new(fresh_placements()).await?;
    let url = tenancy_sqlx::directory::DatabaseUrl::new(m.own.owner_url())?;
    m.directory
        .put(
            KeyValue::I64(D),
            &TenantEntry::active(Placement::Database(url)),
        )
        .await?;
    let refused = m.router.begin(&tenant(D)).await.unwrap_err();
    assert!(matches!(refused, Error::PrivilegedRole { .. }), "{refused}");
    Ok(())
}

/// The provided directory lists what was put in it, validated.
#[tokio::test]
async fn the_table_directory_lists_its_entries() -> TestResult {
    let m = Models::new(fresh_placements()).await?;
    let listed = m.directory.list().await?;
    let kinds: Vec<(&str, &str)> = listed
        .iter()
        .map(|(key, entry)| (key.as_str(), entry.placement.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("1", "shared"),
            ("2", "shared"),
            ("3", "schema"),
            ("4", "database")
        ]
    );
    assert_eq!(
        m.directory.entry(KeyValue::I64(B)).await?,
        Some(TenantEntry::active(Placement::Shared))
    );
    // A second router over the same directory serves the same tenants.
    let other = router(&m.main, fresh_placements()).await?;
    other.begin(&tenant(D)).await?.rollback().await?;
    Ok(())
}
