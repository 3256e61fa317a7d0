//! Every statement that could lose a tenant predicate, or that is malformed,
//! is refused with an error that names the table and the fix.

mod tables;

use tables::{Account, Country, Customer, Order, Plan};
use tenancy_core::{
    BuildError, BuildStatement, Filter, Insert, KeyValue, Select, SqlType, TenantId, Update,
};

fn tenant() -> TenantId<i64> {
    TenantId::from_verified(4_000_000_001)
}

/// The error of a statement that must not build, in both dialects.
fn refused(builder: &impl BuildStatement) -> BuildError {
    let postgres = builder
        .to_postgres()
        .expect_err("statement must be refused");
    let sqlite = builder.to_sqlite().expect_err("statement must be refused");
    assert_eq!(postgres, sqlite);
    postgres
}

#[test]
fn an_insert_without_rows_is_refused() {
    let error = refused(&Insert::<Order>::scoped(&tenant()));
    assert_eq!(error, BuildError::EmptyInsert { table: "orders" });
    assert!(
        error.to_string().contains("`.row(..)` or `.set(..)`"),
        "{error}"
    );
}

#[test]
fn insert_rows_must_set_the_same_columns() {
    let insert = Insert::<Order>::scoped(&tenant())
        .set(Order::STATUS, "open")
        .new_row()
        .set(Order::TOTAL, 3);
    assert_eq!(
        refused(&insert),
        BuildError::InconsistentRows {
            table: "orders",
            row: 1
        }
    );

    let fewer = Insert::<Order>::scoped(&tenant())
        .set(Order::STATUS, "open")
        .set(Order::TOTAL, 3)
        .new_row()
        .set(Order::TOTAL, 3);
    assert_eq!(
        refused(&fewer),
        BuildError::InconsistentRows {
            table: "orders",
            row: 1
        }
    );
}

#[test]
fn a_global_row_must_set_a_column() {
    let insert = Insert::<Plan>::global().new_row();
    let error = refused(&insert);
    assert_eq!(
        error,
        BuildError::EmptyRow {
            table: "plans",
            row: 0
        }
    );
    // A scoped row always has its tenant column, so an all-default row is fine.
    assert!(
        Insert::<Order>::scoped(&tenant())
            .new_row()
            .to_postgres()
            .is_ok()
    );
}

#[test]
fn an_update_without_set_is_refused() {
    let update = Update::<Order>::scoped(&tenant()).filter(Order::ID.eq(1));
    let error = refused(&update);
    assert_eq!(error, BuildError::EmptyUpdate { table: "orders" });
    assert!(error.to_string().contains(".set(column, value)"), "{error}");
}

#[test]
fn a_scoped_table_in_a_global_statement_is_refused() {
    let expected = BuildError::ScopedTableWithoutTenant {
        table: "orders",
        outer: "plans",
    };
    let exists = Select::<Plan>::global().filter(Filter::exists::<Order>(Order::TOTAL.gt(0)));
    assert_eq!(refused(&exists), expected);

    let nested = Select::<Plan>::global().filter(Filter::exists::<Country>(
        Country::ID.in_subquery(Order::CUSTOMER_ID.subquery(Order::TOTAL.gt(0))),
    ));
    assert_eq!(refused(&nested), expected);

    let update = Update::<Plan>::global()
        .set(Plan::PRICE, 0)
        .filter(Plan::ID.in_subquery(Order::TOTAL.subquery(Filter::all([]))));
    let error = refused(&update);
    assert_eq!(error, expected);
    assert!(error.to_string().contains("with a `TenantId`"), "{error}");
}

#[test]
fn a_table_joined_twice_is_refused() {
    let self_join =
        Select::<Order>::scoped(&tenant()).join::<Order>(Order::ID.eq_col(Order::CUSTOMER_ID));
    assert_eq!(
        refused(&self_join),
        BuildError::DuplicateTable {
            table: "orders".into()
        }
    );

    let twice = Select::<Order>::scoped(&tenant())
        .join_global::<Plan>(Plan::ID.eq_col(Order::TOTAL))
        .left_join_global::<Plan>(Plan::ID.eq_col(Order::TOTAL));
    assert_eq!(
        refused(&twice),
        BuildError::DuplicateTable {
            table: "plans".into()
        }
    );
}

#[test]
fn a_column_of_a_table_not_in_the_statement_is_refused() {
    let expected = BuildError::UnknownTable {
        table: "customers".into(),
        column: "name".into(),
    };
    let filter = Select::<Order>::scoped(&tenant()).filter(Customer::NAME.eq("Ada"));
    assert_eq!(refused(&filter), expected);

    let projection = Select::<Order>::scoped(&tenant()).column(Customer::NAME);
    assert_eq!(refused(&projection), expected);

    let ordering = Select::<Order>::scoped(&tenant()).order_by_asc(Customer::NAME);
    assert_eq!(refused(&ordering), expected);

    // ON may only name tables joined so far.
    let early = Select::<Order>::scoped(&tenant())
        .join::<tables::Line>(
            tables::Line::ORDER_ID
                .eq_col(Order::ID)
                .and(Customer::NAME.eq("Ada")),
        )
        .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID));
    assert_eq!(refused(&early), expected);

    // A subquery's table is not visible outside it.
    let escaped = Update::<Order>::scoped(&tenant())
        .set(Order::TOTAL, 0)
        .filter(
            Order::ID
                .in_subquery(Order::ID.subquery(Filter::all([])))
                .and(Customer::NAME.eq("Ada")),
        );
    assert_eq!(refused(&escaped), expected);
}

#[test]
fn a_subquery_on_a_table_of_another_key_type_is_refused() {
    let select = Select::<Order>::scoped(&tenant())
        .filter(Filter::exists::<Account>(Account::CREDITS.gt(0)));
    let error = refused(&select);
    assert_eq!(
        error,
        BuildError::TenantKeyMismatch {
            table: "accounts",
            column_type: SqlType::Integer,
            key: KeyValue::I64(4_000_000_001),
            key_type: "i64",
        }
    );
    assert!(error.to_string().contains("`accounts`"), "{error}");
}

#[test]
fn refused_statements_still_report_their_scope() {
    let update = Update::<Order>::scoped(&tenant());
    assert_eq!(
        update.scope(),
        tenancy_core::StatementScope::Tenant(KeyValue::I64(4_000_000_001))
    );
}
