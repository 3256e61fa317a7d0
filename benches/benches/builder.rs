//! The cost of producing a statement (SQL text and bound values): the scoped
//! builder vs the same statement written by hand with sea-query vs a static
//! SQL string with its values. No database is involved.

use std::time::Instant;

use sea_query::{
    Asterisk, CommonTableExpression, Expr, ExprTrait, Func, PostgresQueryBuilder, Query, Value,
    Values, WithClause,
};
use tenancy_benches::harness::{Contender, Samples, Settings, measure};
use tenancy_benches::results::{BenchResult, Load, Section, Unit};
use tenancy_benches::schema::{Account, Order};
use tenancy_benches::{BenchError, run_main};
use tenancy_sqlx::functions::count_all;
use tenancy_sqlx::{BuildStatement, Cte, JoinKind, Statement, TenantId, ident};

const LIBRARY: &str = "library: scoped builder";
const SEA_QUERY: &str = "hand-written sea-query";
const STATIC: &str = "static SQL + values";

/// The tenant every statement is built for.
const TENANT: i64 = 42;

const SELECT_SQL: &str = r#"SELECT "orders"."tenant_id", "orders"."id", "orders"."customer_id", "orders"."status", "orders"."total", "orders"."placed_at" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND "orders"."status" = $2 ORDER BY "orders"."placed_at" DESC LIMIT $3"#;
const INSERT_SQL: &str = r#"INSERT INTO "public"."orders" ("tenant_id", "customer_id", "status", "total", "placed_at") VALUES ($1, $2, $3, $4, $5)"#;
const UPDATE_SQL: &str = r#"UPDATE "public"."orders" SET "status" = $1 WHERE "orders"."tenant_id" = $2 AND "orders"."id" = $3"#;
const AGGREGATE_SQL: &str = r#"SELECT "orders"."status", COUNT(*) AS "orders", CAST(SUM("orders"."total") AS BIGINT) AS "revenue" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND "orders"."placed_at" >= $2 GROUP BY "orders"."status" HAVING COUNT(*) > $3 ORDER BY "revenue" DESC"#;
const CTE_SQL: &str = r#"WITH "totals" AS (SELECT "orders"."customer_id", CAST(SUM("orders"."total") AS BIGINT) AS "revenue" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND "orders"."status" = $2 GROUP BY "orders"."customer_id") SELECT "accounts"."name", "totals"."revenue" FROM "public"."accounts" INNER JOIN "totals" ON "totals"."customer_id" = "accounts"."id" WHERE "accounts"."tenant_id" = $3 ORDER BY "totals"."revenue" DESC LIMIT $4"#;

/// `(sql, values)`: what each contender produces, in a comparable form.
type Built = (String, Values);

