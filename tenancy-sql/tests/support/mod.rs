//! Shared helpers: a catalog of tenant and global tables, and assertions
//! that name the part of the SQL each problem points at.

#![allow(dead_code)]

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use tenancy_sql::{Analysis, Diagnostics, Problem, TableKind};

/// Every type is a tenant table scoped by `tenant_id`, but these.
pub const GLOBAL: &[&str] = &["Country", "Plan", "countries", "plans"];

pub fn catalog(name: &str) -> Option<TableKind<'static>> {
    if GLOBAL.contains(&name) {
        Some(TableKind::Global)
    } else {
        Some(TableKind::Tenant {
            column: "tenant_id",
        })
    }
}

/// Checks and verifies `sql`; panics with the rendered problems if either
/// refuses it.
#[track_caller]
pub fn accepted(sql: &str) -> Analysis {
    let analysis = tenancy_sql::check(sql).unwrap_or_else(|e| panic!("refused:\n{e}\n--- {sql}"));
    if let Err(e) = analysis.verify(catalog) {
        panic!("not confined:\n{e}\n--- {sql}");
    }
    analysis
}

/// The problems of `sql` (from the check, or else from verifying it), each
/// with the text its span covers; panics if it is accepted.
#[track_caller]
pub fn refused(sql: &str) -> Vec<(Problem, String)> {
    let errors = match tenancy_sql::check(sql) {
        Err(errors) => errors,
        Ok(analysis) => match analysis.verify(catalog) {
            Err(errors) => errors,
            Ok(()) => panic!("accepted: {sql}"),
        },
    };
    spans(&errors)
}

pub fn spans(errors: &Diagnostics) -> Vec<(Problem, String)> {
    errors
        .iter()
        .map(|d| {
            let text = errors
                .sql()
                .get(d.span())
                .unwrap_or("<bad span>")
                .to_owned();
            (d.problem(), text)
        })
        .collect()
}

/// `refused(sql)`, reduced to the one problem it must be.
#[track_caller]
pub fn refused_once(sql: &str) -> (Problem, String) {
    let mut problems = refused(sql);
    assert_eq!(problems.len(), 1, "{problems:?} for {sql}");
    problems.remove(0)
}

/// The help line and message of every problem, for wording checks.
#[track_caller]
pub fn messages(sql: &str) -> String {
    match tenancy_sql::check(sql) {
        Err(errors) => errors.to_string(),
        Ok(analysis) => match analysis.verify(catalog) {
            Err(errors) => errors.to_string(),
            Ok(()) => panic!("accepted: {sql}"),
        },
    }
}

/// The problems of `sql`, from the check or else from verifying it; empty
/// when it is accepted.
pub fn refused_or_empty(sql: &str) -> Vec<(Problem, String)> {
    match tenancy_sql::check(sql) {
        Err(errors) => spans(&errors),
        Ok(analysis) => match analysis.verify(catalog) {
            Err(errors) => spans(&errors),
            Ok(()) => Vec::new(),
        },
    }
}

/// How many times confined SQL reads a tenant table, checked on its tokens
/// alone, independently of the crate's own walk: every slot of a table
/// `is_tenant` says is a tenant table must stand exactly in
/// `(SELECT * FROM {t} AS "t" WHERE "t"."tenant_id" = $tenant) AS`, and
/// `$tenant` must be the only parameter.
pub fn tenant_reads(sql: &str, is_tenant: impl Fn(&str) -> bool) -> usize {
    let tokens: Vec<String> = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize()
        .unwrap()
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .map(|t| t.to_string())
        .collect();
    let mut reads = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.starts_with('$') {
            assert_eq!(token, "$tenant", "{sql}");
        }
        if token != "{" || !is_tenant(&tokens[i + 1]) {
            continue;
        }
        let table = &tokens[i + 1];
        let quoted = format!("\"{table}\"");
        let expected = [
            "(",
            "SELECT",
            "*",
            "FROM",
            "{",
            table,
            "}",
            "AS",
            &quoted,
            "WHERE",
            &quoted,
            ".",
            "\"tenant_id\"",
            "=",
            "$tenant",
            ")",
            "AS",
        ];
        assert_eq!(
            tokens.get(i.saturating_sub(4)..i + 13),
            Some(&expected.map(String::from)[..]),
            "{sql}"
        );
        reads += 1;
    }
    reads
}
