//! The checker: walks the syntax tree of one statement, finds every table
//! reference, and works out what confines each.

mod anchor;
mod conjunct;
mod dml;
mod expr;
mod parse;
pub(crate) mod policy;
mod query;
mod scope;

use std::collections::HashSet;
use std::ops::Range;

use sqlparser::ast::Statement;
use sqlparser::tokenizer::Span;

use crate::analysis::{Analysis, Failure, StatementKind, TableRef};
use crate::confine::AllowList;
use crate::diagnostic::{Diagnostic, Diagnostics, Problem};
use crate::lex::{Lexed, Syntax, lex};
use crate::name::Name;

pub(crate) use parse::parse_one;

/// Checks SQL text written for `tenant_sql!`: one `SELECT`, `INSERT`,
/// `UPDATE` or `DELETE` whose tables are named by their Rust types in
/// braces (`{Order}`) and whose parameters are `$name`.
///
/// Every reference to a table must be confined to one tenant by a conjunct
/// `<alias>.<tenant column> = $tenant` that is a top-level `AND` conjunct
/// of the `WHERE` of the statement that introduces the reference, or of the
/// `ON` of the (inner or left) join that introduces it; an `INSERT` must
/// give the tenant column exactly `$tenant` in every row, and nothing may
/// assign the tenant column. Which types are tenant tables, and what their
/// tenant column is called, the SQL cannot say: the returned [`Analysis`]
/// holds, for each reference, the [`Rule`](crate::Rule)s its table must
/// meet, for `tenant_sql!` to assert at compile time or
/// [`Analysis::verify`] to check against a catalog.
///
/// Everything else that could reach another tenant's rows is refused here,
/// all problems at once: more than one statement, tables named by SQL name,
/// system catalogs, `SET`/`RESET`/`COPY`/transaction control/`DO`/`CALL`
/// and DDL, functions that change or escape the tenant context or the
/// session (`set_config`, `dblink*`, `pg_read_file`, `lo_*`, ...),
/// references without an alias, and constructs the checker cannot see
/// into.
///
/// ```
/// use tenancy_sql::{Rule, StatementKind};
///
/// let checked = tenancy_sql::check(
///     "SELECT o.id, c.name FROM {Order} o \
///      JOIN {Customer} c ON c.tenant_id = $tenant AND c.id = o.customer_id \
///      WHERE o.tenant_id = $tenant AND o.status = $status",
/// )
/// .unwrap();
/// assert_eq!(checked.kind(), StatementKind::Select);
/// assert!(checked.is_read_only());
/// let customer = &checked.tables()[1];
/// assert_eq!(customer.type_name(), "Customer");
/// assert_eq!(customer.alias(), Some("c"));
/// assert_eq!(customer.requirements()[0].rule(), &Rule::TenantColumnIn(vec!["tenant_id".into()]));
///
/// let error = tenancy_sql::check("SELECT o.id FROM {Order} o, {Customer} c WHERE o.tenant_id = $tenant")
///     .unwrap()
///     .verify(|_| Some(tenancy_sql::TableKind::Tenant { column: "tenant_id" }))
///     .unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "`c` (`{Customer}`) has no tenant conjunct
///   |
/// 1 | SELECT o.id FROM {Order} o, {Customer} c WHERE o.tenant_id = $tenant
///   |                             ^^^^^^^^^^
///   = help: add `AND c.tenant_id = $tenant` to the `WHERE` of this SELECT"
/// );
/// ```
pub fn check(sql: &str) -> Result<Analysis, Diagnostics> {
    let rules = Rules {
        tables: Tables::Slots,
        functions: Functions::DenyList,
        read_only: false,
    };
    analyze(sql, Syntax::Slots, &rules).map(|(analysis, _)| analysis)
}

/// What the walk allows.
pub(crate) struct Rules<'a> {
    pub(crate) tables: Tables<'a>,
    pub(crate) functions: Functions<'a>,
    /// Only a read-only `SELECT`.
    pub(crate) read_only: bool,
}

/// How tables are named.
pub(crate) enum Tables<'a> {
    /// By `{Type}` slots; any other name must be a `WITH` query's.
    Slots,
    /// By their SQL names, from the allow-list; each reference is replaced
    /// by a confined one.
    Confine(&'a AllowList),
}

/// Which functions may be called.
pub(crate) enum Functions<'a> {
    /// All but those that change or escape the tenant context or session.
    DenyList,
    /// Only these.
    AllowList(&'a AllowList),
}

