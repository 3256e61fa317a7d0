//! The generated policy confines raw SQL to the transaction's tenant, at
//! Row Level Security's edges too: no tenant set, rows moved or planted in
//! another tenant, the table owner, RETURNING, ON CONFLICT, COPY, views and
//! `row_security = off`. Each test runs the application as the application
//! role; where PostgreSQL's row-security regression tests
//! (`src/test/regress/sql/rowsecurity.sql`) pin a behaviour down, the test
//! asserts that behaviour under the library's policy.

use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use tenancy_sqlx::rls::{RlsPolicy, isolation_predicate};
use tenancy_sqlx::testing::APP_ROLE;
use tenancy_sqlx::{Error, Identifier, SettingName};
use tenancy_test::TestResult;
use tenancy_test::server::single_connection_pool;
use tenancy_test::shop::tables::Order;
use tenancy_test::shop::{
    A, B, customer, owner_pool, pool_options, rows_outside, shop, shop_with_policy, tenant,
    tenant_pool,
};
use tenancy_test::sql::{
    INSUFFICIENT_PRIVILEGE, INVALID_TEXT_REPRESENTATION, assert_with_check_refusal, server_message,
    sqlstate,
};

#[tokio::test]
async fn the_policy_confines_raw_sql_to_the_transactions_tenant() -> TestResult {
    let db = shop(&[]).await?;
    let pool = tenant_pool(&db).await?;
    for (tenant_key, email) in [(A, "a@one.test"), (B, "b@two.test")] {
        let tenant = tenant(tenant_key);
        let mut tx = pool.begin(&tenant).await?;
        tx.execute(customer(&tenant, email)).await?;
        tx.commit().await?;
    }

    let mut tx = pool.begin(&tenant(A)).await?;
    // No tenant predicate in this SQL: only the policy filters it.
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM customers ORDER BY email")
        .fetch_all(tx.raw_connection())
        .await?;
    assert_eq!(emails, ["a@one.test"]);
    // WITH CHECK: a row for another tenant cannot be written.
    let foreign = sqlx::query(
        "INSERT INTO customers (tenant_id, email, name, plan_id) VALUES (2, 'x@two.test', 'X', 1)",
    )
    .execute(tx.raw_connection())
    .await;
    assert_with_check_refusal(foreign, "customers", "a row for tenant 2 from tenant 1");
    tx.rollback().await?;

    // Without a tenant, nothing is visible and nothing fails.
    let outside: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
        .fetch_one(&db.app_pool().await?)
        .await?;
    assert_eq!(outside, 0);
    Ok(())
}

const PLANT_B_ORDER: &str =
    "INSERT INTO orders (tenant_id, customer_id, status, total_cents) VALUES (2, 1, 'planted', 0)";

async fn tenant_ids(conn: &mut PgConnection, sql: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
        .fetch_all(conn)
        .await
}

async fn count(conn: &mut PgConnection, table: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(conn)
        .await
}

/// Runs `COPY .. TO STDOUT` and returns its text lines.
async fn copy_out(conn: &mut PgConnection, statement: &str) -> Result<Vec<String>, sqlx::Error> {
    let chunks: Vec<_> = conn.copy_out_raw(statement).await?.try_collect().await?;
    let text: String = chunks
        .iter()
        .map(|chunk| String::from_utf8_lossy(chunk))
        .collect();
    Ok(text.lines().map(str::to_owned).collect())
}

