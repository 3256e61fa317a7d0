//! A tenant's ad hoc SQL, through `TenantPool::ad_hoc`: a dashboard query
//! returns the tenant's numbers; hostile text is refused or confined; the
//! row limit and the timeout hold. The tables' row-level security is
//! switched off here, so the confinement of the text is all that keeps
//! tenant 2's rows out: a query that escaped it would show them.

use std::time::Duration;

use serde_json::{Value, json};
use tenancy_sqlx::Error;
use tenancy_sqlx::adhoc::AdHocQuery;
use tenancy_sqlx::testing::TestDatabase;
use tenancy_test::TestResult;
use tenancy_test::pooled::PooledShop;
use tenancy_test::shop::tables::table_set;
use tenancy_test::shop::{A, ORDERS_PER_TENANT, shop, tenant, tenant_pool};

/// The shop for tenants 1 and 2, its row-level security off.
async fn unprotected_shop() -> TestResult<TestDatabase> {
    let db = shop(&[1, 2]).await?;
    sqlx::raw_sql(
        "ALTER TABLE customers DISABLE ROW LEVEL SECURITY;
         ALTER TABLE orders DISABLE ROW LEVEL SECURITY;
         ALTER TABLE order_items DISABLE ROW LEVEL SECURITY;",
    )
    .execute(&db.owner_pool().await?)
    .await?;
    Ok(db)
}

/// Whether any row shows something of tenant 2: its id, its customers'
/// names, its SKUs or its order totals (2001..=2004).
fn shows_tenant_two(rows: &[Value]) -> bool {
    let text = serde_json::to_string(rows).unwrap_or_default();
    text.contains("of tenant 2")
        || text.contains("sku-2-")
        || (2001..=2004).any(|total| text.contains(&total.to_string()))
        || rows
            .iter()
            .any(|row| row.get("tenant_id") == Some(&json!(2)))
}

#[tokio::test]
async fn a_dashboard_query_returns_the_tenants_numbers() -> TestResult {
    let db = unprotected_shop().await?;
    let pool = tenant_pool(&db).await?;
    let query = AdHocQuery::new(&table_set())?;
    let result = pool
        .ad_hoc(
            &tenant(1),
            "SELECT status, count(*) AS orders, sum(total_cents) AS cents
             FROM orders GROUP BY status ORDER BY status",
            &query,
        )
        .await?;
    assert_eq!(
        result.rows,
        [
            json!({"status": "open", "orders": 2, "cents": 1001 + 1004}),
            json!({"status": "paid", "orders": 1, "cents": 1002}),
            json!({"status": "shipped", "orders": 1, "cents": 1003}),
        ]
    );
    assert!(!result.truncated);
    assert!(
        result.sql.contains("\"orders\".\"tenant_id\" = $1"),
        "{}",
        result.sql
    );
    Ok(())
}

/// Text that must never run as written.
const REFUSED: &[&str] = &[
    "SELECT * FROM orders; DELETE FROM orders",
    "SELECT 1; SELECT 2",
    "DELETE FROM orders",
    "UPDATE orders SET status = 'x'",
    "INSERT INTO orders VALUES (2, 99, 1, 'x', 1)",
    "TRUNCATE orders",
    "DROP TABLE orders",
    "ALTER TABLE orders DISABLE ROW LEVEL SECURITY",
    "GRANT ALL ON orders TO PUBLIC",
    "SET app.tenant_id = '2'",
    "RESET ALL",
    "SELECT set_config('app.tenant_id', '2', false)",
    "SELECT * FROM orders WHERE set_config('app.tenant_id', '2', true) IS NOT NULL",
    "SELECT current_setting('app.tenant_id')",
    "SELECT pg_sleep(10)",
    "SELECT * FROM orders WHERE pg_sleep(1) IS NULL",
    "SELECT * FROM pg_catalog.pg_shadow",
    "SELECT * FROM pg_class",
    "SELECT * FROM pg_stat_activity",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM public.orders",
    "SELECT * FROM secret_table",
    "COPY orders TO STDOUT",
    "COPY (SELECT * FROM orders) TO '/tmp/orders'",
    "SELECT * FROM dblink('dbname=other', 'SELECT * FROM orders') AS t(id bigint)",
    "SELECT lo_import('/etc/passwd')",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT * FROM orders FOR UPDATE",
    "SELECT * FROM orders FOR SHARE",
    "WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone",
    "SELECT * INTO stolen FROM orders",
    "EXPLAIN ANALYZE SELECT * FROM orders",
    "PREPARE p AS SELECT * FROM orders",
    "DO $$ BEGIN PERFORM 1; END $$",
    "LISTEN orders",
    "NOTIFY orders, 'x'",
    "SELECT nextval('orders_id_seq')",
    "SELECT pg_terminate_backend(1)",
    "CALL refresh()",
    "SELECT query_to_xml('SELECT * FROM orders', true, true, '')",
    "SELECT * FROM orders WHERE id = (SELECT id FROM pg_roles LIMIT 1)",
    "",
    "   ",
];