/// Lexes, parses and walks `sql`; returns the analysis and the (for
/// [`Tables::Confine`], rewritten) statement.
pub(crate) fn analyze(
    sql: &str,
    syntax: Syntax,
    rules: &Rules<'_>,
) -> Result<(Analysis, Statement), Diagnostics> {
    let mut lexed = lex(sql, syntax).map_err(|list| Diagnostics::new(sql, list))?;
    let mut statement = parse_one(&mut lexed).map_err(|error| {
        // A statement that is refused anyway is told why, not that sqlparser
        // cannot parse it (`DO`, `COPY .. FROM STDIN`, ...).
        let (keyword, _) = &lexed.first_word;
        let refused = error.problem() == Problem::Syntax && policy::refused_keyword(keyword);
        let diagnostic = if refused {
            refused_statement(&lexed, rules.read_only, None)
        } else {
            error
        };
        Diagnostics::new(sql, vec![diagnostic])
    })?;
    let walked = Walker::new(rules, &lexed)
        .run(&mut statement)
        .map_err(|list| Diagnostics::new(sql, list))?;
    let analysis = Analysis {
        sql: sql.to_owned(),
        kind: walked.kind,
        read_only: walked.read_only,
        tables: walked.tables,
        template: lexed.template,
        param_spans: lexed.param_spans,
    };
    Ok((analysis, statement))
}

struct Walked {
    kind: StatementKind,
    read_only: bool,
    tables: Vec<TableRef>,
}

/// A comparison `<alias>.<column> = $param` met anywhere in the statement.
struct Seen {
    comparison: conjunct::Comparison,
    span: Range<usize>,
    counted: bool,
}

/// The walk's state.
pub(crate) struct Walker<'a> {
    rules: &'a Rules<'a>,
    lexed: &'a Lexed,
    consumed: Vec<bool>,
    tables: Vec<TableRef>,
    diagnostics: Vec<Diagnostic>,
    /// The names of the `WITH` queries visible at this point, innermost
    /// last.
    ctes: Vec<Vec<Name>>,
    /// For each `WITH` query being walked, its own name and the later ones:
    /// names that, without `RECURSIVE`, are tables there.
    later_ctes: Vec<Vec<Name>>,
    /// Where the `SELECT` keyword of each visited query starts.
    selects: HashSet<(u64, u64)>,
    table_queries: usize,
    writes: bool,
    seen: Vec<Seen>,
}

impl<'a> Walker<'a> {
    fn new(rules: &'a Rules<'a>, lexed: &'a Lexed) -> Self {
        Self {
            rules,
            lexed,
            consumed: vec![false; lexed.slots.len()],
            tables: Vec::new(),
            diagnostics: Vec::new(),
            ctes: Vec::new(),
            later_ctes: Vec::new(),
            selects: HashSet::new(),
            table_queries: 0,
            writes: false,
            seen: Vec::new(),
        }
    }

    fn run(mut self, statement: &mut Statement) -> Result<Walked, Vec<Diagnostic>> {
        let kind = self.statement(statement);
        if self.diagnostics.is_empty() {
            self.nothing_unseen();
        }
        if !self.diagnostics.is_empty() {
            return Err(self.diagnostics);
        }
        self.explain_misplaced();
        let kind = kind.unwrap_or(StatementKind::Select);
        Ok(Walked {
            kind,
            read_only: kind == StatementKind::Select && !self.writes,
            tables: self.tables,
        })
    }

    /// The statement, if it is one of the kinds allowed.
    fn statement(&mut self, statement: &mut Statement) -> Option<StatementKind> {
        let kind = match statement {
            Statement::Query(query) => {
                let kind = query::body_kind(&query.body);
                self.query(query);
                kind
            }
            Statement::Insert(insert) => {
                self.insert(insert);
                StatementKind::Insert
            }
            Statement::Update(update) => {
                self.update(update);
                StatementKind::Update
            }
            Statement::Delete(delete) => {
                self.delete(delete);
                StatementKind::Delete
            }
            _ => {
                self.refuse_statement(None);
                return None;
            }
        };
        if self.rules.read_only && kind != StatementKind::Select {
            self.refuse_statement(Some(match kind {
                StatementKind::Insert => "INSERT",
                StatementKind::Update => "UPDATE",
                _ => "DELETE",
            }));
        }
        Some(kind)
    }

    /// Refuses the statement, by its first keyword (or by `keyword`).
    fn refuse_statement(&mut self, keyword: Option<&str>) {
        self.diagnostics
            .push(refused_statement(self.lexed, self.rules.read_only, keyword));
    }

    fn range(&self, span: Span) -> Range<usize> {
        self.lexed.source.range(span)
    }

    fn report(&mut self, problem: Problem, span: Span, message: impl Into<String>, help: &str) {
        let diagnostic = Diagnostic::new(problem, self.range(span), message.into());
        self.diagnostics.push(if help.is_empty() {
            diagnostic
        } else {
            diagnostic.with_help(help)
        });
    }

    /// Refuses a construct the checker does not look into.
    fn unsupported(&mut self, span: Span, what: &str) {
        self.report(
            Problem::Unsupported,
            span,
            format!("{what} is not supported in tenant SQL"),
            "",
        );
    }

