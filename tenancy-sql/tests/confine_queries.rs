//! `confine` on the queries a BI panel sends: dashboards, rankings,
//! cohorts. Each is accepted, keeps its shape, and reads every tenant table
//! through the tenant's rows only.

mod support;

use tenancy_sql::{AllowList, AllowListError, Backend, Problem, QualifiedName};

const TENANT_TABLES: &[&str] = &["orders", "customers", "lines"];

fn allow() -> Result<AllowList, AllowListError> {
    AllowList::analytics()
        .tenant_table("orders", "tenant_id")?
        .tenant_table("customers", "tenant_id")?
        .tenant_table("lines", "tenant_id")?
        .global_table("countries")?
        .function("generate_series")
}

#[track_caller]
fn confined(sql: &str, reads: usize) -> String {
    let confined =
        tenancy_sql::confine(sql, &allow().unwrap()).unwrap_or_else(|e| panic!("{sql}\n{e}"));
    assert_eq!(
        support::tenant_reads(confined.sql(), |t| TENANT_TABLES.contains(&t)),
        reads,
        "{}",
        confined.sql()
    );
    confined.sql().to_owned()
}

#[test]
fn a_dashboard_of_counts_and_sums_per_status() {
    let sql = confined(
        "SELECT o.status, count(*) AS orders, sum(o.total) AS revenue \
         FROM orders o WHERE o.created_at >= date '2024-01-01' AND o.created_at < date '2024-02-01' \
         GROUP BY o.status ORDER BY revenue DESC NULLS LAST",
        1,
    );
    assert_eq!(
        sql,
        "SELECT o.status, count(*) AS orders, sum(o.total) AS revenue FROM \
         (SELECT * FROM {orders} AS \"orders\" WHERE \"orders\".\"tenant_id\" = $tenant) AS o \
         WHERE o.created_at >= DATE '2024-01-01' AND o.created_at < DATE '2024-02-01' \
         GROUP BY o.status ORDER BY revenue DESC NULLS LAST"
    );
}

#[test]
fn top_customers_by_revenue_with_a_window_rank() {
    confined(
        "SELECT * FROM (SELECT c.name, sum(o.total) AS revenue, \
         rank() OVER (ORDER BY sum(o.total) DESC) AS position \
         FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name) ranked \
         WHERE ranked.position <= 10",
        2,
    );
}

#[test]
fn cohorts_with_with_queries_and_a_series() {
    confined(
        "WITH firsts AS (SELECT o.customer_id, min(o.created_at) AS first_order FROM orders o GROUP BY 1), \
         months AS (SELECT generate_series(1, 12) AS month) \
         SELECT m.month, count(f.customer_id) FROM months m \
         LEFT JOIN firsts f ON extract(month FROM f.first_order) = m.month GROUP BY m.month",
        1,
    );
}

#[test]
fn a_recursive_tree_of_customers() {
    confined(
        "WITH RECURSIVE tree AS (SELECT c.id, c.parent, 1 AS depth FROM customers c WHERE c.parent IS NULL \
         UNION ALL SELECT k.id, k.parent, t.depth + 1 FROM customers k JOIN tree t ON k.parent = t.id) \
         SELECT depth, count(*) FROM tree GROUP BY depth",
        2,
    );
}

#[test]
fn every_kind_of_join_and_subquery() {
    confined(
        "SELECT c.name, (SELECT count(*) FROM lines l WHERE l.order_id = o.id) AS items, co.name \
         FROM orders o FULL JOIN customers c ON c.id = o.customer_id \
         LEFT JOIN countries co ON co.code = o.country \
         WHERE EXISTS (SELECT 1 FROM lines l2 WHERE l2.order_id = o.id) \
         OR o.id IN (SELECT o2.id FROM orders o2 WHERE o2.total > 100) \
         UNION ALL SELECT 'none', 0, 'none'",
        5,
    );
}

#[test]
fn the_rendered_query_names_the_tenants_schema() {
    let confined = tenancy_sql::confine(
        "SELECT count(*) FROM orders o JOIN countries c ON c.code = o.country",
        &allow().unwrap(),
    )
    .unwrap();
    assert_eq!(confined.template().params(), [tenancy_sql::Param::Tenant]);
    let rendered = confined
        .render(Backend::Postgres, |table| match table {
            "countries" => QualifiedName::new("shared", table),
            _ => QualifiedName::new("tenant_42", table),
        })
        .unwrap();
    assert_eq!(
        rendered.sql,
        "SELECT count(*) FROM (SELECT * FROM \"tenant_42\".\"orders\" AS \"orders\" \
         WHERE \"orders\".\"tenant_id\" = $1) AS o JOIN \"shared\".\"countries\" AS c ON c.code = o.country"
    );
    assert_eq!(rendered.binds, [0]);
    let sqlite = confined
        .render(Backend::Sqlite, QualifiedName::unqualified)
        .unwrap();
    assert_eq!(sqlite.binds, [0]);
}

#[test]
fn the_allow_list_decides_what_may_be_called_and_read() {
    let narrow = AllowList::new()
        .tenant_table("orders", "tenant_id")
        .unwrap();
    let refused = tenancy_sql::confine("SELECT count(*) FROM orders", &narrow).unwrap_err();
    assert!(refused.has(Problem::Function));
    let refused = tenancy_sql::confine("SELECT * FROM countries", &narrow).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("the tables you can query are `orders`")
    );
    let none = tenancy_sql::confine("SELECT * FROM orders", &AllowList::new()).unwrap_err();
    assert!(none.to_string().contains("no tables are allowed"));
}

#[test]
fn allow_lists_refuse_what_no_tenant_may_have() {
    for (result, text) in [
        (
            AllowList::new().tenant_table("pg_class", "x").err(),
            "is a system catalog",
        ),
        (
            AllowList::new().global_table("sqlite_master").err(),
            "is a system catalog",
        ),
        (
            AllowList::new().tenant_table("orders; DROP", "x").err(),
            "is not a plain SQL name",
        ),
        (
            AllowList::new().tenant_table("orders", "tenant\"id").err(),
            "is not a plain SQL name",
        ),
        (
            AllowList::new().function("set_config").err(),
            "the function `set_config` changes a setting",
        ),
        (
            AllowList::new().function("Dblink_Exec").err(),
            "connects to another database",
        ),
        (
            AllowList::new().function("lo_import").err(),
            "large objects",
        ),
        (
            AllowList::new()
                .tenant_table("orders", "tenant_id")
                .and_then(|a| a.global_table("orders"))
                .err(),
            "already in the allow-list",
        ),
    ] {
        let error = result.expect("refused");
        assert!(error.to_string().contains(text), "{error}");
    }
    let allow = AllowList::new()
        .tenant_table("orders", "tenant_id")
        .and_then(|a| a.tenant_table("orders", "tenant_id"))
        .and_then(|a| a.function("lower"))
        .unwrap();
    assert_eq!(allow.table_names().collect::<Vec<_>>(), ["orders"]);
    assert_eq!(allow.functions().collect::<Vec<_>>(), ["lower"]);
}