#[tokio::test]
async fn a_transaction_without_a_tenant_sees_no_row_and_writes_none() -> TestResult {
    let db = shop(&[A, B]).await?;
    let admin = db.admin_pool().await?;
    // No tenant has key 0: every row.
    let before = rows_outside(&admin, 0).await?;
    // A plain sqlx transaction as the application role: no tenant was ever
    // set on this connection.
    let app = db.app_pool().await?;
    let mut tx = app.begin().await?;
    let setting: Option<String> =
        sqlx::query_scalar("SELECT current_setting('app.tenant_id', true)")
            .fetch_one(&mut *tx)
            .await?;
    assert_eq!(setting, None);
    for table in ["customers", "orders", "order_items"] {
        assert_eq!(count(&mut tx, table).await?, 0, "{table}");
    }
    let updated = sqlx::query("UPDATE orders SET status = 'touched'")
        .execute(&mut *tx)
        .await?;
    let deleted = sqlx::query("DELETE FROM order_items")
        .execute(&mut *tx)
        .await?;
    assert_eq!((updated.rows_affected(), deleted.rows_affected()), (0, 0));
    let insert = sqlx::query(PLANT_B_ORDER).execute(&mut *tx).await;
    assert_with_check_refusal(insert, "orders", "INSERT without a tenant");
    tx.rollback().await?;

    assert_eq!(rows_outside(&admin, 0).await?, before);
    Ok(())
}

/// A connection that ran a tenant transaction keeps the setting *defined*,
/// with the value `''`: the case in which `''::bigint` would raise
/// `invalid input syntax` on every query. The policy's `NULLIF` turns it
/// into "no row" instead. Seen outside any transaction on the pool's own
/// connection, where raw SQL's `COMMIT` took the session (which the
/// transaction then reports).
#[tokio::test]
async fn a_connection_that_had_a_tenant_sees_no_row_and_raises_no_cast_error() -> TestResult {
    let db = shop(&[A, B]).await?;
    let pool = single_connection_pool(&db.app_url(), "had-a-tenant", pool_options()).await?;
    let a = tenant(A);
    let mut tx = pool.begin(&a).await?;
    let (orders,): (i64,) = tx.fetch_one(Order::select(&a).count()).await?;
    assert_eq!(orders, 4);
    tx.commit().await?;

    let mut tx = pool.begin(&tenant(B)).await?;
    sqlx::raw_sql("COMMIT").execute(tx.raw_connection()).await?;
    let conn = tx.raw_connection();
    let setting: Option<String> =
        sqlx::query_scalar("SELECT current_setting('app.tenant_id', true)")
            .fetch_one(&mut *conn)
            .await?;
    assert_eq!(setting.as_deref(), Some(""), "the reused connection");
    // The hazard is real on this connection...
    let cast = sqlx::query("SELECT current_setting('app.tenant_id', true)::bigint")
        .execute(&mut *conn)
        .await;
    let cast = cast.err().ok_or("'' cast to bigint without an error")?;
    assert_eq!(
        sqlstate(&cast).as_deref(),
        Some(INVALID_TEXT_REPRESENTATION)
    );
    // ...and the policy is not exposed to it.
    for table in ["customers", "orders", "order_items"] {
        assert_eq!(count(&mut *conn, table).await?, 0, "{table}");
    }
    let updated = sqlx::query("UPDATE orders SET status = 'touched'")
        .execute(&mut *conn)
        .await?;
    assert_eq!(updated.rows_affected(), 0);
    let insert = sqlx::query(PLANT_B_ORDER).execute(&mut *conn).await;
    assert_with_check_refusal(insert, "orders", "INSERT on a reused connection");
    let ended = tx.commit().await;
    assert!(
        matches!(ended, Err(Error::TransactionEndedByRawSql { .. })),
        "{ended:?}"
    );
    Ok(())
}