    /// The text of `span`, slot markers written back as `{Type}`.
    fn text(&self, span: Span) -> String {
        let range = self.range(span);
        self.lexed
            .unmark(self.lexed.text.get(range).unwrap_or_default())
    }

    /// Safety nets: a slot the walk did not meet as a table stands where no
    /// table can; a `SELECT` (or `TABLE`) keyword the walk did not meet
    /// starts a query the walk could not see into.
    fn nothing_unseen(&mut self) {
        for (index, slot) in self.lexed.slots.iter().enumerate() {
            if !self.consumed[index] {
                self.diagnostics.push(
                    Diagnostic::new(
                        Problem::Slot,
                        slot.span.clone(),
                        format!("`{{{}}}` stands where no table can", slot.type_name),
                    )
                    .with_help(
                        "a table slot names a table in FROM, JOIN, UPDATE, DELETE FROM or \
                         INSERT INTO; refer to its columns through its alias",
                    ),
                );
            }
        }
        for location in &self.lexed.select_keywords {
            if !self.selects.contains(&(location.line, location.column)) {
                let at = self.lexed.source.offset(*location);
                self.diagnostics.push(
                    Diagnostic::new(
                        Problem::Unsupported,
                        at..at + "SELECT".len(),
                        "the checker cannot see into the query this `SELECT` starts",
                    )
                    .with_help("write it as a plain subquery, or quote it if it is a name"),
                );
            }
        }
        if self.table_queries != self.lexed.table_keywords {
            self.diagnostics.push(
                Diagnostic::new(
                    Problem::Unsupported,
                    0..self.lexed.source.len(),
                    "the checker cannot see every `TABLE` query in this statement",
                )
                .with_help("write `SELECT * FROM ..` instead"),
            );
        }
    }

    /// Adds to each unconfined reference's error the comparison with a
    /// parameter that names its alias but does not count, if there is one.
    fn explain_misplaced(&mut self) {
        let text = &self.lexed.text;
        for table in &mut self.tables {
            let start = table.span.start;
            for requirement in &mut table.requirements {
                let Failure::Unconfined {
                    alias, misplaced, ..
                } = requirement.failure_mut()
                else {
                    continue;
                };
                let folded = alias_name(alias);
                // A comparison with another parameter is a mistaken tenant
                // conjunct only if the parameter looks like the tenant.
                let candidate = self
                    .seen
                    .iter()
                    .filter(|s| !s.counted && s.comparison.alias == folded)
                    .filter(|s| s.comparison.param.to_ascii_lowercase().contains("tenant"))
                    .min_by_key(|s| (s.span.start < start, s.span.start.abs_diff(start)));
                if let Some(seen) = candidate {
                    let shown = text.get(seen.span.clone()).unwrap_or_default().to_owned();
                    *misplaced = Some(if seen.comparison.is_tenant() {
                        format!(
                            "`{shown}` does not count: it is under OR, NOT or CASE, or in \
                             another clause than the one that scopes `{alias}`"
                        )
                    } else {
                        format!(
                            "`{shown}` does not count: only `$tenant`, which is bound to the \
                             tenant, confines a reference"
                        )
                    });
                }
            }
        }
    }
}

/// The refusal of the statement in `lexed`, by its first keyword.
fn refused_statement(lexed: &Lexed, read_only: bool, keyword: Option<&str>) -> Diagnostic {
    let (first, range) = &lexed.first_word;
    let (message, help) = policy::statement_refusal(keyword.unwrap_or(first), read_only);
    Diagnostic::new(Problem::Statement, range.clone(), message).with_help(help)
}

/// The folded name of an alias as written (`o`, `"O"`).
fn alias_name(written: &str) -> Name {
    match written
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(quoted) => Name::of(&sqlparser::ast::Ident::with_quote(
            '"',
            quoted.replace("\"\"", "\""),
        )),
        None => Name::of(&sqlparser::ast::Ident::new(written)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The safety nets catch what a walk did not see: here, a walk that saw
    /// nothing at all.
    #[test]
    fn what_the_walk_did_not_see_is_refused() {
        let sql = "SELECT 1 FROM {Order} o WHERE EXISTS (SELECT 1 FROM (TABLE w) x)";
        let rules = Rules {
            tables: Tables::Slots,
            functions: Functions::DenyList,
            read_only: false,
        };
        let mut lexed = lex(sql, Syntax::Slots).unwrap();
        parse_one(&mut lexed).unwrap();
        let mut walker = Walker::new(&rules, &lexed);
        walker.nothing_unseen();
        let found: Vec<(Problem, &str)> = walker
            .diagnostics
            .iter()
            .map(|d| (d.problem(), &sql[d.span()]))
            .collect();
        assert_eq!(
            found,
            [
                (Problem::Slot, "{Order}"),
                (Problem::Unsupported, "SELECT"),
                (Problem::Unsupported, "SELECT"),
                (Problem::Unsupported, sql),
            ]
        );
    }
}
