//! No input makes `check` or `confine` panic or overflow the stack:
//! arbitrary text, SQL-like token soup, mutated valid statements, and the
//! deepest syntax trees the token limit allows, on a 2 MiB thread.

mod plan;

use plan::render;
use plan::strategies::statement;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use tenancy_sql::{AllowList, Problem};

fn allow() -> AllowList {
    AllowList::analytics()
        .tenant_table("orders", "tenant_id")
        .and_then(|a| a.global_table("countries"))
        .unwrap()
}

/// Runs both entry points; they may refuse, never panic.
fn both(sql: &str) {
    let checked = tenancy_sql::check(sql);
    if let Ok(checked) = &checked {
        let _ = checked.verify(|_| {
            Some(tenancy_sql::TableKind::Tenant {
                column: "tenant_id",
            })
        });
        let _ = checked
            .template()
            .render(tenancy_sql::Backend::Sqlite, |_| {
                tenancy_sql::QualifiedName::unqualified("t")
            });
    }
    if let Err(errors) = &checked {
        // Rendering every diagnostic must work for any span.
        let _ = errors.to_string();
    }
    if let Err(errors) = tenancy_sql::confine(sql, &allow()) {
        assert!(!errors.has(Problem::Internal), "{sql}\n{errors}");
        let _ = errors.to_string();
    }
}

const FRAGMENTS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "{Order}",
    "{",
    "}",
    "o",
    ".",
    "tenant_id",
    "=",
    "$tenant",
    "$x",
    "$1",
    "(",
    ")",
    ",",
    "WITH",
    "RECURSIVE",
    "AS",
    "UNION",
    "JOIN",
    "LEFT",
    "RIGHT",
    "ON",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "USING",
    "RETURNING",
    "ON CONFLICT",
    "DO UPDATE",
    "NOTHING",
    "'x'",
    "'",
    "$$",
    "$a$",
    "--",
    "/*",
    "*/",
    ";",
    "::",
    "[",
    "]",
    "1",
    "*",
    "LATERAL",
    "EXISTS",
    "IN",
    "CASE",
    "WHEN",
    "THEN",
    "END",
    "U&",
    "\"",
    "E'",
    "\\",
    "ORDER BY",
    "LIMIT",
    "GROUP BY",
    "HAVING",
    "OVER",
    "PARTITION BY",
    "TABLE",
    "FOR UPDATE",
    "orders",
    "countries",
    "pg_class",
    "set_config",
    "count(*)",
    "\n",
    "é",
    "\0",
];

fn fragments() -> impl Strategy<Value = String> {
    vec((select(FRAGMENTS), any::<bool>()), 0..60).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(part, spaced)| {
                if spaced {
                    format!("{part} ")
                } else {
                    part.to_owned()
                }
            })
            .collect()
    })
}

/// An edit at a character boundary.
#[derive(Clone, Debug)]
enum Edit {
    Delete(Index, u8),
    Insert(Index, &'static str),
    Duplicate(Index, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), 1u8..20).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<Index>(), select(FRAGMENTS)).prop_map(|(at, text)| Edit::Insert(at, text)),
        (any::<Index>(), 1u8..30).prop_map(|(at, len)| Edit::Duplicate(at, len)),
    ]
}