#[tokio::test]
async fn raw_sql_cannot_move_a_row_to_another_tenant_nor_write_one_for_it() -> TestResult {
    let db = shop(&[A, B]).await?;
    let admin = db.admin_pool().await?;
    let before = rows_outside(&admin, A).await?;
    let pool = tenant_pool(&db).await?;
    let attempts = [
        (
            "customers",
            "UPDATE customers SET tenant_id = 2 WHERE id = 1",
        ),
        ("orders", "UPDATE orders SET tenant_id = 2"),
        ("orders", PLANT_B_ORDER),
        (
            "order_items",
            "INSERT INTO order_items (tenant_id, order_id, sku, quantity)
             SELECT 2, order_id, sku, quantity FROM order_items",
        ),
    ];
    for (table, sql) in attempts {
        let mut tx = pool.begin(&tenant(A)).await?;
        let result = sqlx::query(AssertSqlSafe(sql))
            .execute(tx.raw_connection())
            .await;
        assert_with_check_refusal(result, table, sql);
        tx.rollback().await?;
    }
    assert_eq!(rows_outside(&admin, A).await?, before, "B's rows changed");
    Ok(())
}

/// `FORCE ROW LEVEL SECURITY` subjects the owner to the policies — to the
/// policies that name it. With the library's default policy (`TO` the
/// application role) the owner has none, and sees nothing at all.
#[tokio::test]
async fn force_subjects_the_table_owner_to_the_policies() -> TestResult {
    let db = shop_with_policy(&[A, B], &RlsPolicy::for_public()).await?;
    let owner = db.owner_pool().await?;
    let set_a = "SELECT set_config('app.tenant_id', '1', true)";

    let mut tx = owner.begin().await?;
    sqlx::query(set_a).execute(&mut *tx).await?;
    assert_eq!(
        tenant_ids(&mut tx, "SELECT tenant_id FROM orders").await?,
        [A; 4]
    );
    let insert = sqlx::query(PLANT_B_ORDER).execute(&mut *tx).await;
    assert_with_check_refusal(insert, "orders", "the owner planting a row for B");
    tx.rollback().await?;

    // What FORCE prevents: without it the owner skips the policies.
    let mut tx = owner.begin().await?;
    sqlx::raw_sql("ALTER TABLE orders NO FORCE ROW LEVEL SECURITY")
        .execute(&mut *tx)
        .await?;
    sqlx::query(set_a).execute(&mut *tx).await?;
    let unforced = tenant_ids(&mut tx, "SELECT tenant_id FROM orders").await?;
    assert_eq!(unforced.len(), 8, "{unforced:?}");
    tx.rollback().await?;

    // The library's default: the application role's policy, and the owner's
    // own policy with the same tenant predicate. Under FORCE the owner sees
    // exactly the tenant it set, as the application does: it never needs
    // BYPASSRLS, and it never sees every tenant.
    owner_pool(&db)
        .await?
        .apply_rls(
            &tenancy_test::shop::tables::table_set(),
            &RlsPolicy::for_role(APP_ROLE)?,
        )
        .await?;
    let mut tx = owner.begin().await?;
    sqlx::query(set_a).execute(&mut *tx).await?;
    assert_eq!(
        tenant_ids(&mut tx, "SELECT tenant_id FROM orders").await?,
        vec![A; 4]
    );
    tx.rollback().await?;
    Ok(())
}

/// rowsecurity.sql: RETURNING yields only rows the policy lets the command
/// touch, and an INSERT .. RETURNING of a row the policy refuses fails
/// instead of returning it.
#[tokio::test]
async fn returning_reports_only_the_tenants_own_rows() -> TestResult {
    let db = shop(&[A, B]).await?;
    let admin = db.admin_pool().await?;
    let before = rows_outside(&admin, A).await?;
    let pool = tenant_pool(&db).await?;

    let mut tx = pool.begin(&tenant(A)).await?;
    let conn = tx.raw_connection();
    let updated = tenant_ids(
        conn,
        "UPDATE orders SET status = 'returned' RETURNING tenant_id",
    )
    .await?;
    assert_eq!(updated, [A; 4]);
    let deleted = tenant_ids(
        conn,
        "DELETE FROM order_items WHERE quantity > 4 RETURNING tenant_id",
    )
    .await?;
    assert_eq!(deleted, [A; 4]);
    let inserted = tenant_ids(
        conn,
        "INSERT INTO orders (tenant_id, customer_id, status, total_cents)
         VALUES (1, 1, 'new', 5) RETURNING tenant_id",
    )
    .await?;
    assert_eq!(inserted, [A]);
    tx.commit().await?;

    let mut tx = pool.begin(&tenant(A)).await?;
    let planted = tenant_ids(
        tx.raw_connection(),
        &format!("{PLANT_B_ORDER} RETURNING tenant_id"),
    )
    .await;
    assert_with_check_refusal(planted, "orders", "INSERT .. RETURNING for B");
    tx.rollback().await?;

    assert_eq!(rows_outside(&admin, A).await?, before, "B's rows changed");
    Ok(())
}

