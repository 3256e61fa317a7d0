//! Exact SQL of aggregates, grouping, window functions, DISTINCT and
//! orderings, in both dialects; and the refusals of what SQL does not
//! allow where it would otherwise be written.

mod tables;

use tables::{Customer, Line, Order};
use tenancy_core::functions::{count_all, dense_rank, lag, lead_by, rank, row_number};
use tenancy_core::sea_query::Value;
use tenancy_core::{BuildError, BuildStatement, Dialect, Expr, Statement, TenantId, Window, ident};

const TENANT: i64 = 4_000_000_001;

fn tenant() -> TenantId<i64> {
    TenantId::from_verified(TENANT)
}

fn postgres(builder: &impl BuildStatement) -> Statement {
    builder.to_postgres().expect("statement builds")
}

fn sqlite(builder: &impl BuildStatement) -> Statement {
    builder.to_sqlite().expect("statement builds")
}

#[test]
fn a_dashboard_groups_aggregates_and_orders_by_alias() {
    let revenue = Order::TOTAL.sum().alias(ident!("revenue"));
    let select = Order::select(&tenant())
        .columns((
            Order::STATUS,
            count_all().alias(ident!("orders")),
            revenue.clone(),
            Order::TOTAL.avg().alias(ident!("average")),
            Order::TOTAL.min().alias(ident!("smallest")),
            Order::NOTE.max().alias(ident!("last_note")),
            Order::CUSTOMER_ID
                .count_distinct()
                .alias(ident!("customers")),
        ))
        .filter(Order::TOTAL.gt(0))
        .group_by(Order::STATUS)
        .having(count_all().gt(1))
        .order_by((revenue.desc(), Order::STATUS.asc()));

    // PostgreSQL sums a BIGINT into a numeric and averages integers into
    // one: both are cast to what decodes into i64 and f64.
    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        r#"SELECT "orders"."status", COUNT(*) AS "orders", CAST(SUM("orders"."total") AS BIGINT) AS "revenue", CAST(AVG("orders"."total") AS DOUBLE PRECISION) AS "average", MIN("orders"."total") AS "smallest", MAX("orders"."note") AS "last_note", COUNT(DISTINCT "orders"."customer_id") AS "customers" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND "orders"."total" > $2 GROUP BY "orders"."status" HAVING COUNT(*) > $3 ORDER BY "revenue" DESC, "orders"."status" ASC"#
    );
    assert_eq!(
        statement.values().0,
        [Value::from(TENANT), Value::from(0i64), Value::from(1i64)]
    );

    // SQLite sums integers into integers and averages into reals.
    assert_eq!(
        sqlite(&select).sql(),
        r#"SELECT "orders"."status", COUNT(*) AS "orders", SUM("orders"."total") AS "revenue", AVG("orders"."total") AS "average", MIN("orders"."total") AS "smallest", MAX("orders"."note") AS "last_note", COUNT(DISTINCT "orders"."customer_id") AS "customers" FROM "main"."orders" WHERE "orders"."tenant_id" = ? AND "orders"."total" > ? GROUP BY "orders"."status" HAVING COUNT(*) > ? ORDER BY "revenue" DESC, "orders"."status" ASC"#
    );
}

