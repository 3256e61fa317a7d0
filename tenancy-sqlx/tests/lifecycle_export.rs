//! Export and import of one tenant, in its own tenant transaction: the
//! round trip export → erase → import gives back files with the same
//! checksums, in NDJSON and in CSV, on PostgreSQL and on SQLite; values
//! that CSV must quote (commas, quotes, line breaks, the empty string
//! beside NULL, bytes) come back equal; an import refuses another tenant's
//! export and a file that does not match its manifest, before it inserts
//! anything; every export can leave a record in the append-only export
//! audit, which follows the tenant when it moves to another database.

use std::path::Path;

use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tenancy_sqlx::lifecycle::{
    ErasureOptions, ExportFormat, ExportManifest, ExportRecord, LifecycleError, MANIFEST_FILE,
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
    let owner = owner_pool(&db).await?;
    let others = rows_outside(&admin, 1).await?;
    let ndjson = tempfile::tempdir()?;
    let csv = tempfile::tempdir()?;

    let mut tx = pool.begin(&tenant(1)).await?;
    let exported = tx
        .export_tenant(&table_set(), ndjson.path(), ExportFormat::Ndjson)
        .await?;
    let exported_csv = tx
        .export_tenant(&table_set(), csv.path(), ExportFormat::Csv)
        .await?;
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
    let first = std::fs::read_to_string(ndjson.path().join("customers.ndjson"))?;
    assert!(
        first
            .lines()
            .all(|line| line.contains("\"tenant_id\" : 1") || line.contains("\"tenant_id\": 1")),
        "{first}"
    );
    let csv_orders = std::fs::read_to_string(csv.path().join("orders.csv"))?;
    let mut lines = csv_orders.lines();
    assert_eq!(
        lines.next(),
        Some(r#""tenant_id","id","customer_id","status","total_cents""#)
    );
    assert!(
        lines.all(|line| line.starts_with(r#""1","#)),
        "{csv_orders}"
    );
    assert_eq!(exported_csv.format, "tenancy-export-csv/1");

    // Each format restores what the other's export wrote: the CSV after an
    // erasure, the NDJSON after the tenant deleted its rows itself.
    for (restore, name) in [(&csv, "csv"), (&ndjson, "ndjson")] {
        if name == "csv" {
            owner
                .erase_tenant(&tenant(1), &ErasureOptions::new(&table_set()))
                .await?;
        } else {
            let mut tx = pool.begin(&tenant(1)).await?;
            tx.execute(OrderItem::delete(tx.tenant())).await?;
            tx.execute(Order::delete(tx.tenant())).await?;
            tx.execute(Customer::delete(tx.tenant())).await?;
            tx.commit().await?;
        }
        let mut tx = pool.begin(&tenant(1)).await?;
        let left: Vec<Customer> = tx.fetch_all(Customer::select(tx.tenant())).await?;
        assert!(left.is_empty());
        tx.import_tenant(&table_set(), restore.path()).await?;
        tx.commit().await?;

        let again = tempfile::tempdir()?;
        let mut tx = pool.begin(&tenant(1)).await?;
        let reexported = tx
            .export_tenant(&table_set(), again.path(), ExportFormat::Ndjson)
            .await?;
        tx.commit().await?;
        assert_eq!(
            checksums(&reexported),
            checksums(&exported),
            "after the {name} import"
        );
        assert_eq!(
            rows_outside(&admin, 1).await?,
            others,
            "no other tenant's row changed"
        );
    }
    Ok(())
}

/// A tenant's export, written by the test.
async fn exported_tenant_one(pool: &TenantPool, dir: &Path) -> TestResult<ExportManifest> {
    let mut tx = pool.begin(&tenant(1)).await?;
    let manifest = tx
        .export_tenant(&table_set(), dir, ExportFormat::Ndjson)
        .await?;
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
                message.contains("orders.ndjson: SHA-256") && message.contains("the manifest says"),
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
    let exported = tx
        .export_tenant(&table_set(), files.path(), ExportFormat::Csv)
        .await?;
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
    let reexported = tx
        .export_tenant(&table_set(), again.path(), ExportFormat::Csv)
        .await?;
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
    let manifest = tx
        .export_tenant(&table_set(), dir.path(), ExportFormat::Ndjson)
        .await?;
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

/// Tenant `key`'s export of every table, recorded in the export audit of
/// `db` with `purpose`.
async fn record_an_export(
    db: &tenancy_sqlx::testing::TestDatabase,
    key: i64,
    purpose: &str,
) -> TestResult {
    let pool = tenant_pool(db).await?;
    let dir = tempfile::tempdir()?;
    let mut tx = pool.begin(&tenant(key)).await?;
    let manifest = tx
        .export_tenant(&table_set(), dir.path(), ExportFormat::Ndjson)
        .await?;
    let record = ExportRecord {
        actor: "support: ann".to_owned(),
        purpose: purpose.to_owned(),
        filter: "all".to_owned(),
    };
    tx.record_export(&record, &manifest).await?;
    tx.commit().await?;
    Ok(())
}

/// `placement` in `db`, as its application role and its owner.
async fn place_in(
    db: &tenancy_sqlx::testing::TestDatabase,
    placement: tenancy_sqlx::directory::Placement,
) -> TestResult<tenancy_sqlx::moves::Place> {
    Ok(tenancy_sqlx::moves::Place::new(
        placement,
        db.app_pool().await?,
        db.owner_pool().await?,
    ))
}

/// Tenant `key`'s export audit records in `pool`'s database, oldest first,
/// every column but the id.
async fn audit_of(
    pool: &sqlx::PgPool,
    key: i64,
) -> TestResult<Vec<(String, String, String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT recorded_at::text, actor, purpose, row_counts, statements \
         FROM tenancy.tenant_export_audit WHERE tenant = $1 ORDER BY id",
    )
    .bind(key.to_string())
    .fetch_all(pool)
    .await?)
}

/// A tenant that moves to a database of its own takes its export audit
/// along: the target's audit holds each of its records as it was recorded
/// (time, actor, purpose, counts, statements), and no other tenant's; the
/// source keeps them, as the append-only audit requires. Moving back (to a
/// database that has the records already) adds none twice. A move to a
/// database without an export audit is refused before anything changes.
#[tokio::test]
async fn the_export_audit_follows_a_tenant_to_its_own_database() -> TestResult {
    use std::time::Duration;
    use tenancy_sqlx::KeyValue;
    use tenancy_sqlx::directory::{DatabaseUrl, Placement, TenantDirectory, TenantEntry};
    use tenancy_sqlx::moves::{MoveOptions, TenantMover};
    use tenancy_test::models::Models;
    use tenancy_test::shop::{A, B};

    let m =
        Models::new(tenancy_sqlx::RouterOptions::new().placement_ttl(Duration::from_millis(100)))
            .await?;
    let own = shop(&[]).await?;
    let bare = shop(&[]).await?;
    for db in [&m.main, &own] {
        owner_pool(db)
            .await?
            .install_records(Some(APP_ROLE))
            .await?;
    }
    record_an_export(&m.main, A, "ticket 1").await?;
    record_an_export(&m.main, B, "ticket 2").await?;
    record_an_export(&m.main, A, "ticket 3").await?;
    let recorded = audit_of(&m.admin, A).await?;
    assert_eq!(recorded.len(), 2, "{recorded:?}");

    let shared = place_in(&m.main, Placement::Shared).await?;
    let database = place_in(&own, Placement::Database(DatabaseUrl::new(own.app_url())?)).await?;
    let without_audit = place_in(
        &bare,
        Placement::Database(DatabaseUrl::new(bare.app_url())?),
    )
    .await?;
    let mover = TenantMover::new(
        m.directory.clone(),
        &table_set(),
        MoveOptions::new().settle(Duration::from_millis(150)),
    )?;

    // Nowhere for the records to go: refused, the tenant still served at
    // its place with every row.
    let refused = mover
        .move_tenant(KeyValue::I64(A), &shared, &without_audit)
        .await;
    match refused {
        Err(Error::MoveRefused { reason, .. }) => {
            assert!(reason.contains("install_records"), "{reason}")
        }
        other => return Err(format!("expected MoveRefused, got {other:?}").into()),
    }
    assert_eq!(
        m.directory.entry(KeyValue::I64(A)).await?,
        Some(TenantEntry::active(Placement::Shared))
    );

    mover
        .move_tenant(KeyValue::I64(A), &shared, &database)
        .await?;
    let own_admin = own.admin_pool().await?;
    assert_eq!(audit_of(&own_admin, A).await?, recorded);
    assert!(audit_of(&own_admin, B).await?.is_empty());
    assert_eq!(
        audit_of(&m.admin, A).await?,
        recorded,
        "the source keeps its records"
    );

    // An export at the new place is recorded there; moving back carries it
    // and nothing twice.
    record_an_export(&own, A, "ticket 4").await?;
    mover
        .move_tenant(KeyValue::I64(A), &database, &shared)
        .await?;
    let back = audit_of(&m.admin, A).await?;
    assert_eq!(back.len(), 3, "{back:?}");
    assert_eq!(back[..2], recorded[..]);
    assert_eq!(back[2].2, "ticket 4");
    assert_eq!(audit_of(&own_admin, A).await?.len(), 3);
    assert_eq!(audit_of(&m.admin, B).await?.len(), 1);
    Ok(())
}

mod notes {
    use tenancy_sqlx::ddl::TableSet;
    use tenancy_sqlx::tenant_scoped;

    /// Values a CSV file has to quote, and the columns it must not confuse.
    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Note {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub body: Option<String>,
        pub raw: Option<Vec<u8>>,
        pub pinned: bool,
        pub weight: f64,
        pub rank: i32,
    }

    pub fn table_set() -> TableSet {
        TableSet::new().with::<Note>()
    }
}

/// Tenant `key`'s notes: text with commas, quotes and line breaks, the
/// empty string beside NULL, empty and absent bytes, extreme numbers.
fn hostile_notes(key: i64) -> Vec<notes::Note> {
    let note = |id, body: Option<&str>, raw: Option<&[u8]>, weight, rank| notes::Note {
        tenant_id: key,
        id,
        body: body.map(str::to_owned),
        raw: raw.map(<[u8]>::to_vec),
        pinned: id % 2 == 0,
        weight,
        rank,
    };
    vec![
        note(1, Some("a, b"), Some(&[0, 1, 255]), 0.1 + 0.2, -3),
        note(
            2,
            Some("say \"hi\"\nand go\r\n"),
            Some(&[]),
            1e300,
            i32::MAX,
        ),
        note(3, Some(""), None, -1.5, i32::MIN),
        note(4, None, Some(b"\",\n"), f64::MIN_POSITIVE, 0),
        note(5, Some("\"\""), Some(b"\\x00"), 12.5, 7),
    ]
}

#[tokio::test]
async fn postgres_csv_gives_back_values_it_must_quote() -> TestResult {
    use notes::Note;
    use tenancy_sqlx::rls::RlsPolicy;
    use tenancy_sqlx::testing::TestDatabase;
    use tenancy_sqlx::{OwnerPool, Postgres};

    let db = TestDatabase::create().await?;
    let tables = notes::table_set();
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("notes set-up")?,
    )
    .with_tables(&tables);
    owner
        .apply_schema(&tables, &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    let pool =
        TenantPool::<Postgres>::connect(&db.app_url(), TenantPoolOptions::new(&tables)).await?;
    for key in [1, 2] {
        let mut tx = pool.begin(&tenant(key)).await?;
        tx.execute(Note::insert(tx.tenant()).rows(&hostile_notes(key)))
            .await?;
        tx.commit().await?;
    }
    let dir = tempfile::tempdir()?;
    let mut tx = pool.begin(&tenant(1)).await?;
    let exported = tx
        .export_tenant(&tables, dir.path(), ExportFormat::Csv)
        .await?;
    tx.execute(Note::delete(tx.tenant())).await?;
    tx.commit().await?;
    assert_eq!(exported.tables[0].rows, 5);

    let mut tx = pool.begin(&tenant(1)).await?;
    tx.import_tenant(&tables, dir.path()).await?;
    let back: Vec<Note> = tx
        .fetch_all(Note::select(tx.tenant()).order_by_asc(Note::ID))
        .await?;
    tx.commit().await?;
    assert_eq!(back, hostile_notes(1));
    let mut tx = pool.begin(&tenant(2)).await?;
    let theirs: Vec<Note> = tx
        .fetch_all(Note::select(tx.tenant()).order_by_asc(Note::ID))
        .await?;
    assert_eq!(theirs, hostile_notes(2), "no other tenant's row changed");
    Ok(())
}

#[tokio::test]
async fn sqlite_csv_gives_back_values_it_must_quote() -> TestResult {
    use notes::Note;

    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("notes.db").display()
    );
    let tables = notes::table_set();
    let pool: TenantPool<Sqlite> = TenantPool::connect_sqlite_with(
        SqlitePoolOptions::new().max_connections(2),
        url.parse::<SqliteConnectOptions>()?,
        TenantPoolOptions::new(&tables),
    )
    .await?;
    pool.owner_pool(CrossTenant::with_reason("notes set-up")?)
        .apply_schema(&tables)
        .await?;
    for key in [1, 2] {
        let mut tx = pool.begin(&tenant(key)).await?;
        tx.execute(Note::insert(tx.tenant()).rows(&hostile_notes(key)))
            .await?;
        tx.commit().await?;
    }
    let files = tempfile::tempdir()?;
    let mut tx = pool.begin(&tenant(1)).await?;
    tx.export_tenant(&tables, files.path(), ExportFormat::Csv)
        .await?;
    tx.execute(Note::delete(tx.tenant())).await?;
    tx.commit().await?;

    let mut tx = pool.begin(&tenant(1)).await?;
    tx.import_tenant(&tables, files.path()).await?;
    let back: Vec<Note> = tx
        .fetch_all(Note::select(tx.tenant()).order_by_asc(Note::ID))
        .await?;
    tx.commit().await?;
    assert_eq!(back, hostile_notes(1));
    let mut tx = pool.begin(&tenant(2)).await?;
    let theirs: Vec<Note> = tx
        .fetch_all(Note::select(tx.tenant()).order_by_asc(Note::ID))
        .await?;
    assert_eq!(theirs, hostile_notes(2), "no other tenant's row changed");
    Ok(())
}

#[tokio::test]
async fn a_csv_import_refuses_a_changed_header_before_inserting() -> TestResult {
    let db = shop(&[1, 2]).await?;
    let pool = tenant_pool(&db).await?;
    let dir = tempfile::tempdir()?;
    let mut tx = pool.begin(&tenant(1)).await?;
    let manifest = tx
        .export_tenant(&table_set(), dir.path(), ExportFormat::Csv)
        .await?;
    tx.execute(OrderItem::delete(tx.tenant())).await?;
    tx.execute(Order::delete(tx.tenant())).await?;
    tx.execute(Customer::delete(tx.tenant())).await?;
    tx.commit().await?;

    // Columns swapped in the header and the manifest's checksum updated to
    // match: the checksum cannot catch it, the header check does.
    let file = dir.path().join("orders.csv");
    let text = std::fs::read_to_string(&file)?.replacen(
        r#""status","total_cents""#,
        r#""total_cents","status""#,
        1,
    );
    std::fs::write(&file, &text)?;
    let mut changed = manifest.clone();
    for table in &mut changed.tables {
        if table.file == "orders.csv" {
            use sha2::Digest;
            table.sha256 = sha2::Sha256::digest(text.as_bytes())
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
        }
    }
    std::fs::write(
        dir.path().join(MANIFEST_FILE),
        serde_json::to_string(&changed)?,
    )?;
    let mut tx = pool.begin(&tenant(1)).await?;
    match tx.import_tenant(&table_set(), dir.path()).await {
        Err(Error::Lifecycle(LifecycleError::InvalidExport(message))) => {
            assert!(message.contains("orders.csv: the header is"), "{message}")
        }
        other => return Err(format!("expected InvalidExport, got {other:?}").into()),
    }
    drop(tx);
    let mut tx = pool.begin(&tenant(1)).await?;
    let customers: Vec<Customer> = tx.fetch_all(Customer::select(tx.tenant())).await?;
    assert!(
        customers.is_empty(),
        "nothing was inserted, not even the customers"
    );
    Ok(())
}

/// A table with the tenant column that the application never registered:
/// the erasure empties it, so the export must carry it.
const TICKETS: &str = "CREATE TABLE support_tickets (
        tenant_id bigint NOT NULL, id bigint NOT NULL, subject text,
        PRIMARY KEY (tenant_id, id));
    INSERT INTO support_tickets VALUES
        (1, 1, 'cannot log in'), (1, 2, NULL), (2, 1, 'tenant two, keep me');";