fn apply(sql: &str, edit: &Edit) -> String {
    let boundaries: Vec<usize> = sql
        .char_indices()
        .map(|(i, _)| i)
        .chain([sql.len()])
        .collect();
    let at = |index: &Index| boundaries[index.index(boundaries.len())];
    let after = |start: usize, len: u8| {
        boundaries
            .iter()
            .copied()
            .find(|b| *b >= start + len as usize)
            .unwrap_or(sql.len())
    };
    match edit {
        Edit::Delete(index, len) => {
            let start = at(index);
            format!("{}{}", &sql[..start], &sql[after(start, *len)..])
        }
        Edit::Insert(index, text) => {
            let start = at(index);
            format!("{}{text}{}", &sql[..start], &sql[start..])
        }
        Edit::Duplicate(index, len) => {
            let start = at(index);
            let end = after(start, *len);
            format!("{}{}", &sql[..end], &sql[start..])
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(sql in "\\PC{0,200}") {
        both(&sql);
    }

    #[test]
    fn token_soup_never_panics(sql in fragments()) {
        both(&sql);
    }

    #[test]
    fn mutated_statements_never_panic(statement in statement(), edits in vec(edit(), 1..4)) {
        let mut sql = render(&statement, None).sql;
        for edit in &edits {
            sql = apply(&sql, edit);
        }
        both(&sql);
        both(&sql.replace("{T", "{").replace('}', ""));
    }
}

/// Runs `f` on a thread with a 2 MiB stack, the default for spawned
/// threads and tokio workers.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

fn tokens(sql: &str) -> usize {
    sqlparser::tokenizer::Tokenizer::new(&sqlparser::dialect::PostgreSqlDialect {}, sql)
        .tokenize()
        .unwrap()
        .iter()
        .filter(|t| !matches!(t, sqlparser::tokenizer::Token::Whitespace(_)))
        .count()
}

/// `prefix`, then `unit` repeated (numbered by `{i}`) as often as the
/// token limit allows, then `suffix`.
fn fill(prefix: &str, unit: &str, separator: &str, suffix: &str) -> String {
    let fixed = tokens(&format!("{prefix}{suffix}"));
    let per_unit = tokens(&format!("{}{separator}", unit.replace("{i}", "0")));
    let count = (9_990 - fixed) / per_unit;
    let body: Vec<String> = (0..count)
        .map(|i| unit.replace("{i}", &i.to_string()))
        .collect();
    let sql = format!("{prefix}{}{suffix}", body.join(separator));
    assert!(tokens(&sql) <= 10_000);
    sql
}

/// A statement of nearly the most tokens checked, nesting as deep as that
/// allows, for each way a syntax tree grows without parentheses.
fn deepest() -> Vec<(&'static str, String)> {
    let scoped = "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant";
    let tail = " FROM {Order} o WHERE o.tenant_id = $tenant";
    vec![
        (
            "AND",
            fill(&format!("{scoped} AND "), "o.x = 1", " AND ", ""),
        ),
        (
            "OR",
            fill(&format!("{scoped} AND ("), "o.x = 1", " OR ", ")"),
        ),
        ("+", fill(&format!("{scoped} AND o.x = "), "1", " + ", "")),
        ("||", fill("SELECT ", "o.s", " || ", tail)),
        ("::", fill("SELECT 1", "::int", "", tail)),
        ("[]", fill("SELECT o.a", "[1]", "", tail)),
        (
            "IS NULL",
            fill(&format!("{scoped} AND o.x"), " IS NULL = true", "", ""),
        ),
        ("UNION", fill("", scoped, " UNION ", "")),
        (
            "JOIN",
            fill(
                "SELECT 1 FROM {Order} o ",
                "JOIN {Line} l{i} ON l{i}.tenant_id = $tenant",
                " ",
                " WHERE o.tenant_id = $tenant",
            ),
        ),
    ]
}

#[test]
fn the_deepest_statements_are_checked_on_a_small_stack() {
    on_small_stack(|| {
        for (shape, sql) in deepest() {
            let checked = tenancy_sql::check(&sql);
            assert!(
                checked.is_ok(),
                "{shape}: {}",
                checked.unwrap_err().iter().next().unwrap()
            );
        }
    });
}

#[test]
fn the_deepest_queries_are_confined_on_a_small_stack() {
    on_small_stack(|| {
        for (shape, sql) in deepest() {
            let ad_hoc = sql
                .replace("{Order}", "orders")
                .replace("{Line}", "orders")
                .replace(" = $tenant", " = 1");
            let confined = tenancy_sql::confine(&ad_hoc, &allow());
            assert!(
                confined.is_ok(),
                "{shape}: {}",
                confined.unwrap_err().iter().next().unwrap()
            );
        }
    });
}

#[test]
fn beyond_the_limits_is_refused_not_crashed() {
    on_small_stack(|| {
        let too_many = format!(
            "SELECT 1 FROM {{Order}} o WHERE o.tenant_id = $tenant AND {}",
            vec!["o.x = 1"; 1700].join(" AND ")
        );
        let too_deep = format!(
            "SELECT 1 FROM {{Order}} o WHERE o.tenant_id = $tenant AND {}1{}",
            "(".repeat(200),
            ")".repeat(200)
        );
        let too_deep_queries = format!(
            "SELECT 1 FROM {{Order}} o WHERE o.tenant_id = $tenant AND o.x IN {}1{}",
            "(SELECT ".repeat(100),
            ")".repeat(100)
        );
        for sql in [too_many, too_deep, too_deep_queries] {
            let problems: Vec<Problem> = tenancy_sql::check(&sql)
                .unwrap_err()
                .iter()
                .map(|d| d.problem())
                .collect();
            assert_eq!(problems, [Problem::TooLarge]);
        }
    });
}