#[test]
fn sums_of_small_integers_are_not_cast() {
    // `sum(integer)` is already a `bigint` on PostgreSQL.
    let select = Line::select(&tenant()).column(Line::LINE_NO.sum().alias(ident!("lines")));
    assert!(
        postgres(&select)
            .sql()
            .starts_with(r#"SELECT SUM("order_lines"."line_no") AS "lines""#)
    );
}

#[test]
fn aggregates_of_expressions_and_arithmetic_of_aggregates() {
    let share = Order::TOTAL.sum().cast::<f64>() / count_all().cast::<f64>();
    let select = Order::select(&tenant())
        .columns((
            (Order::TOTAL * 2).sum().alias(ident!("doubled")),
            share.alias(ident!("share")),
        ))
        .having((Order::TOTAL - 1).max().gte(Order::TOTAL.min()));
    assert_eq!(
        postgres(&select).sql(),
        r#"SELECT CAST(SUM("orders"."total" * $1) AS BIGINT) AS "doubled", CAST(CAST(SUM("orders"."total") AS BIGINT) AS DOUBLE PRECISION) / CAST(COUNT(*) AS DOUBLE PRECISION) AS "share" FROM "public"."orders" WHERE "orders"."tenant_id" = $2 HAVING MAX("orders"."total" - $3) >= MIN("orders"."total")"#
    );
}

#[test]
fn distinct_and_distinct_on() {
    let distinct = Customer::select(&tenant())
        .column(Customer::REGION)
        .distinct();
    assert_eq!(
        sqlite(&distinct).sql(),
        r#"SELECT DISTINCT "customers"."region" FROM "main"."customers" WHERE "customers"."tenant_id" = ?"#
    );

    let latest = Order::select(&tenant())
        .columns((Order::CUSTOMER_ID, Order::ID))
        .distinct_on(Order::CUSTOMER_ID)
        .order_by((Order::CUSTOMER_ID.asc(), Order::ID.desc()));
    assert_eq!(
        postgres(&latest).sql(),
        r#"SELECT DISTINCT ON ("orders"."customer_id") "orders"."customer_id", "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 ORDER BY "orders"."customer_id" ASC, "orders"."id" DESC"#
    );
    let refused = latest.to_sqlite().expect_err("SQLite has no DISTINCT ON");
    assert!(
        matches!(
            refused,
            BuildError::UnsupportedInDialect {
                construct: "DISTINCT ON",
                dialect: Dialect::Sqlite,
                ..
            }
        ),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("row_number"), "{refused}");
}

#[test]
fn nulls_first_and_last_are_written_as_asked() {
    let select = Customer::select(&tenant()).column(Customer::ID).order_by((
        Customer::REGION.desc().nulls_last(),
        Customer::NAME.asc().nulls_first(),
    ));
    let expected =
        r#"ORDER BY "customers"."region" DESC NULLS LAST, "customers"."name" ASC NULLS FIRST"#;
    assert!(postgres(&select).sql().ends_with(expected));
    assert!(sqlite(&select).sql().ends_with(expected));
}

#[test]
fn a_count_of_a_grouped_or_distinct_select_counts_its_rows() {
    let groups = Order::select(&tenant())
        .group_by(Order::CUSTOMER_ID)
        .column(Order::CUSTOMER_ID)
        .order_by_asc(Order::CUSTOMER_ID)
        .count();
    assert_eq!(
        postgres(&groups).sql(),
        r#"SELECT COUNT(*) FROM (SELECT "orders"."customer_id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 GROUP BY "orders"."customer_id") AS "counted""#
    );
    // Without a projection, a grouped select's rows are its groups.
    let customers = Order::select(&tenant())
        .group_by(Order::CUSTOMER_ID)
        .count();
    assert_eq!(
        sqlite(&customers).sql(),
        r#"SELECT COUNT(*) FROM (SELECT "orders"."customer_id" FROM "main"."orders" WHERE "orders"."tenant_id" = ? GROUP BY "orders"."customer_id") AS "counted""#
    );
    let regions = Customer::select(&tenant())
        .column(Customer::REGION)
        .distinct()
        .count();
    assert_eq!(
        sqlite(&regions).sql(),
        r#"SELECT COUNT(*) FROM (SELECT DISTINCT "customers"."region" FROM "main"."customers" WHERE "customers"."tenant_id" = ?) AS "counted""#
    );
}

#[test]
fn window_functions_over_partitions_and_orderings() {
    let by_customer = || {
        Window::new()
            .partition_by(Order::CUSTOMER_ID)
            .order_by((Order::TOTAL.desc(), Order::ID.asc()))
    };
    let select = Order::select(&tenant()).columns((
        Order::ID,
        row_number().over(by_customer()).alias(ident!("n")),
        rank().over(by_customer()).alias(ident!("place")),
        dense_rank()
            .over(Window::new().order_by(Order::TOTAL.desc()))
            .alias(ident!("tier")),
        lag(Order::TOTAL)
            .over(by_customer())
            .alias(ident!("previous")),
        lead_by(Order::STATUS, 2)
            .over(by_customer())
            .alias(ident!("later")),
        Order::TOTAL
            .sum()
            .over(Window::new().partition_by((Order::CUSTOMER_ID, Order::STATUS)))
            .alias(ident!("customer_total")),
    ));
    let window = r#"(PARTITION BY "orders"."customer_id" ORDER BY "orders"."total" DESC, "orders"."id" ASC)"#;
    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        format!(
            r#"SELECT "orders"."id", ROW_NUMBER() OVER {window} AS "n", RANK() OVER {window} AS "place", DENSE_RANK() OVER (ORDER BY "orders"."total" DESC) AS "tier", LAG("orders"."total") OVER {window} AS "previous", LEAD("orders"."status", $1) OVER {window} AS "later", CAST(SUM("orders"."total") OVER (PARTITION BY "orders"."customer_id", "orders"."status") AS BIGINT) AS "customer_total" FROM "public"."orders" WHERE "orders"."tenant_id" = $2"#
        )
    );
    // The offset is bound as an INTEGER, which `lead` takes.
    assert_eq!(statement.values().0[0], Value::Int(Some(2)));
    assert!(sqlite(&select).sql().contains(
        r#"SUM("orders"."total") OVER (PARTITION BY "orders"."customer_id", "orders"."status") AS "customer_total""#
    ));
}

