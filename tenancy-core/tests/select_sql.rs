//! Exact SQL of representative SELECT, COUNT and EXISTS statements, in both
//! dialects, with their bound values and scopes.

mod tables;

use tables::{Account, Country, Customer, Invoice, Line, Member, Order, Plan};
use tenancy_core::sea_query::Value;
use tenancy_core::{
    BuildStatement, CrossTenant, Filter, KeyValue, Select, Statement, StatementScope, TenantId,
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

const ORDER_COLUMNS: &str = r#""orders"."tenant_id", "orders"."id", "orders"."customer_id", "orders"."status", "orders"."total", "orders"."note""#;

#[test]
fn a_plain_select_lists_every_column_and_binds_the_tenant() {
    let select = Select::<Order>::scoped(&tenant());

    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        format!(r#"SELECT {ORDER_COLUMNS} FROM "public"."orders" WHERE "orders"."tenant_id" = $1"#)
    );
    assert_eq!(statement.values().0, [Value::from(TENANT)]);
    assert_eq!(
        statement.scope(),
        StatementScope::Tenant(KeyValue::I64(TENANT))
    );
    assert_eq!(select.scope(), statement.scope());

    assert_eq!(
        sqlite(&select).sql(),
        format!(r#"SELECT {ORDER_COLUMNS} FROM "main"."orders" WHERE "orders"."tenant_id" = ?"#)
    );
}

#[test]
fn a_user_or_is_parenthesised_after_the_tenant_predicate() {
    let select = Select::<Order>::scoped(&tenant())
        .filter(Order::STATUS.eq("open").or(Order::TOTAL.gt(100)))
        .column(Order::ID);

    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        r#"SELECT "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND ("orders"."status" = $2 OR "orders"."total" > $3)"#
    );
    assert_eq!(
        statement.values().0,
        [
            Value::from(TENANT),
            Value::from("open"),
            Value::from(100i64)
        ]
    );
    assert_eq!(
        sqlite(&select).sql(),
        r#"SELECT "orders"."id" FROM "main"."orders" WHERE "orders"."tenant_id" = ? AND ("orders"."status" = ? OR "orders"."total" > ?)"#
    );
}

#[test]
fn repeated_filters_are_combined_with_and() {
    let select = Select::<Order>::scoped(&tenant())
        .filter(Order::STATUS.ne("void"))
        .filter(Order::TOTAL.between(10, 20))
        .filter(Order::NOTE.is_null().or(Order::NOTE.not_like("%test%")))
        .column(Order::ID);
    assert_eq!(
        postgres(&select).sql(),
        r#"SELECT "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND ("orders"."status" <> $2 AND ("orders"."total" BETWEEN $3 AND $4) AND ("orders"."note" IS NULL OR "orders"."note" NOT LIKE $5))"#
    );
}

#[test]
fn joined_tables_carry_the_tenant_predicate_in_their_on_clause() {
    let select = Select::<Order>::scoped(&tenant())
        .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
        .left_join::<Invoice>(
            Invoice::ORDER_ID
                .eq_col(Order::ID)
                .and(Invoice::STATE.ne("void")),
        )
        .join_global::<Plan>(Plan::ID.eq_col(Customer::PLAN_ID))
        .columns((Order::ID, Customer::NAME, Invoice::AMOUNT, Plan::NAME))
        .filter(Plan::PRICE.gte(0))
        .order_by_asc(Customer::NAME)
        .order_by_desc(Order::ID)
        .limit(50)
        .offset(100);

    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        concat!(
            r#"SELECT "orders"."id", "customers"."name", "invoices"."amount", "plans"."name" FROM "public"."orders""#,
            r#" INNER JOIN "public"."customers" ON "customers"."tenant_id" = $1 AND "customers"."id" = "orders"."customer_id""#,
            r#" LEFT JOIN "billing"."invoices" ON "invoices"."tenant_id" = $2 AND ("invoices"."order_id" = "orders"."id" AND "invoices"."state" <> $3)"#,
            r#" INNER JOIN "public"."plans" ON "plans"."id" = "customers"."plan_id""#,
            r#" WHERE "orders"."tenant_id" = $4 AND "plans"."price" >= $5"#,
            r#" ORDER BY "customers"."name" ASC, "orders"."id" DESC LIMIT $6 OFFSET $7"#,
        )
    );
    let tenant = Value::from(TENANT);
    assert_eq!(
        statement.values().0,
        [
            tenant.clone(),
            tenant.clone(),
            Value::from("void"),
            tenant,
            Value::from(0i64),
            Value::from(50u64),
            Value::from(100u64),
        ]
    );
}

