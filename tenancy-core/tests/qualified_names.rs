//! Every table a statement references is named with its schema, so that no
//! same-named table earlier in `search_path` (or a SQLite `TEMP` table) can
//! capture it; and a statement reports every table it references.

mod tables;

use tables::{Customer, Invoice, Line, Order, Plan};
use tenancy_core::{
    BuildStatement, Dialect, Filter, Identifier, Insert, Statement, Table, TableMeta, TenantId,
    Update,
};

fn tenant() -> TenantId<i64> {
    TenantId::from_verified(7)
}

fn schema(name: &str) -> Identifier {
    Identifier::new("schema", name).expect("an identifier")
}

fn built_in(statement: &impl BuildStatement, dialect: Dialect, name: &str) -> Statement {
    statement.build_in(dialect, &schema(name)).expect("builds")
}

fn names(statement: &Statement) -> Vec<&'static str> {
    statement.tables().iter().map(|table| table.name).collect()
}

#[test]
fn statements_are_built_for_the_schema_they_run_in() {
    let select = Order::select(&tenant())
        .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
        .left_join::<Invoice>(Invoice::ORDER_ID.eq_col(Order::ID))
        .filter(Filter::exists::<Line>(Line::ORDER_ID.eq_col(Order::ID)))
        .column(Order::ID);
    for dialect in [Dialect::Postgres, Dialect::Sqlite] {
        let sql = built_in(&select, dialect, "tenant_42").into_parts().0;
        for table in ["orders", "customers", "order_lines"] {
            assert!(sql.contains(&format!("\"tenant_42\".\"{table}\"")), "{sql}");
        }
        // A table that declares its schema keeps it.
        assert!(sql.contains("\"billing\".\"invoices\""), "{sql}");
        assert!(
            !sql.contains("\"public\"") && !sql.contains("\"main\""),
            "{sql}"
        );
    }
}

#[test]
fn writes_target_the_qualified_table() {
    let insert = Insert::<Order>::scoped(&tenant()).set(Order::STATUS, "open");
    let update = Update::<Order>::scoped(&tenant())
        .set(Order::STATUS, "paid")
        .filter(Order::CUSTOMER_ID.in_subquery(Customer::ID.subquery(Customer::NAME.eq("x"))));
    let delete = Order::delete(&tenant());
    let expectations: [(&dyn BuildStatement, &str); 3] = [
        (&insert, "INSERT INTO \"app\".\"orders\" ("),
        (&update, "UPDATE \"app\".\"orders\" SET"),
        (&delete, "DELETE FROM \"app\".\"orders\""),
    ];
    for (statement, start) in expectations {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let built = statement.build_in(dialect, &schema("app")).expect("builds");
            assert!(built.sql().starts_with(start), "{}", built.sql());
        }
    }
    let update = built_in(&update, Dialect::Postgres, "app");
    assert!(
        update.sql().contains("FROM \"app\".\"customers\""),
        "{}",
        update.sql()
    );
}

#[test]
fn the_dialects_default_schemas_are_public_and_main() {
    let select = Plan::select().column(Plan::ID);
    assert_eq!(
        select.to_postgres().expect("builds").sql(),
        r#"SELECT "plans"."id" FROM "public"."plans""#
    );
    assert_eq!(
        select.to_sqlite().expect("builds").sql(),
        r#"SELECT "plans"."id" FROM "main"."plans""#
    );
    assert_eq!(
        select.build(Dialect::Postgres),
        select.build_in(Dialect::Postgres, Dialect::Postgres.default_schema())
    );
}

#[test]
fn a_statement_lists_each_table_it_references_once_in_order() {
    let select =
        Order::select(&tenant())
            .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
            .join_global::<Plan>(Plan::ID.eq_col(Customer::PLAN_ID))
            .filter(Filter::exists::<Line>(
                Line::ORDER_ID
                    .eq_col(Order::ID)
                    .and(Line::QTY.in_subquery(Order::TOTAL.subquery(Order::ID.gt(1)))),
            ))
            .filter(Order::CUSTOMER_ID.in_subquery(
                Customer::ID.subquery(
                    Customer::ID.in_subquery(Invoice::ORDER_ID.subquery(Filter::all([]))),
                ),
            ));
    let statement = select.to_postgres().expect("builds");
    assert_eq!(
        names(&statement),
        ["orders", "customers", "plans", "order_lines", "invoices"]
    );
    let metas: [&'static TableMeta; 5] = [
        Order::meta(),
        Customer::meta(),
        Plan::meta(),
        Line::meta(),
        Invoice::meta(),
    ];
    for (listed, expected) in statement.tables().iter().zip(metas) {
        assert!(core::ptr::eq(*listed, expected));
    }

    let count = Order::select(&tenant())
        .count()
        .to_sqlite()
        .expect("builds");
    assert_eq!(names(&count), ["orders"]);
    let exists = Customer::select(&tenant())
        .filter(Filter::not_exists::<Order>(
            Order::CUSTOMER_ID.eq_col(Customer::ID),
        ))
        .exists()
        .to_sqlite()
        .expect("builds");
    assert_eq!(names(&exists), ["customers", "orders"]);
    let insert = Insert::<Plan>::global()
        .set(Plan::ID, 1)
        .to_postgres()
        .expect("builds");
    assert_eq!(names(&insert), ["plans"]);
    let delete = Order::delete(&tenant())
        .filter(Filter::exists::<Invoice>(
            Invoice::ORDER_ID.eq_col(Order::ID),
        ))
        .to_postgres()
        .expect("builds");
    assert_eq!(names(&delete), ["orders", "invoices"]);
}
