//! Exact SQL of representative INSERT, UPDATE and DELETE statements, in both
//! dialects, with their bound values and scopes.

mod tables;

use tables::{Customer, Line, Order, Plan};
use tenancy_core::sea_query::Value;
use tenancy_core::{
    BuildStatement, CrossTenant, Delete, Insert, KeyValue, Statement, StatementScope, TenantId,
    Update,
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

fn order(customer_id: i64, status: &str) -> Order {
    Order {
        customer_id,
        status: status.to_owned(),
        total: 100,
        ..Order::default()
    }
}

#[test]
fn every_inserted_row_takes_its_tenant_from_the_witness() {
    let insert = Insert::<Order>::scoped(&tenant()).rows(&[order(1, "open"), order(2, "paid")]);

    let statement = postgres(&insert);
    assert_eq!(
        statement.sql(),
        r#"INSERT INTO "public"."orders" ("tenant_id", "customer_id", "status", "total", "note") VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10)"#
    );
    let none = Value::String(None);
    assert_eq!(
        statement.values().0,
        [
            Value::from(TENANT),
            Value::from(1i64),
            Value::from("open"),
            Value::from(100i64),
            none.clone(),
            Value::from(TENANT),
            Value::from(2i64),
            Value::from("paid"),
            Value::from(100i64),
            none,
        ]
    );
    assert_eq!(
        statement.scope(),
        StatementScope::Tenant(KeyValue::I64(TENANT))
    );
    assert_eq!(
        sqlite(&insert).sql(),
        r#"INSERT INTO "main"."orders" ("tenant_id", "customer_id", "status", "total", "note") VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)"#
    );
}

#[test]
fn rows_set_column_by_column_may_set_them_in_any_order() {
    let insert = Insert::<Line>::scoped(&tenant())
        .set(Line::ORDER_ID, 7)
        .set(Line::LINE_NO, 1)
        .set(Line::SKU, "A-1")
        .set(Line::SKU, "A-2") // replaces the earlier value
        .new_row()
        .set(Line::SKU, "B-1")
        .set(Line::LINE_NO, 2)
        .set(Line::ORDER_ID, 7);

    let statement = postgres(&insert);
    assert_eq!(
        statement.sql(),
        r#"INSERT INTO "public"."order_lines" ("tenant_id", "order_id", "line_no", "sku") VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)"#
    );
    assert_eq!(
        statement.values().0,
        [
            Value::from(TENANT),
            Value::from(7i64),
            Value::from(1i32),
            Value::from("A-2"),
            Value::from(TENANT),
            Value::from(7i64),
            Value::from(2i32),
            Value::from("B-1"),
        ]
    );
}

#[test]
fn a_struct_row_can_be_amended_with_set() {
    let insert = Insert::<Order>::scoped(&tenant())
        .row(&order(1, "open"))
        .set(Order::NOTE, Some("gift".to_owned()))
        .returning_all();
    let statement = postgres(&insert);
    assert_eq!(
        statement.sql(),
        r#"INSERT INTO "public"."orders" ("tenant_id", "customer_id", "status", "total", "note") VALUES ($1, $2, $3, $4, $5) RETURNING *"#
    );
    assert_eq!(statement.values().0[4], Value::from("gift"));
}

#[test]
fn conflict_targets_lead_with_the_tenant_column() {
    let nothing = Insert::<Customer>::scoped(&tenant())
        .set(Customer::NAME, "Ada")
        .set(Customer::PLAN_ID, 1)
        .on_conflict_do_nothing((Customer::NAME,));
    assert_eq!(
        postgres(&nothing).sql(),
        r#"INSERT INTO "public"."customers" ("tenant_id", "name", "plan_id") VALUES ($1, $2, $3) ON CONFLICT ("tenant_id", "name") DO NOTHING"#
    );

    let upsert = Insert::<Line>::scoped(&tenant())
        .set(Line::ORDER_ID, 7)
        .set(Line::LINE_NO, 1)
        .set(Line::SKU, "A-1")
        .set(Line::QTY, 3)
        .on_conflict_do_update((Line::ORDER_ID, Line::LINE_NO), (Line::SKU, Line::QTY))
        .returning_all();
    assert_eq!(
        postgres(&upsert).sql(),
        r#"INSERT INTO "public"."order_lines" ("tenant_id", "order_id", "line_no", "sku", "qty") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("tenant_id", "order_id", "line_no") DO UPDATE SET "sku" = "excluded"."sku", "qty" = "excluded"."qty" RETURNING *"#
    );
    assert_eq!(
        sqlite(&upsert).sql(),
        r#"INSERT INTO "main"."order_lines" ("tenant_id", "order_id", "line_no", "sku", "qty") VALUES (?, ?, ?, ?, ?) ON CONFLICT ("tenant_id", "order_id", "line_no") DO UPDATE SET "sku" = "excluded"."sku", "qty" = "excluded"."qty" RETURNING *"#
    );
}

#[test]
fn global_inserts_have_no_tenant_column() {
    let plan = Plan {
        id: 1,
        name: "pro".to_owned(),
        price: 990,
        blurb: None,
    };
    let insert = Insert::<Plan>::global()
        .row(&plan)
        .on_conflict_do_update((Plan::ID,), (Plan::PRICE,));
    let statement = postgres(&insert);
    assert_eq!(
        statement.sql(),
        r#"INSERT INTO "public"."plans" ("id", "name", "price", "blurb") VALUES ($1, $2, $3, $4) ON CONFLICT ("id") DO UPDATE SET "price" = "excluded"."price""#
    );
    assert_eq!(statement.scope(), StatementScope::Global);
}

#[test]
fn updates_lead_their_where_with_the_tenant_predicate() {
    let update = Update::<Order>::scoped(&tenant())
        .set(Order::STATUS, "void")
        .set(Order::NOTE, None::<String>)
        .filter(Order::STATUS.eq("open").or(
            Order::CUSTOMER_ID.in_subquery(Customer::ID.subquery(Customer::NAME.like("Test%"))),
        ))
        .returning_all();

    let statement = postgres(&update);
    assert_eq!(
        statement.sql(),
        concat!(
            r#"UPDATE "public"."orders" SET "status" = $1, "note" = $2 WHERE "orders"."tenant_id" = $3 AND ("orders"."status" = $4"#,
            r#" OR "orders"."customer_id" IN (SELECT "customers"."id" FROM "public"."customers" WHERE "customers"."tenant_id" = $5 AND "customers"."name" LIKE $6)) RETURNING *"#,
        )
    );
    assert_eq!(statement.values().0[1], Value::String(None));
    assert_eq!(statement.values().0[2], Value::from(TENANT));
    assert_eq!(statement.values().0[4], Value::from(TENANT));
}

#[test]
fn an_unfiltered_scoped_update_touches_only_the_tenant() {
    let update = Update::<Order>::scoped(&tenant()).set(Order::TOTAL, 0);
    assert_eq!(
        sqlite(&update).sql(),
        r#"UPDATE "main"."orders" SET "total" = ? WHERE "orders"."tenant_id" = ?"#
    );
}

#[test]
fn cross_tenant_and_global_updates_have_no_tenant_predicate() {
    let capability = CrossTenant::with_reason("currency migration").expect("a stated reason");
    let update = Update::<Order>::across_tenants(&capability)
        .set(Order::TOTAL, 0)
        .filter(Order::TOTAL.lt(0));
    let statement = postgres(&update);
    assert_eq!(
        statement.sql(),
        r#"UPDATE "public"."orders" SET "total" = $1 WHERE "orders"."total" < $2"#
    );
    assert_eq!(statement.scope(), StatementScope::AllTenants);

    let global = Update::<Plan>::global().set(Plan::PRICE, 1000);
    assert_eq!(
        postgres(&global).sql(),
        r#"UPDATE "public"."plans" SET "price" = $1"#
    );
    assert_eq!(global.scope(), StatementScope::Global);
}

#[test]
fn deletes_lead_their_where_with_the_tenant_predicate() {
    let delete = Delete::<Order>::scoped(&tenant())
        .filter(Order::STATUS.eq("draft").or(Order::TOTAL.eq(0)))
        .returning_all();
    let statement = postgres(&delete);
    assert_eq!(
        statement.sql(),
        r#"DELETE FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND ("orders"."status" = $2 OR "orders"."total" = $3) RETURNING *"#
    );
    assert_eq!(statement.values().0[0], Value::from(TENANT));

    let everything_of_the_tenant = Delete::<Order>::scoped(&tenant());
    assert_eq!(
        sqlite(&everything_of_the_tenant).sql(),
        r#"DELETE FROM "main"."orders" WHERE "orders"."tenant_id" = ?"#
    );
}

#[test]
fn cross_tenant_and_global_deletes_have_no_tenant_predicate() {
    let capability = CrossTenant::with_reason("erase test data").expect("a stated reason");
    let delete = Delete::<Order>::across_tenants(&capability).filter(Order::STATUS.eq("test"));
    let statement = postgres(&delete);
    assert_eq!(
        statement.sql(),
        r#"DELETE FROM "public"."orders" WHERE "orders"."status" = $1"#
    );
    assert_eq!(statement.scope(), StatementScope::AllTenants);

    let global = Delete::<Plan>::global();
    assert_eq!(postgres(&global).sql(), r#"DELETE FROM "public"."plans""#);
    assert_eq!(global.scope(), StatementScope::Global);
}

#[test]
fn builders_and_statements_can_cross_threads_and_awaits() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<tenancy_core::Select<Order>>();
    send_sync::<tenancy_core::Count<Order>>();
    send_sync::<tenancy_core::Exists<Order>>();
    send_sync::<Insert<Order>>();
    send_sync::<Update<Order>>();
    send_sync::<Delete<Order>>();
    send_sync::<tenancy_core::Filter>();
    send_sync::<tenancy_core::Subquery<i64>>();
    send_sync::<Statement>();
}
