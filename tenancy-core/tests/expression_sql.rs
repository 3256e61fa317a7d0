//! Exact SQL of expressions (arithmetic, CASE, COALESCE, NULLIF,
//! lower/upper, casts, bound values, scalar subqueries) in projections,
//! filters, SET, VALUES and RETURNING, of DEFAULT, and of upserts that
//! update with expressions; and the refusals of parts built for another
//! scope.

mod tables;

use tables::{Account, Customer, Line, Order, Plan};
use tenancy_core::functions::{case_when, count_all, value};
use tenancy_core::sea_query::Value;
use tenancy_core::{
    BuildError, BuildStatement, CrossTenant, Dialect, DoUpdate, Expr, Insert, Select, Statement,
    StatementScope, TenantId, ident,
};

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

/// Every arithmetic operand that is arithmetic itself is parenthesised, so
/// the SQL groups as the expression was written, whatever the precedence
/// rules of the dialect.
#[test]
fn arithmetic_keeps_its_grouping_and_binds_its_values() {
    let total: Expr<i64> = Order::TOTAL.into();
    let select = Order::select(&tenant())
        .column(((total.clone() + 1) * (Order::TOTAL - 2) / 3 % 4).alias(ident!("x")))
        .column((-(total - 5)).alias(ident!("y")));
    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        r#"SELECT ((("orders"."total" + $1) * ("orders"."total" - $2)) / $3) % $4 AS "x", -("orders"."total" - $5) AS "y" FROM "public"."orders" WHERE "orders"."tenant_id" = $6"#
    );
    let numbers: Vec<Value> = (1..=5_i64).map(Value::from).collect();
    assert_eq!(statement.values().0[..5], numbers[..]);
}

#[test]
fn arithmetic_on_an_i32_column_binds_i32() {
    let select = Line::select(&tenant()).column((Line::LINE_NO + 1).alias(ident!("next")));
    assert_eq!(postgres(&select).values().0[0], Value::Int(Some(1)));
}

#[test]
fn columns_compare_with_columns_and_expressions() {
    let select = Order::select(&tenant())
        .join::<Customer>(Customer::ID.eq(Order::CUSTOMER_ID))
        .filter(Order::TOTAL.gt(Customer::PLAN_ID * 100))
        .filter(Order::NOTE.ne(Customer::NAME))
        .filter(Order::TOTAL.between(Customer::PLAN_ID, Customer::PLAN_ID + 10))
        .column(Order::ID);
    assert_eq!(
        postgres(&select).sql(),
        r#"SELECT "orders"."id" FROM "public"."orders" INNER JOIN "public"."customers" ON "customers"."tenant_id" = $1 AND "customers"."id" = "orders"."customer_id" WHERE "orders"."tenant_id" = $2 AND ("orders"."total" > "customers"."plan_id" * $3 AND "orders"."note" <> "customers"."name" AND ("orders"."total" BETWEEN "customers"."plan_id" AND "customers"."plan_id" + $4))"#
    );
}

#[test]
fn case_coalesce_nullif_lower_upper_and_bound_values() {
    let size = case_when(
        Order::TOTAL.gte(1000).and(Order::STATUS.eq("paid")),
        "large",
    )
    .when(Order::TOTAL.gte(100), Order::STATUS.upper())
    .otherwise(Order::NOTE.coalesce("none").lower());
    let select = Order::select(&tenant()).columns((
        size.alias(ident!("size")),
        Order::TOTAL.nullif(0).alias(ident!("nonzero")),
        case_when(Order::NOTE.is_null(), 1_i64)
            .end()
            .alias(ident!("flag")),
        value(7_i64).alias(ident!("seven")),
    ));
    assert_eq!(
        sqlite(&select).sql(),
        r#"SELECT CASE WHEN "orders"."total" >= ? AND "orders"."status" = ? THEN ? WHEN "orders"."total" >= ? THEN upper("orders"."status") ELSE lower(COALESCE("orders"."note", ?)) END AS "size", NULLIF("orders"."total", ?) AS "nonzero", CASE WHEN "orders"."note" IS NULL THEN ? END AS "flag", ? AS "seven" FROM "main"."orders" WHERE "orders"."tenant_id" = ?"#
    );
}

#[test]
fn casts_name_the_dialect_s_type() {
    let select = Order::select(&tenant()).columns((
        Order::TOTAL.cast::<f64>().alias(ident!("real")),
        Order::TOTAL.cast::<String>().alias(ident!("text")),
        Order::STATUS.cast::<i32>().alias(ident!("number")),
        Order::NOTE.cast::<Vec<u8>>().alias(ident!("bytes")),
    ));
    assert!(postgres(&select).sql().starts_with(
        r#"SELECT CAST("orders"."total" AS DOUBLE PRECISION) AS "real", CAST("orders"."total" AS TEXT) AS "text", CAST("orders"."status" AS INTEGER) AS "number", CAST("orders"."note" AS BYTEA) AS "bytes""#
    ));
    assert!(sqlite(&select).sql().starts_with(
        r#"SELECT CAST("orders"."total" AS REAL) AS "real", CAST("orders"."total" AS TEXT) AS "text", CAST("orders"."status" AS INTEGER) AS "number", CAST("orders"."note" AS BLOB) AS "bytes""#
    ));
}