#[test]
fn aggregates_and_windows_are_refused_where_sql_forbids_them() {
    let misplaced = |builder: &dyn BuildStatement| match builder.to_postgres() {
        Err(BuildError::MisplacedAggregate { function, clause }) => (function, clause),
        other => panic!("expected MisplacedAggregate, got {other:?}"),
    };
    let in_where = Order::select(&tenant()).filter(count_all().gt(1));
    assert_eq!(misplaced(&in_where), ("an aggregate", "WHERE"));
    let in_group_by = Order::select(&tenant())
        .column(Order::STATUS)
        .group_by(Expr::from(Order::TOTAL) + Order::TOTAL.max());
    assert_eq!(misplaced(&in_group_by), ("an aggregate", "GROUP BY"));
    let nested = Order::select(&tenant()).column(Order::TOTAL.max().max_of_max());
    assert_eq!(misplaced(&nested), ("an aggregate", "another aggregate"));
    let in_having = Order::select(&tenant())
        .column(Order::STATUS)
        .group_by(Order::STATUS)
        .having(rank().over(Window::new()).gt(1));
    assert_eq!(misplaced(&in_having), ("a window function", "HAVING"));
    let in_set = Order::update(&tenant()).set(Order::TOTAL, count_all());
    assert_eq!(misplaced(&in_set), ("an aggregate", "SET"));
    let window_in_window = Order::select(&tenant()).column(
        lag(row_number().over(Window::new()))
            .over(Window::new())
            .alias(ident!("x")),
    );
    assert_eq!(
        misplaced(&window_in_window),
        ("a window function", "another window function")
    );
    let message = misplaced_message(&in_where);
    assert!(message.contains(".having(..)"), "{message}");
}

fn misplaced_message(builder: &dyn BuildStatement) -> String {
    builder.to_postgres().expect_err("refused").to_string()
}

/// `MAX(MAX(..))`, which the types allow to be written only through an
/// expression of the aggregate.
trait MaxOfMax {
    fn max_of_max(self) -> tenancy_core::Aggregate<Option<i64>>;
}

impl MaxOfMax for tenancy_core::Aggregate<Option<i64>> {
    fn max_of_max(self) -> tenancy_core::Aggregate<Option<i64>> {
        (self + 0).max()
    }
}

#[test]
fn an_ordering_by_an_alias_must_name_one_of_the_projection() {
    let elsewhere = count_all().alias(ident!("elsewhere"));
    let select = Order::select(&tenant())
        .column(Order::STATUS)
        .order_by(elsewhere.desc());
    assert_eq!(
        select.to_postgres(),
        Err(BuildError::UnknownAlias {
            alias: "elsewhere".into()
        })
    );
    let in_window = Order::select(&tenant()).column(elsewhere.clone()).column(
        rank()
            .over(Window::new().order_by(elsewhere.asc()))
            .alias(ident!("r")),
    );
    assert!(matches!(
        in_window.to_postgres(),
        Err(BuildError::UnknownAlias { .. })
    ));
}