#[test]
fn subqueries_at_any_depth_are_scoped_with_the_outer_tenant() {
    let gift_lines = Line::ORDER_ID.subquery(Line::GIFT_NOTE.is_not_null());
    let has_paid_invoice = Filter::exists::<Invoice>(
        Invoice::ORDER_ID
            .eq_col(Order::ID)
            .and(Invoice::STATE.eq("paid"))
            .and(Invoice::ORDER_ID.in_subquery(gift_lines)),
    );
    let select = Select::<Order>::scoped(&tenant())
        .filter(has_paid_invoice.or(
            Order::CUSTOMER_ID.not_in_subquery(Customer::ID.subquery(Customer::REGION.eq("eu"))),
        ))
        .column(Order::ID);

    assert_eq!(
        postgres(&select).sql(),
        concat!(
            r#"SELECT "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND ("#,
            r#"EXISTS(SELECT 1 FROM "billing"."invoices" WHERE "invoices"."tenant_id" = $2 AND ("invoices"."order_id" = "orders"."id" AND "invoices"."state" = $3"#,
            r#" AND "invoices"."order_id" IN (SELECT "order_lines"."order_id" FROM "public"."order_lines" WHERE "order_lines"."tenant_id" = $4 AND "order_lines"."gift_note" IS NOT NULL)))"#,
            r#" OR "orders"."customer_id" NOT IN (SELECT "customers"."id" FROM "public"."customers" WHERE "customers"."tenant_id" = $5 AND "customers"."region" = $6))"#,
        )
    );
}

#[test]
fn in_lists_bind_every_value_and_empty_lists_keep_their_column() {
    let select = Select::<Order>::scoped(&tenant())
        .filter(Order::ID.is_in([1, 2, 3]))
        .filter(Order::STATUS.is_not_in(["void", "test"]))
        .column(Order::ID);
    let statement = sqlite(&select);
    assert_eq!(
        statement.sql(),
        r#"SELECT "orders"."id" FROM "main"."orders" WHERE "orders"."tenant_id" = ? AND ("orders"."id" IN (?, ?, ?) AND "orders"."status" NOT IN (?, ?))"#
    );
    assert_eq!(statement.values().0.len(), 6);

    // An empty list keeps its column: a constant `FALSE` beside the tenant
    // predicate would be folded with it, and Citus could not route the
    // statement by its tenant.
    let nothing = Select::<Order>::scoped(&tenant())
        .filter(Order::ID.is_in(Vec::<i64>::new()))
        .column(Order::ID);
    assert_eq!(
        postgres(&nothing).sql(),
        r#"SELECT "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND ("orders"."id" IS NULL AND "orders"."id" IS NOT NULL)"#
    );
    let everything = Select::<Order>::scoped(&tenant())
        .filter(Order::ID.is_not_in(Vec::<i64>::new()))
        .column(Order::ID);
    assert_eq!(
        postgres(&everything).sql(),
        r#"SELECT "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND ("orders"."id" IS NULL OR "orders"."id" IS NOT NULL)"#
    );
    // An expression is tested as it is, its values bound at each use.
    let negated = Select::<Order>::scoped(&tenant())
        .filter(
            !(Order::TOTAL + 1)
                .is_in(Vec::<i64>::new())
                .or(Order::ID.eq(3)),
        )
        .column(Order::ID);
    let statement = sqlite(&negated);
    assert_eq!(
        statement.sql(),
        r#"SELECT "orders"."id" FROM "main"."orders" WHERE "orders"."tenant_id" = ? AND (NOT (("orders"."total" + ? IS NULL AND "orders"."total" + ? IS NOT NULL) OR "orders"."id" = ?))"#
    );
    assert_eq!(statement.values().0.len(), 4);
}