/// rowsecurity.sql: `INSERT .. ON CONFLICT DO UPDATE` checks the proposed
/// row against `WITH CHECK` before looking for a conflict, and refuses —
/// rather than updating or skipping — when the conflicting row is one the
/// policy hides (`new row violates row-level security policy (USING
/// expression)`). A key that does not lead with the tenant column still
/// tells a tenant that another tenant's value exists, which is why every
/// key the library generates leads with it.
#[tokio::test]
async fn on_conflict_do_update_never_reaches_another_tenants_row() -> TestResult {
    let db = shop(&[A, B]).await?;
    let admin = db.admin_pool().await?;
    create_vouchers_with_a_global_key(&db.owner_pool().await?).await?;
    let before = rows_outside(&admin, A).await?;
    let b_voucher = voucher_rows(&admin).await?;
    let pool = tenant_pool(&db).await?;
    let upsert = |tenant_id: i64| {
        format!(
            "INSERT INTO customers (tenant_id, email, name, plan_id)
             VALUES ({tenant_id}, 'ann@example.test', 'Ann upserted', 1)
             ON CONFLICT (tenant_id, email) DO UPDATE SET name = excluded.name
             RETURNING tenant_id"
        )
    };

    // Through the tenant-led unique key: A's own row.
    let mut tx = pool.begin(&tenant(A)).await?;
    assert_eq!(tenant_ids(tx.raw_connection(), &upsert(A)).await?, [A]);
    tx.commit().await?;

    // Aimed at B's row: refused by WITH CHECK, though the conflict exists.
    let mut tx = pool.begin(&tenant(A)).await?;
    let result = tenant_ids(tx.raw_connection(), &upsert(B)).await;
    assert_with_check_refusal(result, "customers", "upsert into B's customer");
    tx.rollback().await?;

    // Through a key without the tenant column, the conflicting row is B's.
    let attempts: [(&str, &str, &str); 3] = [
        (
            "ON CONFLICT (code) DO UPDATE SET note = excluded.note",
            INSUFFICIENT_PRIVILEGE,
            "new row violates row-level security policy (USING expression) for table \"vouchers\"",
        ),
        // The key's existence leaks through a plain unique violation.
        (
            "",
            "23505",
            "duplicate key value violates unique constraint",
        ),
        ("ON CONFLICT (code) DO NOTHING", "", ""),
    ];
    for (conflict, code, message) in attempts {
        let mut tx = pool.begin(&tenant(A)).await?;
        let sql = format!("INSERT INTO vouchers VALUES (1, 'WELCOME', 'from A') {conflict}");
        let result = sqlx::query(AssertSqlSafe(sql))
            .execute(tx.raw_connection())
            .await;
        match result {
            Ok(done) => {
                assert_eq!(code, "", "{conflict:?} succeeded");
                // Nothing inserted, nothing said: yet "0 rows" tells A that
                // the code is taken.
                assert_eq!(done.rows_affected(), 0, "{conflict:?}");
            }
            Err(error) => {
                let text = server_message(&error);
                assert_eq!(
                    sqlstate(&error).as_deref(),
                    Some(code),
                    "{conflict:?}: {text}"
                );
                assert!(text.starts_with(message), "{conflict:?}: {text}");
            }
        }
        tx.rollback().await?;
    }

    assert_eq!(rows_outside(&admin, A).await?, before, "B's rows changed");
    assert_eq!(
        voucher_rows(&admin).await?,
        b_voucher,
        "B's voucher changed"
    );
    Ok(())
}