#[cfg(feature = "chrono")]
#[test]
fn now_is_the_transaction_s_time_on_postgres_and_rfc_3339_on_sqlite() {
    use tables::Stamp;
    use tenancy_core::functions::now;

    let update = Stamp::update(&tenant())
        .set(Stamp::SEEN_AT, now())
        .filter(Stamp::SEEN_AT.lt(now()));
    assert_eq!(
        postgres(&update).sql(),
        r#"UPDATE "public"."stamps" SET "seen_at" = CURRENT_TIMESTAMP WHERE "stamps"."tenant_id" = $1 AND "stamps"."seen_at" < CURRENT_TIMESTAMP"#
    );
    assert_eq!(
        sqlite(&update).sql(),
        r#"UPDATE "main"."stamps" SET "seen_at" = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now') WHERE "stamps"."tenant_id" = ? AND "stamps"."seen_at" < strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')"#
    );
}

#[test]
fn updates_set_expressions_of_the_row() {
    let update = Account::update(&TenantId::from_verified(7_i32))
        .set(Account::CREDITS, Account::CREDITS - 25)
        .set(Account::CLOSED_REASON, Account::NAME.lower())
        .filter(Account::CREDITS.gte(25))
        .returning((Account::ID, (Account::CREDITS * 2).alias(ident!("doubled"))));
    let statement = postgres(&update);
    assert_eq!(
        statement.sql(),
        r#"UPDATE "public"."accounts" SET "credits" = "accounts"."credits" - $1, "closed_reason" = lower("accounts"."name") WHERE "accounts"."org_id" = $2 AND "accounts"."credits" >= $3 RETURNING "accounts"."id", "accounts"."credits" * $4 AS "doubled""#
    );
    assert_eq!(statement.values().0[1], Value::Int(Some(7)));
}

#[test]
fn inserts_take_expressions_and_defaults() {
    let insert = Insert::<Order>::scoped(&tenant())
        .set(Order::CUSTOMER_ID, 3)
        .set(Order::STATUS, value("open").upper())
        .set(Order::TOTAL, value(100_i64) * 3)
        .set_default(Order::NOTE)
        .returning((Order::ID, Order::TOTAL));
    assert_eq!(
        postgres(&insert).sql(),
        r#"INSERT INTO "public"."orders" ("tenant_id", "customer_id", "status", "total", "note") VALUES ($1, $2, upper($3), $4 * $5, DEFAULT) RETURNING "orders"."id", "orders"."total""#
    );
    // SQLite has no DEFAULT among VALUES: the column is left out.
    assert_eq!(
        sqlite(&insert).sql(),
        r#"INSERT INTO "main"."orders" ("tenant_id", "customer_id", "status", "total") VALUES (?, ?, upper(?), ? * ?) RETURNING "orders"."id", "orders"."total""#
    );

    let mixed = Insert::<Order>::scoped(&tenant())
        .set(Order::STATUS, "open")
        .set_default(Order::NOTE)
        .new_row()
        .set(Order::STATUS, "paid")
        .set(Order::NOTE, "gift".to_owned());
    assert!(
        postgres(&mixed)
            .sql()
            .ends_with("VALUES ($1, $2, DEFAULT), ($3, $4, $5)")
    );
    assert!(matches!(
        mixed.to_sqlite(),
        Err(BuildError::UnsupportedInDialect {
            dialect: Dialect::Sqlite,
            ..
        })
    ));

    // A global row of defaults only: `DEFAULT VALUES` on SQLite.
    let defaults = Insert::<Plan>::global().set_default(Plan::BLURB);
    assert_eq!(
        sqlite(&defaults).sql(),
        r#"INSERT INTO "main"."plans" DEFAULT VALUES"#
    );
    assert_eq!(
        postgres(&defaults).sql(),
        r#"INSERT INTO "public"."plans" ("blurb") VALUES (DEFAULT)"#
    );
}

#[test]
fn values_cannot_read_columns() {
    let insert = Insert::<Order>::scoped(&tenant()).set(Order::TOTAL, Order::TOTAL + 1);
    assert_eq!(
        insert.to_postgres(),
        Err(BuildError::UnknownTable {
            table: "orders".into(),
            column: "total".into()
        })
    );
}