/// Text that may run, confined: each reference to a tenant table reads the
/// tenant's rows only, however the query combines them.
const CONFINED: &[&str] = &[
    "SELECT * FROM orders WHERE tenant_id = 2 OR true",
    "SELECT * FROM orders WHERE tenant_id = 2",
    "SELECT * FROM orders; -- one statement, its comment dropped",
    "/* comment */ SELECT * FROM orders -- ; SELECT * FROM orders WHERE tenant_id = 2",
    "SELECT o.* FROM orders o FULL JOIN customers c ON true",
    "SELECT c.* FROM orders o RIGHT JOIN customers c ON false",
    "SELECT * FROM orders o, LATERAL (SELECT * FROM customers c WHERE c.tenant_id <> o.tenant_id) x",
    "SELECT total_cents FROM orders UNION ALL SELECT total_cents FROM orders WHERE tenant_id = 2",
    "SELECT (SELECT max(total_cents) FROM orders WHERE tenant_id = 2) AS theirs",
    "WITH theirs AS (SELECT * FROM orders WHERE tenant_id = 2) SELECT * FROM theirs",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) \
     SELECT o.* FROM r JOIN orders o ON o.id = r.n",
    "SELECT * FROM order_items WHERE sku LIKE 'sku-2-%' OR sku LIKE 'sku-1-%'",
    "SELECT name FROM customers WHERE name LIKE '%tenant 2%' OR 1 = 1",
    "SELECT * FROM orders AS customers",
    "SELECT * FROM \"orders\"",
    "SELECT * FROM U&\"\\006Frders\"",
    "SELECT p.name, count(o.id) FROM plans p LEFT JOIN customers c ON c.plan_id = p.id \
     LEFT JOIN orders o ON o.customer_id = c.id GROUP BY p.name",
    "SELECT * FROM orders WHERE EXISTS (SELECT 1 FROM orders o2 WHERE o2.tenant_id = 2)",
    "SELECT * FROM orders WHERE id IN (SELECT id FROM orders WHERE tenant_id = 2)",
];

#[tokio::test]
async fn hostile_text_is_refused_or_confined() -> TestResult {
    let db = unprotected_shop().await?;
    let pool = tenant_pool(&db).await?;
    let query = AdHocQuery::new(&table_set())?;
    for sql in REFUSED {
        match pool.ad_hoc(&tenant(1), sql, &query).await {
            Err(Error::AdHocRefused { reasons }) => assert!(!reasons.is_empty(), "{sql}"),
            other => return Err(format!("{sql:?}: expected a refusal, got {other:?}").into()),
        }
    }
    for sql in CONFINED {
        match pool.ad_hoc(&tenant(1), sql, &query).await {
            Ok(result) => assert!(
                !shows_tenant_two(&result.rows),
                "{sql:?} showed tenant 2: {:?}\n{}",
                result.rows,
                result.sql
            ),
            Err(Error::AdHocRefused { .. }) => {}
            Err(other) => return Err(format!("{sql:?}: {other}").into()),
        }
    }
    // The same text as raw SQL does show tenant 2: the check above can fail.
    let raw: Vec<i64> =
        sqlx::query_scalar("SELECT tenant_id FROM orders WHERE tenant_id = 2 OR true")
            .fetch_all(&db.app_pool().await?)
            .await?;
    assert!(raw.contains(&2));
    assert!(REFUSED.len() + CONFINED.len() >= 50);
    Ok(())
}