/// The three ways to produce one statement.
struct Workload {
    title: &'static str,
    library: fn(&TenantId<i64>) -> Result<Statement, tenancy_sqlx::BuildError>,
    sea_query: fn(i64) -> Result<Built, sea_query::error::Error>,
    static_sql: fn(i64) -> (&'static str, Values),
}

fn main() -> std::process::ExitCode {
    run_main(|_runtime| {
        let started = Instant::now();
        let load = Load::at_start();
        let tenant = TenantId::from_verified(TENANT);
        let workloads = [
            Workload {
                title: "scoped SELECT: status filter, ORDER BY, LIMIT",
                library: library_select,
                sea_query: sea_query_select,
                static_sql: static_select,
            },
            Workload {
                title: "scoped INSERT of one row",
                library: library_insert,
                sea_query: sea_query_insert,
                static_sql: static_insert,
            },
            Workload {
                title: "scoped UPDATE of one row by id",
                library: library_update,
                sea_query: sea_query_update,
                static_sql: static_update,
            },
            Workload {
                title: "scoped aggregate: GROUP BY, HAVING, ORDER BY an alias",
                library: library_aggregate,
                sea_query: sea_query_aggregate,
                static_sql: static_aggregate,
            },
            Workload {
                title: "scoped CTE: per-customer sums joined to accounts",
                library: library_cte,
                sea_query: sea_query_cte,
                static_sql: static_cte,
            },
        ];
        let mut sections = Vec::new();
        for workload in &workloads {
            same_statement(workload, &tenant)?;
            let samples = measure(
                Settings::MICRO,
                vec![
                    Contender::sync(LIBRARY, || (workload.library)(&tenant)),
                    Contender::sync(SEA_QUERY, || (workload.sea_query)(TENANT)),
                    Contender::sync(STATIC, || (workload.static_sql)(TENANT)),
                ],
            )?;
            sections.push(section(workload.title, &samples)?);
        }
        BenchResult {
            id: "builder".to_owned(),
            title: "Statement builder".to_owned(),
            description: DESCRIPTION.to_owned(),
            postgres: None,
            elapsed_seconds: started.elapsed().as_secs_f64(),
            load,
            sections,
        }
        .save()
    })
}

const DESCRIPTION: &str = "\
The cost of producing a statement, SQL text and bound values, before anything is \
sent: through the scoped builder (`Order::select(&tenant)`, `Order::insert`, \
`Order::update`, then `to_postgres()`), written by hand with sea-query with the \
same tenant predicate, and as a static SQL string with its values in a \
`sea_query::Values`. The three produce identical SQL and values (checked before \
measuring). Each iteration builds one statement and drops it.\n\n\
The builder writes every statement with its own SQL writer in one walk over \
its description of the statement, binding each value in the same call that \
writes its placeholder; there is no cache, so every build here is a full build. \
The hand-written sea-query statement is the same statement built and rendered \
by sea-query, schema-qualified like the builder's: for the aggregate and the \
CTE, with the cast of `SUM(bigint)` to `BIGINT` the builder writes so that the \
sum decodes into an `i64`, and the tenant predicate in the CTE's body and in \
the outer select.";

fn section(title: &str, samples: &[Samples]) -> Result<Section, BenchError> {
    let mut section = Section::new(title, Unit::Nanoseconds, samples);
    section
        .ratio(samples, LIBRARY, SEA_QUERY, Some(1.0))?
        .ratio(samples, LIBRARY, STATIC, None)?;
    Ok(section)
}

/// The contenders are only comparable if they produce the same statement.
fn same_statement(workload: &Workload, tenant: &TenantId<i64>) -> Result<(), BenchError> {
    let library = (workload.library)(tenant)
        .map_err(|error| BenchError::message(format!("{}: {error}", workload.title)))?;
    let by_hand = (workload.sea_query)(TENANT)
        .map_err(|error| BenchError::message(format!("{}: {error}", workload.title)))?;
    let (static_sql, static_values) = (workload.static_sql)(TENANT);
    let all_equal = library.sql() == by_hand.0
        && library.sql() == static_sql
        && *library.values() == by_hand.1
        && *library.values() == static_values;
    if all_equal {
        Ok(())
    } else {
        Err(BenchError::message(format!(
            "{}: the contenders build different statements:\nlibrary:   {} {:?}\nsea-query: {} {:?}\nstatic:    {} {:?}",
            workload.title,
            library.sql(),
            library.values(),
            by_hand.0,
            by_hand.1,
            static_sql,
            static_values
        )))
    }
}

fn library_select(tenant: &TenantId<i64>) -> Result<Statement, tenancy_sqlx::BuildError> {
    Order::select(tenant)
        .filter(Order::STATUS.eq("open"))
        .order_by_desc(Order::PLACED_AT)
        .limit(50)
        .to_postgres()
}

fn sea_query_select(tenant: i64) -> Result<Built, sea_query::error::Error> {
    let column = |name: &'static str| ("orders", name);
    Ok(Query::select()
        .columns([
            column("tenant_id"),
            column("id"),
            column("customer_id"),
            column("status"),
            column("total"),
            column("placed_at"),
        ])
        .from(("public", "orders"))
        .and_where(Expr::col(column("tenant_id")).eq(tenant))
        .and_where(Expr::col(column("status")).eq("open"))
        .order_by(column("placed_at"), sea_query::Order::Desc)
        .limit(50)
        .build(PostgresQueryBuilder))
}

fn static_select(tenant: i64) -> (&'static str, Values) {
    (
        SELECT_SQL,
        Values(vec![
            Value::BigInt(Some(tenant)),
            Value::String(Some("open".to_owned())),
            Value::BigUnsigned(Some(50)),
        ]),
    )
}

fn library_insert(tenant: &TenantId<i64>) -> Result<Statement, tenancy_sqlx::BuildError> {
    Order::insert(tenant)
        .set(Order::CUSTOMER_ID, 3)
        .set(Order::STATUS, "open")
        .set(Order::TOTAL, 1250)
        .set(Order::PLACED_AT, 1_767_225_600)
        .to_postgres()
}

fn sea_query_insert(tenant: i64) -> Result<Built, sea_query::error::Error> {
    Ok(Query::insert()
        .into_table(("public", "orders"))
        .columns(["tenant_id", "customer_id", "status", "total", "placed_at"])
        .values([
            tenant.into(),
            3_i64.into(),
            "open".into(),
            1250_i64.into(),
            1_767_225_600_i64.into(),
        ])?
        .build(PostgresQueryBuilder))
}

fn static_insert(tenant: i64) -> (&'static str, Values) {
    (
        INSERT_SQL,
        Values(vec![
            Value::BigInt(Some(tenant)),
            Value::BigInt(Some(3)),
            Value::String(Some("open".to_owned())),
            Value::BigInt(Some(1250)),
            Value::BigInt(Some(1_767_225_600)),
        ]),
    )
}

fn library_update(tenant: &TenantId<i64>) -> Result<Statement, tenancy_sqlx::BuildError> {
    Order::update(tenant)
        .set(Order::STATUS, "paid")
        .filter(Order::ID.eq(42))
        .to_postgres()
}

fn sea_query_update(tenant: i64) -> Result<Built, sea_query::error::Error> {
    Ok(Query::update()
        .table(("public", "orders"))
        .values([("status", "paid".into())])
        .and_where(Expr::col(("orders", "tenant_id")).eq(tenant))
        .and_where(Expr::col(("orders", "id")).eq(42_i64))
        .build(PostgresQueryBuilder))
}

fn static_update(tenant: i64) -> (&'static str, Values) {
    (
        UPDATE_SQL,
        Values(vec![
            Value::String(Some("paid".to_owned())),
            Value::BigInt(Some(tenant)),
            Value::BigInt(Some(42)),
        ]),
    )
}

fn library_aggregate(tenant: &TenantId<i64>) -> Result<Statement, tenancy_sqlx::BuildError> {
    let revenue = Order::TOTAL.sum().alias(ident!("revenue"));
    Order::select(tenant)
        .columns((
            Order::STATUS,
            count_all().alias(ident!("orders")),
            revenue.clone(),
        ))
        .filter(Order::PLACED_AT.gte(1_767_225_600))
        .group_by(Order::STATUS)
        .having(count_all().gt(10))
        .order_by(revenue.desc())
        .to_postgres()
}

fn sea_query_aggregate(tenant: i64) -> Result<Built, sea_query::error::Error> {
    Ok(Query::select()
        .column(("orders", "status"))
        .expr_as(Func::count(Expr::col(Asterisk)), "orders")
        .expr_as(
            Func::cast_as(Func::sum(Expr::col(("orders", "total"))), "BIGINT"),
            "revenue",
        )
        .from(("public", "orders"))
        .and_where(Expr::col(("orders", "tenant_id")).eq(tenant))
        .and_where(Expr::col(("orders", "placed_at")).gte(1_767_225_600_i64))
        .group_by_col(("orders", "status"))
        .and_having(Func::count(Expr::col(Asterisk)).gt(10_i64))
        .order_by("revenue", sea_query::Order::Desc)
        .build(PostgresQueryBuilder))
}

fn static_aggregate(tenant: i64) -> (&'static str, Values) {
    (
        AGGREGATE_SQL,
        Values(vec![
            Value::BigInt(Some(tenant)),
            Value::BigInt(Some(1_767_225_600)),
            Value::BigInt(Some(10)),
        ]),
    )
}

fn library_cte(tenant: &TenantId<i64>) -> Result<Statement, tenancy_sqlx::BuildError> {
    let revenue = Order::TOTAL.sum().alias(ident!("revenue"));
    let totals = Cte::new(
        ident!("totals"),
        Order::select(tenant)
            .columns((Order::CUSTOMER_ID, revenue.clone()))
            .filter(Order::STATUS.eq("paid"))
            .group_by(Order::CUSTOMER_ID),
    );
    Account::select(tenant)
        .with(&totals)
        .join_with(
            JoinKind::Inner,
            &totals,
            totals.col(Order::CUSTOMER_ID).eq(Account::ID),
        )
        .columns((Account::NAME, totals.col(&revenue)))
        .order_by(totals.col(&revenue).desc())
        .limit(10)
        .to_postgres()
}

fn sea_query_cte(tenant: i64) -> Result<Built, sea_query::error::Error> {
    let totals = Query::select()
        .column(("orders", "customer_id"))
        .expr_as(
            Func::cast_as(Func::sum(Expr::col(("orders", "total"))), "BIGINT"),
            "revenue",
        )
        .from(("public", "orders"))
        .and_where(Expr::col(("orders", "tenant_id")).eq(tenant))
        .and_where(Expr::col(("orders", "status")).eq("paid"))
        .group_by_col(("orders", "customer_id"))
        .to_owned();
    let cte = CommonTableExpression::new()
        .query(totals)
        .table_name("totals")
        .to_owned();
    let select = Query::select()
        .column(("accounts", "name"))
        .column(("totals", "revenue"))
        .from(("public", "accounts"))
        .inner_join(
            "totals",
            Expr::col(("totals", "customer_id")).equals(("accounts", "id")),
        )
        .and_where(Expr::col(("accounts", "tenant_id")).eq(tenant))
        .order_by(("totals", "revenue"), sea_query::Order::Desc)
        .limit(10)
        .to_owned();
    Ok(select
        .with(WithClause::new().cte(cte).to_owned())
        .build(PostgresQueryBuilder))
}

fn static_cte(tenant: i64) -> (&'static str, Values) {
    (
        CTE_SQL,
        Values(vec![
            Value::BigInt(Some(tenant)),
            Value::String(Some("paid".to_owned())),
            Value::BigInt(Some(tenant)),
            Value::BigUnsigned(Some(10)),
        ]),
    )
}
