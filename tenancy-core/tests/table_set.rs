//! `TableSet` is where an application configures its tables, and it never
//! holds two descriptions of one physical table: every use of a set with a
//! conflict reports it, naming both types and how they differ.

#![allow(dead_code)] // table structs declared for their metadata only

mod tables;

use tables::{Customer, Invoice, Order, Plan};
use tenancy_core::ddl::{Registration, TableSet};
use tenancy_core::{
    DdlError, Dialect, Identifier, SettingName, Table, global_table, tenant_scoped,
};

/// The orders table again, as a global table, spelled in capitals.
#[global_table(table = "ORDERS")]
struct OrderArchive {
    #[tenancy(primary_key)]
    id: i64,
}

/// The orders table again, scoped by another column.
#[tenant_scoped(table = "orders")]
struct OrgOrder {
    #[tenancy(tenant)]
    org_id: i64,
    #[tenancy(primary_key)]
    id: i64,
}

/// The orders table again, with fewer columns.
#[tenant_scoped(table = "orders")]
struct OrderSummary {
    tenant_id: i64,
    #[tenancy(primary_key, generated)]
    id: i64,
    total: i64,
    shipped: bool,
}

/// The orders table again, in the default schema named explicitly.
#[tenant_scoped(schema = "public", table = "orders")]
struct PublicOrder {
    tenant_id: i64,
    #[tenancy(primary_key)]
    id: i64,
}

fn conflict(set: &TableSet) -> (String, &'static str, &'static str, String) {
    match set.validate() {
        Err(DdlError::ConflictingTables {
            table,
            first,
            second,
            difference,
        }) => (table, first, second, difference),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn a_global_table_on_a_tenant_table_s_name_is_refused_in_any_case() {
    let set = TableSet::new().with::<Order>().with::<OrderArchive>();
    let (table, first, second, difference) = conflict(&set);
    assert_eq!(table, "public.orders");
    assert!(first.ends_with("tables::Order"), "{first}");
    assert!(second.ends_with("table_set::OrderArchive"), "{second}");
    assert_eq!(
        difference,
        format!("`{first}` is tenant-scoped by `tenant_id`, `{second}` is global")
    );
    let message = set.validate().unwrap_err().to_string();
    assert!(message.contains("a table is registered once"), "{message}");
}

#[test]
fn another_tenant_column_is_refused() {
    let (_, first, second, difference) =
        conflict(&TableSet::new().with::<Order>().with::<OrgOrder>());
    assert_eq!(
        difference,
        format!("tenant column `tenant_id` (BigInt) in `{first}`, `org_id` (BigInt) in `{second}`")
    );
}

#[test]
fn other_columns_are_refused() {
    let (_, first, second, difference) =
        conflict(&TableSet::new().with::<Order>().with::<OrderSummary>());
    assert_eq!(
        difference,
        format!(
            "other columns: only `{first}` has `customer_id`, `status`, `note`, only `{second}` has `shipped`"
        )
    );
}

#[test]
fn the_default_schema_named_explicitly_is_the_same_table() {
    let set = TableSet::new().with::<Order>().with::<PublicOrder>();
    let (table, ..) = conflict(&set);
    assert_eq!(table, "public.orders");

    // In another default schema they are two tables.
    let app = Identifier::new("schema", "app").expect("an identifier");
    let moved = set.in_schema(app.clone());
    assert!(moved.validate().is_ok());
    // And a conflict found in one schema is found again after a move.
    let back = TableSet::new()
        .in_schema(app)
        .with::<Order>()
        .with::<PublicOrder>()
        .in_schema(Identifier::new("schema", "public").expect("an identifier"));
    assert!(back.validate().is_err());
}

#[test]
fn every_use_of_a_conflicted_set_reports_the_conflict() {
    let set = TableSet::new()
        .with::<Plan>()
        .with::<Order>()
        .with::<OrderArchive>();
    let expected = set.validate().unwrap_err();
    assert_eq!(set.tables().map(<[_]>::len), Err(expected.clone()));
    assert_eq!(
        set.scoped_tables().map(Iterator::count),
        Err(expected.clone())
    );
    for dialect in [Dialect::Postgres, Dialect::Sqlite] {
        assert_eq!(set.create_statements(dialect), Err(expected.clone()));
    }
    assert_eq!(set.lookup(None, "plans").map(|_| ()), Err(expected.clone()));
    assert!(set.registration(Plan::meta()).is_err());
}

#[test]
fn the_same_table_added_twice_is_no_conflict() {
    let set = TableSet::new()
        .with::<Order>()
        .with::<Customer>()
        .with::<Order>();
    assert!(set.validate().is_ok());
    assert_eq!(set.tables().map(<[_]>::len), Ok(2));
}

#[test]
fn tables_are_found_by_their_physical_name() {
    let set = TableSet::new()
        .with::<Plan>()
        .with::<Order>()
        .with::<Invoice>();
    let found = |schema, name| {
        set.lookup(schema, name)
            .expect("no conflict")
            .map(|table| table.type_name)
    };
    assert_eq!(found(None, "orders"), Some(Order::meta().type_name));
    assert_eq!(
        found(Some("public"), "ORDERS"),
        Some(Order::meta().type_name)
    );
    assert_eq!(
        found(Some("billing"), "invoices"),
        Some(Invoice::meta().type_name)
    );
    assert_eq!(found(None, "invoices"), None);
    assert_eq!(found(Some("app"), "orders"), None);
    assert_eq!(found(None, "customers"), None);
}

#[test]
fn a_statement_s_table_is_registered_registered_differently_or_unknown() {
    let set = TableSet::new().with::<Order>();
    assert!(matches!(
        set.registration(Order::meta()),
        Ok(Registration::Registered)
    ));
    match set.registration(OrderArchive::meta()) {
        Ok(Registration::RegisteredAs(known)) => assert!(core::ptr::eq(known, Order::meta())),
        other => panic!("expected RegisteredAs, got {other:?}"),
    }
    assert!(matches!(
        set.registration(Customer::meta()),
        Ok(Registration::Unregistered)
    ));
}

#[test]
fn the_set_carries_the_default_schema_and_the_tenant_setting() {
    let set = TableSet::new().with::<Order>();
    assert_eq!(set.schema(Dialect::Postgres).as_str(), "public");
    assert_eq!(set.schema(Dialect::Sqlite).as_str(), "main");
    assert_eq!(set.setting(), &SettingName::default());

    let tenant_schema = Identifier::new("schema", "tenant_42").expect("an identifier");
    let setting = SettingName::new("myapp.org").expect("a setting name");
    let set = set.in_schema(tenant_schema).with_setting(setting.clone());
    assert_eq!(set.schema(Dialect::Postgres).as_str(), "tenant_42");
    assert_eq!(set.setting(), &setting);
    let ddl = set
        .create_statements(Dialect::Postgres)
        .expect("valid tables");
    assert!(
        ddl[0].starts_with("CREATE TABLE IF NOT EXISTS \"tenant_42\".\"orders\" ("),
        "{}",
        ddl[0]
    );
    assert!(
        ddl.iter()
            .all(|statement| !statement.contains("\"public\"")),
        "{ddl:#?}"
    );
}
