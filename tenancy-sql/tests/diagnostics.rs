//! How problems read: the line, a caret under the offending part, the fix;
//! several at once, in the order of the text.

mod support;

use support::catalog;
use tenancy_sql::Problem;

#[test]
fn a_problem_on_a_later_line_shows_that_line() {
    let sql = "SELECT o.id, c.name\n  FROM {Order} o\n  JOIN {Customer} c ON c.id = o.customer_id\n WHERE o.tenant_id = $tenant";
    let error = tenancy_sql::check(sql)
        .unwrap()
        .verify(catalog)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`c` (`{Customer}`) in this JOIN has no tenant conjunct
  |
3 |   JOIN {Customer} c ON c.id = o.customer_id
  |        ^^^^^^^^^^
  = help: add `AND c.tenant_id = $tenant` to its `ON` clause or to the `WHERE` of this SELECT"
    );
}

#[test]
fn several_problems_are_listed_in_the_order_of_the_text() {
    let sql = "SELECT set_config('a', 'b', true) FROM orders o, pg_class p WHERE o.x = $1";
    let errors = tenancy_sql::check(sql).unwrap_err();
    let problems: Vec<Problem> = errors.iter().map(|d| d.problem()).collect();
    assert_eq!(problems, [Problem::Parameter]);
    // Lexical problems come first; once the text lexes, the rest at once.
    let sql = "SELECT set_config('a', 'b', true) FROM orders o, pg_class p WHERE o.x = $x";
    let errors = tenancy_sql::check(sql).unwrap_err();
    let problems: Vec<(Problem, &str)> = errors
        .iter()
        .map(|d| (d.problem(), &sql[d.span()]))
        .collect();
    assert_eq!(
        problems,
        [
            (Problem::Function, "set_config"),
            (Problem::TableName, "orders"),
            (Problem::SystemCatalog, "pg_class"),
        ]
    );
    let text = errors.to_string();
    assert_eq!(text.matches("\n  |").count(), 6, "{text}");
    assert!(!errors.is_empty() && errors.len() == 3 && errors.has(Problem::SystemCatalog));
}

#[test]
fn each_problem_says_what_is_wrong_and_what_to_write() {
    let errors = tenancy_sql::check("SELECT 1 FROM {Order}").unwrap_err();
    let problem = errors.iter().next().unwrap();
    assert_eq!(problem.message(), "`{Order}` needs an alias");
    assert_eq!(
        problem.help_text(),
        Some(
            "write `{Order} t`, so that its tenant conjunct can name it: `t.<tenant column> = $tenant`"
        )
    );
    assert_eq!(
        problem.to_string(),
        "`{Order}` needs an alias: write `{Order} t`, so that its tenant conjunct can name it: \
         `t.<tenant column> = $tenant`"
    );
    assert_eq!(errors.sql(), "SELECT 1 FROM {Order}");
}

#[test]
fn requirements_name_the_column_when_it_is_known_and_not_before() {
    let sql = "UPDATE {Order} o SET total = 0 WHERE o.id = $id";
    let checked = tenancy_sql::check(sql).unwrap();
    let requirement = &checked.tables()[0].requirements()[0];
    let unknown = requirement.diagnostic(None);
    assert_eq!(
        unknown.help_text(),
        Some("add `AND o.<tenant column> = $tenant` to the `WHERE` of this UPDATE")
    );
    let known = requirement.diagnostic(Some("org"));
    assert_eq!(
        known.help_text(),
        Some("add `AND o.org = $tenant` to the `WHERE` of this UPDATE")
    );
    assert_eq!(&sql[known.span()], "{Order}");
}

#[test]
fn unknown_types_are_reported_by_verify() {
    let checked =
        tenancy_sql::check("SELECT x.id FROM {Mystery} x WHERE x.tenant_id = $tenant").unwrap();
    let error = checked.verify(|_| None).unwrap_err();
    let problem = error.iter().next().unwrap();
    assert_eq!(problem.problem(), Problem::UnknownTable);
    assert_eq!(problem.message(), "`{Mystery}` is not a known table");
}

#[test]
fn tabs_and_wide_characters_keep_the_caret_under_the_part() {
    let sql = "SELECT 'größe',\to.id FROM orders o";
    let errors = tenancy_sql::check(sql).unwrap_err();
    let text = errors.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let column = |line: &str, at: usize| line[..at].chars().count();
    let orders = column(lines[2], lines[2].find("orders").unwrap());
    let caret = column(lines[3], lines[3].find('^').unwrap());
    assert_eq!(caret, orders, "{text}");
    assert!(
        lines[2].contains("    o.id"),
        "tabs are shown as spaces: {text}"
    );
}