#[test]
fn upserts_update_with_expressions_of_both_rows_under_a_filter() {
    let insert = Insert::<Order>::scoped(&tenant())
        .set(Order::ID, 1)
        .set(Order::TOTAL, 5)
        .on_conflict_do_update(
            (Order::ID,),
            DoUpdate::new()
                .set(Order::TOTAL, Order::TOTAL + Order::TOTAL.excluded())
                .set(Order::NOTE, Order::NOTE.excluded())
                .filter(Order::STATUS.ne("closed"))
                .filter(Order::TOTAL.excluded().gt(0)),
        )
        .returning(Order::TOTAL);
    assert_eq!(
        sqlite(&insert).sql(),
        r#"INSERT INTO "main"."orders" ("tenant_id", "id", "total") VALUES (?, ?, ?) ON CONFLICT ("tenant_id", "id") DO UPDATE SET "total" = "orders"."total" + "excluded"."total", "note" = "excluded"."note" WHERE "orders"."status" <> ? AND "excluded"."total" > ? RETURNING "orders"."total""#
    );
}

#[test]
fn the_excluded_row_is_read_only_in_its_upsert() {
    let outside = Order::select(&tenant()).filter(Order::TOTAL.excluded().gt(1));
    assert_eq!(
        outside.to_postgres(),
        Err(BuildError::ExcludedOutsideUpsert {
            table: "orders",
            column: "total"
        })
    );
    let other_table = Insert::<Order>::scoped(&tenant())
        .set(Order::ID, 1)
        .on_conflict_do_update(
            (Order::ID,),
            DoUpdate::new().set(Order::STATUS, Customer::NAME.excluded()),
        );
    assert!(matches!(
        other_table.to_postgres(),
        Err(BuildError::ExcludedOutsideUpsert {
            table: "customers",
            ..
        })
    ));
    let nothing = Insert::<Order>::scoped(&tenant())
        .set(Order::ID, 1)
        .on_conflict_do_update((Order::ID,), DoUpdate::new());
    assert_eq!(
        nothing.to_postgres(),
        Err(BuildError::EmptyUpdate { table: "orders" })
    );
}

#[test]
fn scalar_subqueries_are_scoped_and_must_be_for_the_statement_s_tenant() {
    let spent = Order::select(&tenant())
        .filter(Order::CUSTOMER_ID.eq(Customer::ID))
        .scalar(Order::TOTAL.sum())
        .coalesce(0_i64);
    let select = Customer::select(&tenant())
        .columns((Customer::NAME, spent.clone().alias(ident!("spent"))))
        .filter(spent.clone().gt(100));
    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        r#"SELECT "customers"."name", COALESCE((SELECT CAST(SUM("orders"."total") AS BIGINT) FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND "orders"."customer_id" = "customers"."id"), $2) AS "spent" FROM "public"."customers" WHERE "customers"."tenant_id" = $3 AND COALESCE((SELECT CAST(SUM("orders"."total") AS BIGINT) FROM "public"."orders" WHERE "orders"."tenant_id" = $4 AND "orders"."customer_id" = "customers"."id"), $5) > $6"#
    );

    // Built for another tenant, or across tenants: refused, not rendered
    // with either scope.
    let theirs = Order::select(&TenantId::from_verified(TENANT + 1)).scalar(count_all());
    let mixed = Customer::select(&tenant()).column(theirs.alias(ident!("n")));
    assert_eq!(
        mixed.to_postgres(),
        Err(BuildError::MixedScopes {
            outer: StatementScope::Tenant(tenant().key_value()),
            inner: StatementScope::Tenant(TenantId::<i64>::from_verified(TENANT + 1).key_value()),
        })
    );
    let capability = CrossTenant::with_reason("expression tests").expect("a stated reason");
    let everyone = Select::<Order>::across_tenants(&capability).scalar(count_all());
    let mixed = Customer::select(&tenant()).column(everyone.alias(ident!("n")));
    assert!(matches!(
        mixed.to_postgres(),
        Err(BuildError::MixedScopes {
            inner: StatementScope::AllTenants,
            ..
        })
    ));
    // A global select fits any statement.
    let plans = Plan::select().scalar(count_all());
    let fine = Customer::select(&tenant()).column(plans.alias(ident!("plans")));
    assert!(fine.to_postgres().is_ok());
}

#[test]
fn subqueries_of_selects_feed_in() {
    let big = Order::select(&tenant())
        .filter(Order::TOTAL.gt(1000))
        .subquery(Order::CUSTOMER_ID);
    let select = Customer::select(&tenant())
        .column(Customer::ID)
        .filter(Customer::ID.in_subquery(big));
    assert_eq!(
        sqlite(&select).sql(),
        r#"SELECT "customers"."id" FROM "main"."customers" WHERE "customers"."tenant_id" = ? AND "customers"."id" IN (SELECT "orders"."customer_id" FROM "main"."orders" WHERE "orders"."tenant_id" = ? AND "orders"."total" > ?)"#
    );
}
