//! The template of checked SQL: its segments, and rendering them for
//! PostgreSQL and SQLite.

mod support;

use support::accepted;
use tenancy_sql::{Backend, Param, QualifiedName, RenderError, Segment};

fn schema_orders(name: &str) -> QualifiedName<'static> {
    match name {
        "Order" => QualifiedName::new("acme", "orders"),
        "Customer" => QualifiedName::new("acme", "customers"),
        _ => QualifiedName::unqualified("other"),
    }
}

#[test]
fn segments_split_text_tables_and_parameters() {
    let checked = accepted(
        "SELECT o.id FROM {Order} o JOIN {Customer} c ON c.tenant_id = $tenant WHERE o.tenant_id = $tenant AND o.s = $status",
    );
    let template = checked.template();
    assert_eq!(
        template.segments(),
        [
            Segment::Text("SELECT o.id FROM ".into()),
            Segment::Table(0),
            Segment::Text(" o JOIN ".into()),
            Segment::Table(1),
            Segment::Text(" c ON c.tenant_id = ".into()),
            Segment::Param(0),
            Segment::Text(" WHERE o.tenant_id = ".into()),
            Segment::Param(0),
            Segment::Text(" AND o.s = ".into()),
            Segment::Param(1),
        ]
    );
    assert_eq!(template.slots(), ["Order", "Customer"]);
    assert_eq!(
        template.params(),
        [Param::Tenant, Param::Named("status".into())]
    );
    assert_eq!(template.params()[1].name(), "status");
    assert_eq!(checked.tables()[1].slot(), 1);
}

#[test]
fn postgres_numbers_each_parameter_once() {
    let checked = accepted(
        "SELECT o.id FROM {Order} o WHERE o.s = $status AND o.tenant_id = $tenant AND o.t = $status",
    );
    let rendered = checked
        .template()
        .render(Backend::Postgres, schema_orders)
        .unwrap();
    assert_eq!(
        rendered.sql,
        "SELECT o.id FROM \"acme\".\"orders\" o WHERE o.s = $1 AND o.tenant_id = $2 AND o.t = $1"
    );
    assert_eq!(rendered.binds, [0, 1]);
    assert_eq!(
        checked.template().params()[0],
        Param::Named("status".into())
    );
}

#[test]
fn sqlite_binds_every_occurrence_in_order() {
    let checked = accepted(
        "SELECT o.id FROM {Order} o WHERE o.s = $status AND o.tenant_id = $tenant AND o.t = $status",
    );
    let rendered = checked
        .template()
        .render(Backend::Sqlite, |_| QualifiedName::unqualified("orders"))
        .unwrap();
    assert_eq!(
        rendered.sql,
        "SELECT o.id FROM \"orders\" o WHERE o.s = ? AND o.tenant_id = ? AND o.t = ?"
    );
    assert_eq!(rendered.binds, [0, 1, 0]);
}

#[test]
fn names_are_quoted_so_they_cannot_add_sql() {
    let checked = accepted("SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant");
    let rendered = checked
        .template()
        .render(Backend::Postgres, |_| {
            QualifiedName::new("a\"; DROP TABLE x; --", "o\"rders")
        })
        .unwrap();
    assert_eq!(
        rendered.sql,
        "SELECT o.id FROM \"a\"\"; DROP TABLE x; --\".\"o\"\"rders\" o WHERE o.tenant_id = $1"
    );
}

#[test]
fn slots_and_parameters_never_run_into_their_neighbours() {
    let checked = accepted("SELECT o.id FROM{Order}o WHERE o.tenant_id=$tenant");
    let rendered = checked
        .template()
        .render(Backend::Postgres, schema_orders)
        .unwrap();
    assert_eq!(
        rendered.sql,
        "SELECT o.id FROM \"acme\".\"orders\" o WHERE o.tenant_id=$1"
    );
}

#[test]
fn comments_do_not_reach_the_database() {
    let checked = accepted(
        "-- the open orders\nSELECT o.id /* id */ FROM {Order} o -- scoped\nWHERE o.tenant_id = $tenant -- end",
    );
    let rendered = checked
        .template()
        .render(Backend::Sqlite, |_| QualifiedName::unqualified("orders"))
        .unwrap();
    assert_eq!(
        rendered.sql,
        "SELECT o.id   FROM \"orders\" o  \nWHERE o.tenant_id = ?"
    );
    // A runtime that appends a clause cannot have it swallowed by a comment.
    assert!(!rendered.sql.contains("--"));
}

#[test]
fn postgres_only_syntax_is_refused_for_sqlite() {
    for sql in [
        "SELECT o.id::text FROM {Order} o WHERE o.tenant_id = $tenant",
        "SELECT $$x$$ FROM {Order} o WHERE o.tenant_id = $tenant",
        "SELECT E'x\\n' FROM {Order} o WHERE o.tenant_id = $tenant",
        "SELECT o.data ? 'key' FROM {Order} o WHERE o.tenant_id = $tenant",
        "SELECT o.data @> '{}' FROM {Order} o WHERE o.tenant_id = $tenant",
        // SQLite reads `[$x]` as a quoted name, so its `?` would not bind.
        "SELECT o.tags[$x] FROM {Order} o WHERE o.tenant_id = $tenant",
    ] {
        let checked = accepted(sql);
        assert!(!checked.template().runs_on_sqlite(), "{sql}");
        let error = checked
            .template()
            .render(Backend::Sqlite, |_| QualifiedName::unqualified("orders"))
            .unwrap_err();
        let RenderError::NotSqlite { .. } = &error;
        assert!(
            error.to_string().contains("PostgreSQL-only syntax"),
            "{error}"
        );
        assert!(
            checked
                .template()
                .render(Backend::Postgres, schema_orders)
                .is_ok()
        );
    }
    assert!(
        accepted("SELECT 'a:b?@$' FROM {Order} o WHERE o.tenant_id = $tenant")
            .template()
            .runs_on_sqlite()
    );
}

#[test]
fn the_template_prints_as_checkable_text() {
    let sql = "SELECT o.id FROM {billing::Order} o WHERE o.tenant_id = $tenant AND o.x = $x";
    let checked = accepted(sql);
    assert_eq!(checked.template().to_string(), sql);
    assert_eq!(checked.tables()[0].type_name(), "billing::Order");
    assert_eq!(
        tenancy_sql::check(&checked.template().to_string()).unwrap(),
        checked
    );
}