#[test]
fn empty_combinators_are_their_identities() {
    // In a `WHERE`, the identities keep the tenant column, for the reason
    // an empty `IN` list does: a constant `FALSE` (or `NOT TRUE`) would be
    // folded with the tenant predicate beside it.
    let select = Select::<Order>::scoped(&tenant())
        .filter(Filter::all([]))
        .filter(!Filter::any([]))
        .column(Order::ID);
    assert_eq!(
        postgres(&select).sql(),
        r#"SELECT "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND (("orders"."tenant_id" IS NULL OR "orders"."tenant_id" IS NOT NULL) AND (NOT ("orders"."tenant_id" IS NULL AND "orders"."tenant_id" IS NOT NULL)))"#
    );
    let nothing = Select::<Order>::scoped(&tenant())
        .filter(Order::ID.eq(3).or(Filter::any([])))
        .column(Order::ID);
    assert_eq!(
        sqlite(&nothing).sql(),
        r#"SELECT "orders"."id" FROM "main"."orders" WHERE "orders"."tenant_id" = ? AND ("orders"."id" = ? OR ("orders"."tenant_id" IS NULL AND "orders"."tenant_id" IS NOT NULL))"#
    );
    // An `ON` tests the first scoped table it can name.
    let joined = Select::<Order>::scoped(&tenant())
        .left_join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID).and(Filter::any([])))
        .column(Order::ID);
    assert_eq!(
        postgres(&joined).sql(),
        r#"SELECT "orders"."id" FROM "public"."orders" LEFT JOIN "public"."customers" ON "customers"."tenant_id" = $1 AND ("customers"."id" = "orders"."customer_id" AND ("orders"."tenant_id" IS NULL AND "orders"."tenant_id" IS NOT NULL)) WHERE "orders"."tenant_id" = $2"#
    );
    // A `HAVING` keeps the constant: the tenant column need not be grouped.
    let grouped = Select::<Order>::scoped(&tenant())
        .column(Order::STATUS)
        .group_by(Order::STATUS)
        .having(Filter::any([]))
        .column(Order::ID);
    assert!(
        postgres(&grouped).sql().ends_with(" HAVING FALSE"),
        "{}",
        postgres(&grouped).sql()
    );
}

#[test]
fn count_and_exists_keep_joins_and_filters_but_not_paging() {
    let select = Select::<Order>::scoped(&tenant())
        .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
        .filter(Customer::NAME.like("A%"))
        .order_by_asc(Order::ID)
        .limit(10);

    let count = select.clone().count();
    assert_eq!(
        postgres(&count).sql(),
        r#"SELECT COUNT(*) FROM "public"."orders" INNER JOIN "public"."customers" ON "customers"."tenant_id" = $1 AND "customers"."id" = "orders"."customer_id" WHERE "orders"."tenant_id" = $2 AND "customers"."name" LIKE $3"#
    );
    assert_eq!(count.scope(), StatementScope::Tenant(KeyValue::I64(TENANT)));

    let exists = select.exists();
    assert_eq!(
        sqlite(&exists).sql(),
        r#"SELECT EXISTS(SELECT 1 FROM "main"."orders" INNER JOIN "main"."customers" ON "customers"."tenant_id" = ? AND "customers"."id" = "orders"."customer_id" WHERE "orders"."tenant_id" = ? AND "customers"."name" LIKE ?)"#
    );
}

#[test]
fn across_tenants_joins_match_tenant_columns_and_adds_no_constant() {
    let capability = CrossTenant::with_reason("monthly revenue report").expect("a stated reason");
    let select = Select::<Order>::across_tenants(&capability)
        .left_join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
        .filter(Order::ID.in_subquery(Line::ORDER_ID.subquery(Line::QTY.gt(5))))
        .columns((Order::TENANT_ID, Order::ID, Customer::NAME))
        .order_by_asc(Order::TENANT_ID);

    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        concat!(
            r#"SELECT "orders"."tenant_id", "orders"."id", "customers"."name" FROM "public"."orders""#,
            r#" LEFT JOIN "public"."customers" ON "customers"."tenant_id" = "orders"."tenant_id" AND "customers"."id" = "orders"."customer_id""#,
            r#" WHERE "orders"."id" IN (SELECT "order_lines"."order_id" FROM "public"."order_lines" WHERE "order_lines"."qty" > $1)"#,
            r#" ORDER BY "orders"."tenant_id" ASC"#,
        )
    );
    assert_eq!(statement.values().0, [Value::from(5i64)]);
    assert_eq!(statement.scope(), StatementScope::AllTenants);
}

