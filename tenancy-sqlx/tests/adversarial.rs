//! Attacks on the adapter through its public API: session state that raw
//! SQL leaves on a pooled connection, and hand-made columns on SQLite.

mod support;

use sqlx::Executor;
use support::tables::{Customer, table_set};
use support::{TestResult, database_with_tables, single_connection_pool};
use tenancy_sqlx::testing::TestDatabase;
use tenancy_sqlx::{Error, TenantId, TenantPool, TenantPoolOptions, TenantTransaction};

type BoxError = Box<dyn std::error::Error>;

fn options() -> TenantPoolOptions {
    TenantPoolOptions::new().tables(&table_set())
}

/// The backend serving a connection.
async fn backend_pid(connection: &mut sqlx::PgConnection) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(connection)
        .await
}

/// Tenant 1 adds a customer, then, through raw SQL, keeps its customers in
/// a temporary table and a held cursor, and commits. Tenant 2 then begins on
/// the same pooled connection, which is checked to be the same backend (it
/// was cleaned, not replaced).
async fn next_tenant_after_raw_sql(
    db: &TestDatabase,
    application_name: &str,
) -> Result<TenantTransaction, BoxError> {
    let pool = single_connection_pool(db, application_name, options()).await?;
    let a = TenantId::from_verified(1);
    let mut tx = pool.begin(&a).await?;
    tx.execute(Customer::insert(&a).set(Customer::EMAIL, "secret@tenant-one.test".to_owned()))
        .await?;
    sqlx::raw_sql(
        "CREATE TEMP TABLE IF NOT EXISTS scratch AS SELECT email FROM customers;
         DECLARE held CURSOR WITH HOLD FOR SELECT email FROM customers",
    )
    .execute(tx.raw_connection())
    .await?;
    let first = backend_pid(tx.raw_connection()).await?;
    tx.commit().await?;

    let mut tx = pool.begin(&TenantId::from_verified(2)).await?;
    assert_eq!(backend_pid(tx.raw_connection()).await?, first);
    Ok(tx)
}

#[tokio::test]
async fn a_temporary_table_made_by_raw_sql_does_not_reach_the_next_tenant() -> TestResult {
    let db = database_with_tables().await?;
    let mut tx = next_tenant_after_raw_sql(&db, "adversarial-temp").await?;
    // Tenant 2's raw SQL, written the same careless way.
    let emails: Vec<String> = async {
        tx.raw_connection()
            .execute("CREATE TEMP TABLE IF NOT EXISTS scratch AS SELECT email FROM customers")
            .await?;
        sqlx::query_scalar("SELECT email FROM scratch")
            .fetch_all(tx.raw_connection())
            .await
    }
    .await?;
    assert_eq!(
        emails,
        Vec::<String>::new(),
        "tenant 1's rows reached tenant 2"
    );
    tx.rollback().await?;
    Ok(())
}

#[tokio::test]
async fn a_held_cursor_opened_by_raw_sql_does_not_reach_the_next_tenant() -> TestResult {
    let db = database_with_tables().await?;
    let mut tx = next_tenant_after_raw_sql(&db, "adversarial-cursor").await?;
    let held: Vec<String> = sqlx::query_scalar("SELECT name FROM pg_cursors WHERE is_holdable")
        .fetch_all(tx.raw_connection())
        .await?;
    assert_eq!(
        held,
        Vec::<String>::new(),
        "tenant 1's held cursor reached tenant 2"
    );
    tx.rollback().await?;
    Ok(())
}

/// On SQLite, identifiers match in any case even when quoted: a hand-made
/// column `"TENANT_ID"` is the tenant column there, and an UPDATE setting it
/// would move the tenant's rows to another tenant. It is refused before
/// anything is sent.
#[tokio::test]
async fn a_respelled_tenant_column_cannot_move_rows_on_sqlite() -> TestResult {
    use tenancy_sqlx::ddl::TableSet;
    use tenancy_sqlx::{BuildError, Column, CrossTenant, Sqlite, Update};

    let pool = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new()).await?;
    pool.owner_pool(CrossTenant::with_reason("test set-up"))
        .apply_schema(&TableSet::new().with::<Customer>())
        .await?;
    let a = TenantId::from_verified(1);
    let mut tx: TenantTransaction<i64, Sqlite> = pool.begin(&a).await?;
    tx.execute(Customer::insert(&a).set(Customer::EMAIL, "ann@tenant-one.test".to_owned()))
        .await?;

    let respelled = Column::<Customer, i64>::new("TENANT_ID");
    let moved = tx
        .execute(Update::<Customer>::scoped(&a).set(respelled, 2))
        .await;
    assert!(
        matches!(
            moved,
            Err(Error::Build(BuildError::TenantColumnAssigned {
                table: "customers",
                column: "TENANT_ID"
            }))
        ),
        "{moved:?}"
    );
    let tenants: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM customers")
        .fetch_all(tx.raw_connection())
        .await?;
    assert_eq!(tenants, [1]);
    tx.commit().await?;
    Ok(())
}