/// A table whose unique key does not lead with the tenant — what the catalog
/// audit reports — with the library's policy, B's voucher in it, and the
/// grants a migration would give the application role.
async fn create_vouchers_with_a_global_key(owner: &PgPool) -> TestResult {
    let predicate = isolation_predicate(
        &Identifier::new("column", "tenant_id")?,
        &SettingName::default(),
        "bigint",
    );
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE TABLE vouchers (tenant_id bigint NOT NULL, code text NOT NULL UNIQUE, note text);
         INSERT INTO vouchers VALUES (2, 'WELCOME', 'from B');
         ALTER TABLE vouchers ENABLE ROW LEVEL SECURITY;
         ALTER TABLE vouchers FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenancy_isolation ON vouchers TO {APP_ROLE}
             USING ({predicate}) WITH CHECK ({predicate});
         GRANT SELECT, INSERT, UPDATE, DELETE ON vouchers TO {APP_ROLE};"
    )))
    .execute(owner)
    .await?;
    Ok(())
}

async fn voucher_rows(admin: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT xmin::text || ' ' || t::text FROM vouchers t ORDER BY code")
        .fetch_all(admin)
        .await
}

/// rowsecurity.sql: `COPY table TO` is run as `COPY (SELECT * FROM table)
/// TO` when a policy applies, so both forms are filtered; `COPY .. FROM` is
/// refused outright on such a table ("Use INSERT statements instead").
#[tokio::test]
async fn copy_to_stdout_is_filtered_and_copy_from_is_refused() -> TestResult {
    let db = shop(&[A, B]).await?;
    let pool = tenant_pool(&db).await?;

    // The commands do reach every row when no policy applies (superuser).
    let mut admin = db.admin_pool().await?.acquire().await?;
    assert_eq!(
        copy_out(&mut admin, "COPY orders TO STDOUT").await?.len(),
        8
    );

    let mut tx = pool.begin(&tenant(A)).await?;
    let query = copy_out(
        tx.raw_connection(),
        "COPY (SELECT tenant_id, id FROM orders ORDER BY id) TO STDOUT",
    )
    .await?;
    assert_eq!(query, ["1\t1", "1\t2", "1\t3", "1\t4"]);
    let table = copy_out(tx.raw_connection(), "COPY orders TO STDOUT").await?;
    assert_eq!(table.len(), 4, "{table:?}");
    assert!(
        table.iter().all(|line| line.starts_with("1\t")),
        "{table:?}"
    );
    let items = copy_out(
        tx.raw_connection(),
        "COPY order_items (tenant_id, sku) TO STDOUT",
    )
    .await?;
    assert_eq!(items.len(), 8, "{items:?}");
    assert!(
        items.iter().all(|line| line.starts_with("1\tsku-1-")),
        "{items:?}"
    );
    let copy_in = tx
        .raw_connection()
        .copy_in_raw("COPY orders FROM STDIN")
        .await
        .map(drop);
    let error = copy_in.err().ok_or("COPY FROM accepted under a policy")?;
    assert_eq!(sqlstate(&error).as_deref(), Some("0A000"));
    assert!(
        server_message(&error).starts_with("COPY FROM not supported with row-level security"),
        "{}",
        server_message(&error)
    );
    tx.rollback().await?;

    // No tenant: nothing to copy.
    let mut app = db.app_pool().await?.acquire().await?;
    assert_eq!(
        copy_out(&mut app, "COPY orders TO STDOUT").await?,
        Vec::<String>::new()
    );
    Ok(())
}

