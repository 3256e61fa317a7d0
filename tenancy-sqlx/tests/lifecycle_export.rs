//! Export and import of one tenant, in its own tenant transaction: the
//! round trip export → erase → import gives back files with the same
//! checksums, on PostgreSQL and on SQLite; an import refuses another
//! tenant's export and a file that does not match its manifest; every
//! export can leave a record in the append-only export audit.

use std::path::Path;

use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tenancy_sqlx::lifecycle::{
    ErasureOptions, ExportManifest, ExportRecord, LifecycleError, MANIFEST_FILE,
};
use tenancy_sqlx::testing::APP_ROLE;
use tenancy_sqlx::{CrossTenant, Error, TenantPool, TenantPoolOptions};
use tenancy_test::TestResult;
use tenancy_test::shop::tables::{Customer, Order, OrderItem, table_set};
use tenancy_test::shop::{
    customer, free_plan, order, owner_pool, rows_outside, shop, tenant, tenant_pool,
};
use tenancy_test::sql::{INSUFFICIENT_PRIVILEGE, execute, server_message, sqlstate};

/// The checksums of an export, per table.
fn checksums(manifest: &ExportManifest) -> Vec<(String, u64, String)> {
    manifest
        .tables
        .iter()
        .map(|table| (table.table.clone(), table.rows, table.sha256.clone()))
        .collect()
}

#[tokio::test]
async fn postgres_export_erase_import_gives_back_the_same_rows() -> TestResult {
    let db = shop(&[1, 2]).await?;
    let pool = tenant_pool(&db).await?;
    let admin = db.admin_pool().await?;
    let others = rows_outside(&admin, 1).await?;
    let dir = tempfile::tempdir()?;

    let mut tx = pool.begin(&tenant(1)).await?;
    let exported = tx.export_tenant(&table_set(), dir.path()).await?;
    tx.commit().await?;
    let tables: Vec<(&str, u64)> = exported
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t.rows))
        .collect();
    // Foreign-key order; the global `plans` is no tenant's.
    assert_eq!(
        tables,
        [("customers", 3), ("orders", 4), ("order_items", 8)]
    );
    let first = std::fs::read_to_string(dir.path().join("customers.ndjson"))?;
    assert!(
        first
            .lines()
            .all(|line| line.contains("\"tenant_id\" : 1") || line.contains("\"tenant_id\": 1")),
        "{first}"
    );

    let owner = owner_pool(&db).await?;
    owner
        .erase_tenant(&tenant(1), &ErasureOptions::new(&table_set()))
        .await?;
    let mut tx = pool.begin(&tenant(1)).await?;
    let left: Vec<Customer> = tx.fetch_all(Customer::select(tx.tenant())).await?;
    assert!(left.is_empty());
    tx.import_tenant(&table_set(), dir.path()).await?;
    tx.commit().await?;

    let again = tempfile::tempdir()?;
    let mut tx = pool.begin(&tenant(1)).await?;
    let reexported = tx.export_tenant(&table_set(), again.path()).await?;
    tx.commit().await?;
    assert_eq!(checksums(&reexported), checksums(&exported));
    assert_eq!(
        rows_outside(&admin, 1).await?,
        others,
        "no other tenant's row changed"
    );
    Ok(())
}

/// A tenant's export, written by the test.
async fn exported_tenant_one(pool: &TenantPool, dir: &Path) -> TestResult<ExportManifest> {
    let mut tx = pool.begin(&tenant(1)).await?;
    let manifest = tx.export_tenant(&table_set(), dir).await?;
    tx.commit().await?;
    Ok(manifest)
}

#[tokio::test]
async fn an_import_refuses_another_tenants_export_and_a_changed_file() -> TestResult {
    let db = shop(&[1, 2]).await?;
    let pool = tenant_pool(&db).await?;
    let dir = tempfile::tempdir()?;
    exported_tenant_one(&pool, dir.path()).await?;

    let mut tx = pool.begin(&tenant(2)).await?;
    match tx.import_tenant(&table_set(), dir.path()).await {
        Err(Error::Lifecycle(LifecycleError::InvalidExport(message))) => {
            assert!(message.contains("of tenant 1"), "{message}")
        }
        other => return Err(format!("expected InvalidExport, got {other:?}").into()),
    }
    drop(tx);

    // Tenant 1 after an erasure, from a file changed by one byte.
    owner_pool(&db)
        .await?
        .erase_tenant(&tenant(1), &ErasureOptions::new(&table_set()))
        .await?;
    let file = dir.path().join("orders.ndjson");
    let changed = std::fs::read_to_string(&file)?.replacen("open", "paid", 1);
    std::fs::write(&file, changed)?;
    let mut tx = pool.begin(&tenant(1)).await?;
    match tx.import_tenant(&table_set(), dir.path()).await {
        Err(Error::Lifecycle(LifecycleError::InvalidExport(message))) => {
            assert!(
                message.contains("orders.ndjson") && message.contains("the manifest says"),
                "{message}"
            )
        }
        other => return Err(format!("expected InvalidExport, got {other:?}").into()),
    }
    drop(tx);
    let mut tx = pool.begin(&tenant(1)).await?;
    let customers: Vec<Customer> = tx.fetch_all(Customer::select(tx.tenant())).await?;
    assert!(customers.is_empty(), "the failed import left nothing");
    tx.commit().await?;
    assert!(std::fs::metadata(dir.path().join(MANIFEST_FILE)).is_ok());
    Ok(())
}