async fn tickets(
    db: &tenancy_sqlx::testing::TestDatabase,
) -> TestResult<Vec<(i64, i64, Option<String>)>> {
    Ok(
        sqlx::query_as("SELECT tenant_id, id, subject FROM support_tickets ORDER BY 1, 2")
            .fetch_all(&db.admin_pool().await?)
            .await?,
    )
}

#[tokio::test]
async fn an_unregistered_table_with_the_tenant_column_is_exported_and_imported() -> TestResult {
    let db = shop(&[1, 2]).await?;
    let owner = db.owner_pool().await?;
    sqlx::raw_sql(TICKETS).execute(&owner).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "GRANT SELECT, INSERT ON support_tickets TO {APP_ROLE}"
    )))
    .execute(&owner)
    .await?;
    let all = tickets(&db).await?;
    let pool = tenant_pool(&db).await?;
    for format in [ExportFormat::Ndjson, ExportFormat::Csv] {
        let dir = tempfile::tempdir()?;
        let mut tx = pool.begin(&tenant(1)).await?;
        let manifest = tx.export_tenant(&table_set(), dir.path(), format).await?;
        tx.commit().await?;
        let names: Vec<(&str, u64)> = manifest
            .tables
            .iter()
            .map(|t| (t.table.as_str(), t.rows))
            .collect();
        assert_eq!(
            names,
            [
                ("customers", 3),
                ("orders", 4),
                ("order_items", 8),
                ("public.support_tickets", 2)
            ],
            "{format:?}"
        );
        owner_pool(&db)
            .await?
            .erase_tenant(&tenant(1), &ErasureOptions::new(&table_set()))
            .await?;
        assert_eq!(tickets(&db).await?, all[2..], "the erasure emptied it");
        let mut tx = pool.begin(&tenant(1)).await?;
        tx.import_tenant(&table_set(), dir.path()).await?;
        tx.commit().await?;
        assert_eq!(
            tickets(&db).await?,
            all,
            "{format:?}: the import brought it back"
        );
    }
    Ok(())
}

#[tokio::test]
async fn an_export_refuses_a_tenant_table_its_role_cannot_read() -> TestResult {
    let db = shop(&[1, 2]).await?;
    sqlx::raw_sql(TICKETS)
        .execute(&db.owner_pool().await?)
        .await?;
    let pool = tenant_pool(&db).await?;
    let dir = tempfile::tempdir()?;
    let mut tx = pool.begin(&tenant(1)).await?;
    match tx
        .export_tenant(&table_set(), dir.path(), ExportFormat::Ndjson)
        .await
    {
        Err(Error::Lifecycle(LifecycleError::InvalidExport(message))) => assert!(
            message.contains("public.support_tickets has the tenant column tenant_id")
                && message.contains("cannot read it"),
            "{message}"
        ),
        other => return Err(format!("expected a refusal, got {other:?}").into()),
    }
    Ok(())
}
