//! A statement the library builds reaches the table its metadata describes,
//! even when a same-named table would be found first by an unqualified name:
//! a temporary table (searched before every schema, on PostgreSQL and on
//! SQLite alike), which any role that may connect can create with raw SQL.
//! Each test first shows that unqualified SQL *is* captured, so it can fail.

#![allow(missing_docs)] // a table struct of the tests

use sqlx::AssertSqlSafe;
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{
    CrossTenant, OwnerPool, Postgres, Sqlite, TenantId, TenantPool, TenantPoolOptions,
    TenantTransaction, tenant_scoped,
};
use tenancy_test::TestResult;

#[tenant_scoped]
#[derive(Debug, sqlx::FromRow)]
pub struct Note {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub body: String,
}

fn tables() -> TableSet {
    TableSet::new().with::<Note>()
}

fn capability() -> Result<CrossTenant, tenancy_sqlx::Error> {
    Ok(CrossTenant::with_reason("name resolution tests: set-up")?)
}

/// In tenant transaction `$tx`: writes a note, shadows `notes` with a
/// temporary table holding a note of its own, and checks that unqualified
/// raw SQL now reads the shadow while built statements still read and
/// write the real table. (A macro: the same steps on both backends.)
macro_rules! shadowed {
    ($tx:expr) => {{
        let tx = $tx;
        let tenant = *tx.tenant();
        tx.execute(
            Note::insert(&tenant)
                .set(Note::ID, 1)
                .set(Note::BODY, "real".to_owned()),
        )
        .await?;
        sqlx::raw_sql(
            "CREATE TEMPORARY TABLE notes (tenant_id BIGINT, id BIGINT, body TEXT);
             INSERT INTO notes VALUES (1, 99, 'shadow')",
        )
        .execute(&mut *tx.raw_connection())
        .await?;
        let unqualified: Vec<String> = sqlx::query_scalar("SELECT body FROM notes")
            .fetch_all(&mut *tx.raw_connection())
            .await?;
        assert_eq!(
            unqualified,
            ["shadow"],
            "the shadow does not capture raw SQL"
        );

        let read: Vec<Note> = tx.fetch_all(Note::select(&tenant)).await?;
        let bodies: Vec<&str> = read.iter().map(|note| note.body.as_str()).collect();
        assert_eq!(bodies, ["real"]);

        tx.execute(
            Note::insert(&tenant)
                .set(Note::ID, 2)
                .set(Note::BODY, "second".to_owned()),
        )
        .await?;
        tx.execute(
            Note::update(&tenant)
                .set(Note::BODY, "edited".to_owned())
                .filter(Note::ID.eq(1)),
        )
        .await?;
        tx.execute(Note::delete(&tenant).filter(Note::ID.eq(99)))
            .await?;
        let shadow: Vec<String> = sqlx::query_scalar("SELECT body FROM notes ORDER BY id")
            .fetch_all(&mut *tx.raw_connection())
            .await?;
        assert_eq!(shadow, ["shadow"], "a built write reached the shadow");
        let read: Vec<Note> = tx
            .fetch_all(Note::select(&tenant).order_by_asc(Note::ID))
            .await?;
        let bodies: Vec<&str> = read.iter().map(|note| note.body.as_str()).collect();
        assert_eq!(bodies, ["edited", "second"]);
    }};
}

#[tokio::test]
async fn a_temp_table_cannot_capture_statements_on_sqlite() -> TestResult {
    let pool =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&tables())).await?;
    pool.owner_pool(capability()?)
        .apply_schema(&tables())
        .await?;
    let tenant = TenantId::from_verified(1_i64);
    let mut tx: TenantTransaction<i64, Sqlite> = pool.begin(&tenant).await?;
    shadowed!(&mut tx);
    let main: Vec<String> = sqlx::query_scalar("SELECT body FROM main.notes ORDER BY id")
        .fetch_all(&mut *tx.raw_connection())
        .await?;
    assert_eq!(main, ["edited", "second"]);
    tx.rollback().await?;
    Ok(())
}

#[tokio::test]
async fn a_temp_table_cannot_capture_statements_on_postgres() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = OwnerPool::from_pool(db.owner_pool().await?, capability()?);
    owner
        .apply_schema(&tables(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    let pool =
        TenantPool::<Postgres>::connect(&db.app_url(), TenantPoolOptions::new(&tables())).await?;
    let tenant = TenantId::from_verified(1_i64);
    let mut tx = pool.begin(&tenant).await?;
    shadowed!(&mut tx);
    let public: Vec<String> = sqlx::query_scalar("SELECT body FROM public.notes ORDER BY id")
        .fetch_all(&mut *tx.raw_connection())
        .await?;
    assert_eq!(public, ["edited", "second"]);
    tx.commit().await?;
    Ok(())
}

/// A set placed in schema `shop`, with a same-named decoy table in `public`
/// (on the owner's and the application's `search_path`): the RLS DDL of
/// `apply_rls` names the table bare, and protects `shop.notes` only because
/// it runs with `search_path` pinned to the set's schema; the transactions
/// of a pool made with the set write to `shop.notes`, never to the decoy.
#[tokio::test]
async fn the_rls_ddl_and_the_statements_reach_the_sets_schema_not_the_search_paths() -> TestResult {
    use tenancy_sqlx::testing::OWNER_ROLE;
    use tenancy_sqlx::{Dialect, Identifier};

    let db = TestDatabase::create().await?;
    let admin = db.admin_pool().await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE SCHEMA shop AUTHORIZATION {OWNER_ROLE};
         GRANT USAGE ON SCHEMA shop TO {APP_ROLE};
         CREATE TABLE public.notes (tenant_id bigint, id bigint, body text);
         ALTER TABLE public.notes OWNER TO {OWNER_ROLE}"
    )))
    .execute(&admin)
    .await?;
    let tables = tables().in_schema(Identifier::new("schema", "shop")?);
    let owner = OwnerPool::from_pool(db.owner_pool().await?, capability()?);
    for statement in tables.create_statements(Dialect::Postgres)? {
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(owner.pool())
            .await?;
    }
    owner
        .apply_rls(&tables, &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    let protected: Vec<(String, bool)> = sqlx::query_as(
        "SELECT c.oid::regclass::text, c.relrowsecurity FROM pg_class c
         WHERE c.relname = 'notes' ORDER BY 1",
    )
    .fetch_all(&admin)
    .await?;
    assert_eq!(
        protected,
        [("notes".to_owned(), false), ("shop.notes".to_owned(), true)]
    );

    let pool =
        TenantPool::<Postgres>::connect(&db.app_url(), TenantPoolOptions::new(&tables)).await?;
    let tenant = TenantId::from_verified(1_i64);
    let mut tx = pool.begin(&tenant).await?;
    tx.execute(
        Note::insert(&tenant)
            .set(Note::ID, 1)
            .set(Note::BODY, "in shop".to_owned()),
    )
    .await?;
    let read: Vec<Note> = tx.fetch_all(Note::select(&tenant)).await?;
    tx.commit().await?;
    assert_eq!(read.len(), 1);
    let placed: Vec<(String, i64)> = sqlx::query_as(
        "SELECT 'shop', count(*) FROM shop.notes UNION ALL SELECT 'public', count(*) FROM public.notes",
    )
    .fetch_all(&admin)
    .await?;
    assert_eq!(placed, [("shop".to_owned(), 1), ("public".to_owned(), 0)]);
    Ok(())
}
