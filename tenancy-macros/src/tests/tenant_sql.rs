//! `tenant_sql!`: what it reports, where, and what it expands to.

use insta::assert_snapshot;

use super::{Reported, tokens};
use crate::tenant_sql;

/// Every error `tenant_sql!(input)` reports, in order.
fn reported(input: &str) -> Vec<Reported> {
    tenant_sql::errors(tokens(input))
        .into_iter()
        .map(|error| Reported {
            message: error.to_string(),
            at: error.span().source_text().unwrap_or_default(),
        })
        .collect()
}

/// The expansion, formatted as rustfmt would, inside a function.
fn pretty(input: &str) -> String {
    let expanded = tenant_sql::expand(tokens(input));
    let file: syn::File = syn::parse2(quote::quote!(fn statement() { #expanded }))
        .unwrap_or_else(|error| panic!("expansion does not parse: {error}\n{expanded}"));
    prettyplease::unparse(&file)
}

#[test]
fn a_statement_expands_to_assertions_a_template_and_checked_values() {
    assert_snapshot!(pretty(
        r#"&tenant,
        "SELECT o.id, p.name FROM {Order} o JOIN {billing::Plan} p ON p.id = o.plan_id
         WHERE o.tenant_id = $tenant AND o.status = $status AND o.total > $least",
        least = 10 * 100,
        status,"#
    ));
}

#[test]
fn errors_keep_a_statement_of_the_right_type() {
    assert_snapshot!(pretty(
        r#"&tenant, "SELECT o.id FROM orders o WHERE o.tenant_id = $tenant AND o.a = $a", a = x"#
    ));
}

#[test]
fn problems_in_the_sql_show_the_line_and_a_caret_at_the_literal() {
    let all = reported(
        r#"&tenant, "SELECT o.id FROM orders o WHERE o.tenant_id = $tenant; DELETE FROM {Order} AS d""#,
    );
    let messages: Vec<&str> = all.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        ["only one statement is allowed, and another one starts here
  |
1 | SELECT o.id FROM orders o WHERE o.tenant_id = $tenant; DELETE FROM {Order} AS d
  |                                                        ^^^^^^^^^^^^^^^^^^^^^^^^
  = help: run each statement on its own"]
    );
    assert!(all[0].at.starts_with("\"SELECT"), "{:?}", all[0].at);
}

#[test]
fn every_parameter_needs_an_argument_and_every_argument_a_parameter() {
    let all = reported(
        r#"&tenant, "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant AND o.s = $statsu AND o.t = $kind",
        status, kind = 1, kind = 2, tenant = 3"#,
    );
    let found: Vec<(&str, &str)> = all
        .iter()
        .map(|e| (e.message.lines().next().unwrap_or_default(), e.at.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("`kind` is given twice", "kind"),
            (
                "`$tenant` is always bound to the witness's key, never to a value: give this parameter another name, here and in the SQL",
                "tenant"
            ),
            ("`$statsu` has no value", found[2].1),
            (
                "`status` is not used: the SQL has no `$status` (did you mean `statsu`, for `$statsu`?)",
                "status"
            ),
        ]
    );
    assert!(all[2].message.ends_with(
        "= help: pass `statsu = ..` to `tenant_sql!` after the SQL, or write `$status` for the parameter `status` that is given"
    ));
    let lines: Vec<&str> = all[2].message.lines().collect();
    assert_eq!(lines[2].find("$statsu"), lines[3].find("^^^^^^^"));
    assert!(lines[3].ends_with("^^^^^^^"), "{}", all[2].message);
}

#[test]
fn arguments_are_matched_even_when_the_sql_is_refused() {
    let all = reported(r#"&tenant, "SELECT 1 FROM orders o", tenant = 1"#);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[1].at, "tenant");
}

#[test]
fn a_slot_must_be_a_rust_path() {
    let all = reported(r#"&tenant, "SELECT x.id FROM {fn} x WHERE x.tenant_id = $tenant""#);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(
        all[0].message.starts_with("`{fn}` is not a Rust type path"),
        "{}",
        all[0].message
    );
}

#[test]
fn malformed_calls_say_what_the_form_is() {
    let form = "`tenant_sql!(&tenant, \"SELECT .. FROM {Order} o WHERE o.tenant_id = $tenant AND o.status = $status\", status = ..)`";
    let cases: [(&str, String, &str); 5] = [
        (
            "",
            format!("`tenant_sql!` takes the tenant witness, the SQL and its parameters: {form}"),
            "",
        ),
        (
            "&tenant",
            format!("the SQL is missing: after the witness comes the SQL as a string literal, {form}"),
            "&tenant",
        ),
        (
            "&tenant, SQL",
            "the SQL of `tenant_sql!` must be a string literal, which the macro checks when the program is compiled; a constant, `concat!` or `format!` cannot be checked".to_owned(),
            "SQL",
        ),
        (
            r#"&tenant, "SELECT 1", 5"#,
            "expected a parameter: `name = value` for `$name` in the SQL, or `name` alone to pass the variable of that name".to_owned(),
            "5",
        ),
        (
            r#"crate = tenancy, &tenant, "SELECT 1""#,
            "`crate` takes the path of the tenancy crate as a string: `crate = \"::tenancy_core\"`".to_owned(),
            "tenancy",
        ),
    ];
    for (input, message, at) in cases {
        let all = reported(input);
        assert_eq!(all.len(), 1, "{input}: {all:#?}");
        assert_eq!(all[0].message, message, "{input}");
        assert_eq!(all[0].at, at, "{input}");
    }
}

#[test]
fn the_runtime_crate_can_be_named() {
    let expanded = pretty(r#"crate = "::my_app::db", &tenant, "SELECT 1""#);
    assert!(
        expanded.contains("::my_app::db::__private_v0_1::witness(&tenant)"),
        "{expanded}"
    );
    assert!(!expanded.contains("tenancy_core"), "{expanded}");
}