/// rowsecurity.sql: with `row_security = off`, a query that a policy would
/// filter fails instead of running unfiltered (the setting exists for
/// pg_dump, which must not silently dump a subset). Any role may set it; it
/// is no way around the policies.
#[tokio::test]
async fn row_security_off_is_an_error_not_a_bypass() -> TestResult {
    let db = shop(&[A, B]).await?;
    let pool = tenant_pool(&db).await?;
    let mut tx = pool.begin(&tenant(A)).await?;
    sqlx::raw_sql("SET LOCAL row_security = off")
        .execute(tx.raw_connection())
        .await?;
    let result = count(tx.raw_connection(), "orders").await;
    let error = result.err().ok_or("row_security = off read the table")?;
    assert_eq!(sqlstate(&error).as_deref(), Some(INSUFFICIENT_PRIVILEGE));
    assert!(
        server_message(&error).starts_with(
            "query would be affected by row-level security policy for table \"orders\""
        ),
        "{}",
        server_message(&error)
    );
    tx.rollback().await?;
    Ok(())
}

/// A `security_invoker` view checks the tables as the role that queries the
/// view: the application role, so the policy filters by its tenant.
#[tokio::test]
async fn a_security_invoker_view_is_filtered_for_whoever_queries_it() -> TestResult {
    let db = shop(&[A, B]).await?;
    sqlx::raw_sql(
        "CREATE VIEW order_totals WITH (security_invoker = true) AS
             SELECT tenant_id, id, total_cents FROM orders;
         GRANT SELECT ON order_totals TO tenancy_app;",
    )
    .execute(&db.owner_pool().await?)
    .await?;
    let pool = tenant_pool(&db).await?;

    let mut tx = pool.begin(&tenant(A)).await?;
    let seen = tenant_ids(tx.raw_connection(), "SELECT tenant_id FROM order_totals").await?;
    assert_eq!(seen, [A; 4]);
    tx.rollback().await?;
    let mut tx = pool.begin(&tenant(B)).await?;
    let seen = tenant_ids(tx.raw_connection(), "SELECT tenant_id FROM order_totals").await?;
    assert_eq!(seen, [B; 4]);
    tx.rollback().await?;

    let mut app = db.app_pool().await?.acquire().await?;
    assert_eq!(count(&mut app, "order_totals").await?, 0);
    Ok(())
}

/// A view without `security_invoker` reads its tables as the view's owner —
/// here the tables' owner. What the application role then sees through it
/// depends on the policies that apply *to the owner*:
///
/// - library default (a policy `TO` the application role, and the owner's
///   own policy with the same predicate) + FORCE: the owner is filtered by
///   the setting the application's transaction set, so the view shows the
///   tenant's rows only;
/// - policy `TO PUBLIC` + FORCE: the owner is filtered by the same setting,
///   which the application's transaction set, so the view shows the
///   tenant's rows only;
/// - without FORCE: the owner skips the policies and the view shows every
///   tenant's rows to every tenant — the leak that FORCE prevents.
#[tokio::test]
async fn a_view_without_security_invoker_is_filtered_as_its_owner() -> TestResult {
    let db = shop(&[A, B]).await?;
    let owner = db.owner_pool().await?;
    sqlx::raw_sql(
        "CREATE VIEW order_totals_as_owner AS SELECT tenant_id, id, total_cents FROM orders;
         GRANT SELECT ON order_totals_as_owner TO tenancy_app;",
    )
    .execute(&owner)
    .await?;
    let pool = tenant_pool(&db).await?;
    let through_view = "SELECT tenant_id FROM order_totals_as_owner";

    let mut tx = pool.begin(&tenant(A)).await?;
    // Directly, the policy applies to the application role...
    assert_eq!(
        tenant_ids(tx.raw_connection(), "SELECT tenant_id FROM orders").await?,
        [A; 4]
    );
    // ...and through the owner's view, the owner's policy confines it to
    // the same tenant.
    assert_eq!(tenant_ids(tx.raw_connection(), through_view).await?, [A; 4]);
    tx.rollback().await?;

    owner_pool(&db)
        .await?
        .apply_rls(
            &tenancy_test::shop::tables::table_set(),
            &RlsPolicy::for_public(),
        )
        .await?;
    let mut tx = pool.begin(&tenant(A)).await?;
    assert_eq!(tenant_ids(tx.raw_connection(), through_view).await?, [A; 4]);
    tx.rollback().await?;

    sqlx::raw_sql("ALTER TABLE orders NO FORCE ROW LEVEL SECURITY")
        .execute(&owner)
        .await?;
    let mut tx = pool.begin(&tenant(A)).await?;
    let leaked = tenant_ids(tx.raw_connection(), through_view).await?;
    assert_eq!(leaked, [A, A, A, A, B, B, B, B], "without FORCE");
    tx.rollback().await?;
    Ok(())
}