#[tokio::test]
async fn the_row_limit_and_the_timeout_hold() -> TestResult {
    let db = unprotected_shop().await?;
    let pool = tenant_pool(&db).await?;
    let limited = AdHocQuery::new(&table_set())?.row_limit(3);
    let result = pool
        .ad_hoc(
            &tenant(1),
            "SELECT id FROM order_items ORDER BY id",
            &limited,
        )
        .await?;
    assert_eq!(
        result.rows,
        [json!({"id": 1}), json!({"id": 2}), json!({"id": 3})]
    );
    assert!(result.truncated);
    let exact = AdHocQuery::new(&table_set())?.row_limit(8);
    let result = pool
        .ad_hoc(&tenant(1), "SELECT id FROM order_items", &exact)
        .await?;
    assert_eq!((result.rows.len(), result.truncated), (8, false));

    // Eight items, crossed eight times: 16.7 million rows to count.
    let slow = AdHocQuery::new(&table_set())?.timeout(Duration::from_millis(50));
    let crossed = "SELECT count(*) FROM order_items a, order_items b, order_items c, \
                   order_items d, order_items e, order_items f, order_items g, order_items h";
    match pool.ad_hoc(&tenant(1), crossed, &slow).await {
        Err(Error::StatementTimeout { source, .. }) => assert_eq!(
            source.as_database_error().and_then(|e| e.code()).as_deref(),
            Some("57014"),
            "{source}"
        ),
        other => return Err(format!("expected a cancelled statement, got {other:?}").into()),
    }
    // The connection went back clean: the next query of the pool runs.
    let result = pool
        .ad_hoc(&tenant(1), "SELECT count(*) AS n FROM orders", &slow)
        .await?;
    assert_eq!(result.rows, [json!({"n": 4})]);
    Ok(())
}

/// An ad hoc query ends as a read does, its `ROLLBACK` queued rather than
/// waited for: the pool's one connection comes back to the next borrower
/// the same (not closed as after raw SQL), with no transaction open on the
/// server, not read-only, without the query's timeout and without its
/// tenant — after a query that ran, one that timed out, and one refused.
#[tokio::test]
async fn an_ad_hoc_query_leaves_its_connection_clean_for_the_next_borrower() -> TestResult {
    let h = PooledShop::new("adhoc-ending").await?;
    let first = h
        .assert_next_borrower_is_clean("the pool's first transaction")
        .await?;
    let query = AdHocQuery::new(&table_set())?.timeout(Duration::from_millis(900));
    let result = h
        .pool
        .ad_hoc(&tenant(A), "SELECT count(*) AS n FROM orders", &query)
        .await?;
    assert_eq!(result.rows, [json!({"n": ORDERS_PER_TENANT})]);
    let next = h.assert_next_borrower_is_clean("an ad hoc query").await?;
    assert_eq!(next, first, "the ad hoc query's connection was not reused");

    let slow = AdHocQuery::new(&table_set())?.timeout(Duration::from_millis(50));
    let crossed = "SELECT count(*) FROM order_items a, order_items b, order_items c, \
                   order_items d, order_items e, order_items f, order_items g, order_items h";
    match h.pool.ad_hoc(&tenant(A), crossed, &slow).await {
        Err(Error::StatementTimeout { timeout, .. }) => {
            assert_eq!(timeout, Duration::from_millis(50));
        }
        other => return Err(format!("expected a statement timeout, got {other:?}").into()),
    }
    let next = h
        .assert_next_borrower_is_clean("an ad hoc query that timed out")
        .await?;
    assert_eq!(
        next, first,
        "a timed-out ad hoc query's connection was not reused"
    );

    let refused = h
        .pool
        .ad_hoc(&tenant(A), "DELETE FROM orders", &query)
        .await;
    assert!(
        matches!(refused, Err(Error::AdHocRefused { .. })),
        "{refused:?}"
    );
    h.assert_next_borrower_is_clean("a refused ad hoc query")
        .await?;
    Ok(())
}