#[tokio::test]
async fn sqlite_export_delete_import_gives_back_the_same_rows() -> TestResult {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("shop.db").display());
    let pool: TenantPool<Sqlite> = TenantPool::connect_sqlite_with(
        SqlitePoolOptions::new().max_connections(2),
        url.parse::<SqliteConnectOptions>()?,
        TenantPoolOptions::new(&table_set()),
    )
    .await?;
    let owner = pool.owner_pool(CrossTenant::with_reason("test set-up")?);
    owner.apply_schema(&table_set()).await?;
    owner.execute(free_plan()).await?;
    for key in [1, 2] {
        let tenant = tenant(key);
        let mut tx = pool.begin(&tenant).await?;
        for who in ["ann", "bob"] {
            let added: Customer = tx
                .fetch_one(customer(&tenant, &format!("{who}@t{key}.test")).returning_all())
                .await?;
            tx.execute(order(&tenant, added.id, "open")).await?;
        }
        tx.commit().await?;
    }
    let files = tempfile::tempdir()?;
    let mut tx = pool.begin(&tenant(1)).await?;
    let exported = tx.export_tenant(&table_set(), files.path()).await?;
    tx.execute(OrderItem::delete(tx.tenant())).await?;
    tx.execute(Order::delete(tx.tenant())).await?;
    tx.execute(Customer::delete(tx.tenant())).await?;
    tx.commit().await?;
    let rows: Vec<(&str, u64)> = exported
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t.rows))
        .collect();
    assert_eq!(rows, [("customers", 2), ("orders", 2), ("order_items", 0)]);

    let mut tx = pool.begin(&tenant(1)).await?;
    assert!(
        tx.fetch_all::<Customer>(Customer::select(tx.tenant()))
            .await?
            .is_empty()
    );
    tx.import_tenant(&table_set(), files.path()).await?;
    tx.commit().await?;
    let again = tempfile::tempdir()?;
    let mut tx = pool.begin(&tenant(1)).await?;
    let reexported = tx.export_tenant(&table_set(), again.path()).await?;
    tx.commit().await?;
    assert_eq!(checksums(&reexported), checksums(&exported));
    let mut tx = pool.begin(&tenant(2)).await?;
    let theirs: Vec<Customer> = tx.fetch_all(Customer::select(tx.tenant())).await?;
    tx.commit().await?;
    assert_eq!(theirs.len(), 2);
    Ok(())
}

#[tokio::test]
async fn every_export_leaves_a_record_the_application_role_cannot_change() -> TestResult {
    let db = shop(&[1, 2]).await?;
    let owner = owner_pool(&db).await?;
    owner.install_records(Some(APP_ROLE)).await?;
    let pool = tenant_pool(&db).await?;
    let dir = tempfile::tempdir()?;
    let mut tx = pool.begin(&tenant(1)).await?;
    let manifest = tx.export_tenant(&table_set(), dir.path()).await?;
    let record = ExportRecord {
        actor: "support: ann".to_owned(),
        purpose: "ticket 42: data portability request".to_owned(),
        filter: "all".to_owned(),
    };
    tx.record_export(&record, &manifest).await?;
    tx.commit().await?;

    let admin = db.admin_pool().await?;
    let (actor, tenant_key, counts, statements): (String, String, String, String) = sqlx::query_as(
        "SELECT actor, tenant, row_counts, statements FROM tenancy.tenant_export_audit",
    )
    .fetch_one(&admin)
    .await?;
    assert_eq!((actor.as_str(), tenant_key.as_str()), ("support: ann", "1"));
    assert_eq!(counts, r#"{"customers":3,"order_items":8,"orders":4}"#);
    assert!(
        statements.contains("FROM \"public\".\"orders\" t WHERE t.\"tenant_id\" = $1"),
        "{statements}"
    );

    // The application role may insert, and nothing else.
    let app = db.app_pool().await?;
    for statement in [
        "UPDATE tenancy.tenant_export_audit SET actor = 'nobody'",
        "DELETE FROM tenancy.tenant_export_audit",
        "TRUNCATE tenancy.tenant_export_audit",
        "SELECT * FROM tenancy.tenant_export_audit",
    ] {
        // Refused by the grants (not only by the trigger, which would
        // leave SELECT open).
        let refused = execute(&app, statement).await;
        assert_eq!(
            refused.as_ref().err().and_then(sqlstate).as_deref(),
            Some(INSUFFICIENT_PRIVILEGE),
            "{statement}: {refused:?}"
        );
        let message = refused
            .err()
            .map(|error| server_message(&error))
            .unwrap_or_default();
        assert!(
            message.contains("permission denied"),
            "{statement}: {message}"
        );
    }
    // Not even the owner can rewrite it.
    let refused = execute(owner.pool(), "DELETE FROM tenancy.tenant_export_audit").await;
    assert!(
        format!("{refused:?}").contains("append-only"),
        "{refused:?}"
    );
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM tenancy.tenant_export_audit")
        .fetch_one(&admin)
        .await?;
    assert_eq!(kept, 1);
    Ok(())
}
