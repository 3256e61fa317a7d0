//! A value is only ever a placeholder: whatever a caller passes (text full
//! of quotes, placeholders and comments, a type of its own converted into
//! text), the SQL text of a statement is the same as with any other value,
//! on both dialects, and the value travels as a binding. A value of a kind
//! the library never binds is refused, not written.

mod tables;

use proptest::prelude::*;
use tables::{Customer, Order};
use tenancy_core::sea_query::{
    self, Enum, Expr, ExprTrait, OptionEnum, PostgresQueryBuilder, Query, Value,
};
use tenancy_core::{
    BuildError, BuildStatement, Dialect, Filter, Insert, Statement, TenantId, Update, tenant_scoped,
};

fn tenant() -> TenantId<i64> {
    TenantId::from_verified(7)
}

/// Text a user might control, converted into the column's type by the
/// caller's own `From` impl.
#[derive(Clone)]
struct UserText(String);

impl From<UserText> for String {
    fn from(text: UserText) -> String {
        text.0
    }
}

/// Statements of every kind that take text values from `text`.
fn statements(text: &str, number: i64) -> Vec<Box<dyn BuildStatement>> {
    let user = || String::from(UserText(text.to_owned()));
    vec![
        Box::new(
            Order::select(&tenant())
                .filter(Order::STATUS.eq(user()).or(Order::STATUS.ne(user())))
                .filter(Order::STATUS.is_in([UserText(text.to_owned()), UserText(text.to_owned())]))
                .filter(Order::STATUS.between(user(), user()))
                .filter(Order::STATUS.like(text))
                .filter(Order::TOTAL.gt(number))
                .filter(Filter::exists::<Customer>(
                    Customer::NAME
                        .eq(user())
                        .and(Customer::ID.eq_col(Order::CUSTOMER_ID)),
                ))
                .limit(number.unsigned_abs()),
        ),
        Box::new(
            Insert::<Order>::scoped(&tenant())
                .set(Order::STATUS, user())
                .set(Order::TOTAL, number)
                .new_row()
                .set(Order::STATUS, user())
                .set(Order::TOTAL, number),
        ),
        Box::new(
            Update::<Order>::scoped(&tenant())
                .set(Order::STATUS, user())
                .filter(Order::STATUS.not_like(text)),
        ),
        Box::new(Order::delete(&tenant()).filter(Order::STATUS.eq(user()))),
    ]
}

fn build(statement: &dyn BuildStatement, dialect: Dialect) -> Statement {
    statement.build(dialect).expect("builds")
}

const HOSTILE: &[&str] = &[
    "x' OR '1'='1",
    "\"; DROP TABLE orders; --",
    "$1",
    "?",
    "/* comment */",
    "') OR TRUE --",
    "\0",
    "tenant_id\" = \"tenant_id",
    "E'\\''",
];

#[test]
fn text_a_user_controls_is_only_ever_a_placeholder() {
    let baseline = statements("plain", 1);
    for hostile in HOSTILE {
        for (index, statement) in statements(hostile, 1).iter().enumerate() {
            for dialect in [Dialect::Postgres, Dialect::Sqlite] {
                let built = build(&**statement, dialect);
                let plain = build(&*baseline[index], dialect);
                assert_eq!(built.sql(), plain.sql(), "{hostile:?}");
                // (`$1` and `?` are in every statement, as placeholders.)
                assert!(
                    plain.sql().contains(hostile) || !built.sql().contains(hostile),
                    "{hostile:?} in {}",
                    built.sql()
                );
                let bound = Value::from(*hostile);
                assert!(built.values().0.contains(&bound), "{hostile:?} not bound");
                assert_eq!(built.values().0.len(), plain.values().0.len());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// No input makes the SQL text depend on a value.
    #[test]
    fn no_value_changes_the_sql_text(text in any::<String>(), number in any::<i64>()) {
        let baseline = statements("plain", 1);
        for (index, statement) in statements(&text, number).iter().enumerate() {
            for dialect in [Dialect::Postgres, Dialect::Sqlite] {
                let built = build(&**statement, dialect);
                let plain = build(&*baseline[index], dialect);
                prop_assert_eq!(built.sql(), plain.sql());
                prop_assert!(built.values().0.contains(&Value::from(text.as_str())));
            }
        }
    }
}

/// A column type of the application's own, stored with a verbatim SQL type
/// and converted into a value that sea-query writes with text from the
/// value: a PostgreSQL enum whose type name closes the quotes around it.
#[derive(Clone)]
struct Mood;

impl From<Mood> for Value {
    fn from(_: Mood) -> Value {
        Value::Enum(OptionEnum::Some(Box::new(Enum {
            type_name: "mood\"; SELECT set_config('app.tenant_id', '8', true); --".into(),
            value: "happy".into(),
        })))
    }
}

#[tenant_scoped]
#[derive(Clone)]
struct Diary {
    tenant_id: i64,
    #[tenancy(primary_key)]
    id: i64,
    #[tenancy(sql_type = "mood")]
    mood: Mood,
}

#[test]
fn values_of_kinds_the_library_never_binds_are_refused() {
    let row = Diary {
        tenant_id: 0,
        id: 1,
        mood: Mood,
    };
    let insert = Insert::<Diary>::scoped(&tenant()).row(&row);
    let expected = BuildError::UnsupportedValue {
        kind: "Enum".to_owned(),
    };
    assert_eq!(insert.to_postgres(), Err(expected.clone()));
    assert_eq!(insert.to_sqlite(), Err(expected.clone()));
    assert!(
        expected.to_string().contains("cannot be bound"),
        "{expected}"
    );
    assert_eq!((row.tenant_id, row.id), (0, 1));
}

/// Why the writer refuses enums: sea-query's PostgreSQL writer places an
/// enum's type name after the placeholder inside double quotes without
/// doubling a quote in it, so a type name with a `"` ends the identifier and
/// the rest of the name becomes SQL. (Shown here so that a fix upstream is
/// noticed; the library never hands sea-query a value to write.)
#[test]
fn sea_query_writes_an_enum_type_name_without_escaping_it() {
    let (sql, values) = Query::select()
        .column("id")
        .from("diaries")
        .and_where(Expr::col("mood").eq(Value::from(Mood)))
        .build(PostgresQueryBuilder);
    assert_eq!(
        sql,
        r#"SELECT "id" FROM "diaries" WHERE "mood" = $1::"mood"; SELECT set_config('app.tenant_id', '8', true); --""#
    );
    assert_eq!(values.0, [sea_query::Value::from("happy")]);
}