#[test]
fn global_selects_need_no_tenant() {
    let select = Select::<Plan>::global()
        .left_join_global::<Country>(Country::ID.eq_col(Plan::PRICE))
        .filter(Filter::not_exists::<Country>(Country::CODE.eq("xx")));

    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        r#"SELECT "plans"."id", "plans"."name", "plans"."price", "plans"."blurb" FROM "public"."plans" LEFT JOIN "public"."countries" ON "countries"."id" = "plans"."price" WHERE NOT EXISTS(SELECT 1 FROM "public"."countries" WHERE "countries"."code" = $1)"#
    );
    assert_eq!(statement.scope(), StatementScope::Global);
    assert_eq!(
        sqlite(&Select::<Plan>::global().column(Plan::NAME)).sql(),
        r#"SELECT "plans"."name" FROM "main"."plans""#
    );
}

#[test]
fn schema_qualified_tables_are_referenced_by_their_bare_name() {
    let select = Select::<Invoice>::scoped(&tenant()).filter(Invoice::AMOUNT.lt(0));
    assert_eq!(
        postgres(&select).sql(),
        r#"SELECT "invoices"."tenant_id", "invoices"."id", "invoices"."order_id", "invoices"."state", "invoices"."amount", "invoices"."memo" FROM "billing"."invoices" WHERE "invoices"."tenant_id" = $1 AND "invoices"."amount" < $2"#
    );
}

#[test]
fn i32_keys_are_bound_as_i32() {
    let tenant = TenantId::<i32>::from_verified(2_000_000_003);
    let select = Select::<Member>::scoped(&tenant)
        .join::<Account>(Account::ID.eq_col(Member::ACCOUNT_ID))
        .column(Member::EMAIL);

    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        r#"SELECT "members"."email" FROM "public"."members" INNER JOIN "public"."accounts" ON "accounts"."org_id" = $1 AND "accounts"."id" = "members"."account_id" WHERE "members"."org_id" = $2"#
    );
    assert_eq!(
        statement.values().0,
        [Value::from(2_000_000_003i32), Value::from(2_000_000_003i32)]
    );
    assert_eq!(
        statement.scope(),
        StatementScope::Tenant(KeyValue::I32(2_000_000_003))
    );
}

#[test]
fn a_subquery_may_name_the_outer_table_again() {
    // Inside the subquery, "orders" is the subquery's own table, scoped again.
    let biggest = Order::ID.subquery(Order::TOTAL.gt(1000));
    let select = Select::<Order>::scoped(&tenant())
        .filter(Order::ID.in_subquery(biggest))
        .column(Order::ID);
    assert_eq!(
        postgres(&select).sql(),
        r#"SELECT "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND "orders"."id" IN (SELECT "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $2 AND "orders"."total" > $3)"#
    );
}

#[test]
fn offsets_get_a_limit_in_sqlite_and_row_counts_fit_in_i64() {
    let select = Select::<Order>::scoped(&tenant())
        .column(Order::ID)
        .offset(20);
    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        r#"SELECT "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 OFFSET $2"#
    );
    // SQLite's grammar has no OFFSET without LIMIT.
    let statement = sqlite(&select);
    assert_eq!(
        statement.sql(),
        r#"SELECT "orders"."id" FROM "main"."orders" WHERE "orders"."tenant_id" = ? LIMIT ? OFFSET ?"#
    );
    assert_eq!(statement.values().0[1], Value::from(i64::MAX as u64));

    // sqlx binds row counts as i64 and refuses larger values.
    let huge = Select::<Order>::scoped(&tenant())
        .column(Order::ID)
        .limit(u64::MAX)
        .offset(u64::MAX);
    let values = postgres(&huge).into_parts().1.0;
    assert_eq!(
        values[1..],
        [Value::from(i64::MAX as u64), Value::from(i64::MAX as u64)]
    );
}