/// The raw escape is trusted with the context: raw SQL that sets the setting
/// to another tenant is filtered for that tenant. The builder's statements
/// keep the transaction's tenant in their predicate, so with the two layers
/// disagreeing they see nothing rather than the other tenant's rows.
#[tokio::test]
async fn a_context_switched_by_raw_sql_leaves_builder_statements_seeing_nothing() -> TestResult {
    let db = shop(&[A, B]).await?;
    let pool = tenant_pool(&db).await?;
    let a = tenant(A);
    let mut tx = pool.begin(&a).await?;
    sqlx::query("SELECT set_config('app.tenant_id', '2', true)")
        .execute(tx.raw_connection())
        .await?;
    let raw = tenant_ids(tx.raw_connection(), "SELECT tenant_id FROM orders").await?;
    assert_eq!(raw, [B; 4], "raw SQL follows the setting it made");
    let built: Vec<Order> = tx.fetch_all(Order::select(&a)).await?;
    assert_eq!(built, [], "the builder's statements saw rows");
    let changed = tx
        .execute(Order::update(&a).set(Order::STATUS, "switched"))
        .await?;
    assert_eq!(changed, 0);
    tx.rollback().await?;
    Ok(())
}

/// The tenant setting is configured once, on the `TableSet`: the policies
/// `apply_schema` creates read the very setting the pool made with the same
/// set carries the tenant in, so a custom setting filters rows instead of
/// hiding all of them.
#[tokio::test]
async fn a_custom_setting_reaches_the_pool_and_the_policies_from_one_table_set() -> TestResult {
    use tenancy_sqlx::{Postgres, TenantPool, TenantPoolOptions};
    use tenancy_test::shop::tables::{Customer, table_set};

    let db = tenancy_sqlx::testing::TestDatabase::create().await?;
    let tables = table_set().with_setting(SettingName::new("myapp.org")?);
    owner_pool(&db)
        .await?
        .apply_schema(&tables, &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    sqlx::raw_sql("INSERT INTO plans (id, name) VALUES (1, 'free')")
        .execute(&db.owner_pool().await?)
        .await?;
    let pool =
        TenantPool::<Postgres>::connect(&db.app_url(), TenantPoolOptions::new(&tables)).await?;
    assert_eq!(pool.setting().as_str(), "myapp.org");
    for (key, email) in [(A, "a@one.test"), (B, "b@two.test")] {
        let mut tx = pool.begin(&tenant(key)).await?;
        tx.execute(customer(&tenant(key), email)).await?;
        tx.commit().await?;
    }
    let mut tx = pool.begin(&tenant(A)).await?;
    let built: Vec<Customer> = tx.fetch_all(Customer::select(&tenant(A))).await?;
    let raw: Vec<String> = sqlx::query_scalar("SELECT email FROM customers")
        .fetch_all(tx.raw_connection())
        .await?;
    tx.rollback().await?;
    assert_eq!(built.len(), 1);
    assert_eq!(raw, ["a@one.test"], "the policy reads the pool's setting");
    Ok(())
}
