//! Attacks on the builder through its public (and `#[doc(hidden)]`) API:
//! hand-made columns and tables that try to assign the tenant column, escape
//! identifier quoting, or drop a tenant predicate.

mod tables;

use tables::{Customer, Order};
use tenancy_core::sea_query::Value;
use tenancy_core::{
    BuildError, BuildStatement, Column, Delete, Filter, GlobalTable, Insert, InsertRow, Select,
    Table, TableMeta, TenantColumnMeta, TenantId, TenantScoped, Update,
};

fn tenant() -> TenantId<i64> {
    TenantId::from_verified(7)
}

/// The error of a statement that must not build, the same in both dialects.
fn refused(builder: &impl BuildStatement) -> BuildError {
    let postgres = builder
        .to_postgres()
        .expect_err("statement must be refused");
    let sqlite = builder.to_sqlite().expect_err("statement must be refused");
    assert_eq!(postgres, sqlite);
    postgres
}

/// SQLite matches identifiers case-insensitively, quoted or not: there,
/// `"TENANT_ID"` *is* the tenant column.
const RESPELLED_TENANT_COLUMNS: [&str; 3] = ["TENANT_ID", "Tenant_Id", "tenant_ID"];

#[test]
fn a_respelled_tenant_column_cannot_be_assigned_by_update() {
    for spelling in RESPELLED_TENANT_COLUMNS {
        let forged = Column::<Order, i64>::new(spelling);
        let update = Update::<Order>::scoped(&tenant()).set(forged, 8);
        assert_eq!(
            refused(&update),
            BuildError::TenantColumnAssigned {
                table: "orders",
                column: spelling,
            }
        );
    }
}

#[test]
fn a_respelled_tenant_column_cannot_be_assigned_by_insert() {
    for spelling in RESPELLED_TENANT_COLUMNS {
        let forged = Column::<Order, i64>::new(spelling);
        let expected = BuildError::TenantColumnAssigned {
            table: "orders",
            column: spelling,
        };
        let insert = Insert::<Order>::scoped(&tenant())
            .set(Order::STATUS, "open")
            .set(forged, 8);
        assert_eq!(refused(&insert), expected);

        let upsert = Insert::<Order>::scoped(&tenant())
            .set(Order::ID, 1)
            .on_conflict_do_update((Order::ID,), (forged,));
        assert_eq!(refused(&upsert), expected);
    }
}

/// A hand-written row that names the tenant column in another case.
struct RespelledRow;

impl Table for RespelledRow {
    fn meta() -> &'static TableMeta {
        Order::meta()
    }
}

impl TenantScoped for RespelledRow {
    type Key = i64;
}

impl InsertRow for RespelledRow {
    fn insert_values(&self) -> Vec<(&'static str, Value)> {
        vec![("status", "open".into()), ("Tenant_Id", 8i64.into())]
    }
}

#[test]
fn a_respelled_tenant_column_cannot_come_from_a_hand_written_row() {
    let insert = Insert::<RespelledRow>::scoped(&tenant()).row(&RespelledRow);
    assert_eq!(
        refused(&insert),
        BuildError::TenantColumnAssigned {
            table: "orders",
            column: "Tenant_Id",
        }
    );
}

#[test]
fn hostile_column_names_stay_inside_their_quotes() {
    let hostile = Column::<Order, i64>::new(r#"id" = 1 OR 1=1 --"#);
    let statement = Select::<Order>::scoped(&tenant())
        .column(hostile)
        .filter(hostile.eq(1))
        .to_postgres()
        .expect("builds");
    assert_eq!(
        statement.sql,
        r#"SELECT "orders"."id"" = 1 OR 1=1 --" FROM "orders" WHERE "orders"."tenant_id" = $1 AND "orders"."id"" = 1 OR 1=1 --" = $2"#
    );
}

/// A table whose metadata is hand-made with hostile table and tenant
/// column names.
struct HostileTable;

impl Table for HostileTable {
    fn meta() -> &'static TableMeta {
        static META: TableMeta = TableMeta::new(
            Some(r#"s"; DROP TABLE x; --"#),
            r#"t" OR "x"#,
            Some(TenantColumnMeta::new::<i64>(r#"tenant_id" OR TRUE OR "y"#)),
            &[],
            &[],
        );
        &META
    }
}

impl TenantScoped for HostileTable {
    type Key = i64;
}

#[test]
fn hostile_table_and_tenant_column_names_stay_inside_their_quotes() {
    let sql = Select::<HostileTable>::scoped(&tenant())
        .to_sqlite()
        .expect("builds")
        .sql;
    assert_eq!(
        sql,
        r#"SELECT "t"" OR ""x"."tenant_id"" OR TRUE OR ""y" FROM "s""; DROP TABLE x; --"."t"" OR ""x" WHERE "t"" OR ""x"."tenant_id"" OR TRUE OR ""y" = ?"#
    );
}

#[test]
fn an_or_in_a_join_condition_stays_beside_the_tenant_predicate() {
    let on = Customer::ID
        .eq_col(Order::CUSTOMER_ID)
        .or(Filter::exists::<Order>(Filter::any([])));
    let sql = Select::<Order>::scoped(&tenant())
        .join::<Customer>(on)
        .column(Order::ID)
        .to_postgres()
        .expect("builds")
        .sql;
    assert_eq!(
        sql,
        r#"SELECT "orders"."id" FROM "orders" INNER JOIN "customers" ON "customers"."tenant_id" = $1 AND ("customers"."id" = "orders"."customer_id" OR EXISTS(SELECT 1 FROM "orders" WHERE "orders"."tenant_id" = $2 AND FALSE)) WHERE "orders"."tenant_id" = $3"#
    );
}

/// A tenant table that also claims, by a hand-written impl, to be global.
struct ClaimsToBeGlobal;

impl Table for ClaimsToBeGlobal {
    fn meta() -> &'static TableMeta {
        Order::meta()
    }
}

impl GlobalTable for ClaimsToBeGlobal {}

#[test]
fn a_tenant_table_marked_global_by_hand_still_needs_a_tenant() {
    let expected = BuildError::ScopedTableWithoutTenant {
        table: "orders",
        outer: "orders",
    };
    assert_eq!(refused(&Select::<ClaimsToBeGlobal>::global()), expected);
    assert_eq!(
        refused(&Select::<ClaimsToBeGlobal>::global().count()),
        expected
    );
    assert_eq!(refused(&Delete::<ClaimsToBeGlobal>::global()), expected);
    let forged = Column::<ClaimsToBeGlobal, String>::new("status");
    assert_eq!(
        refused(&Update::<ClaimsToBeGlobal>::global().set(forged, "x")),
        expected
    );
    assert_eq!(
        refused(&Insert::<ClaimsToBeGlobal>::global().set(forged, "x")),
        expected
    );
}
