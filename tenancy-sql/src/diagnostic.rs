//! Errors as values: what is wrong, where in the SQL text, and what to write
//! instead, with a renderer that shows the line and a caret under the part.

use std::fmt;
use std::ops::Range;

/// What kind of problem a [`Diagnostic`] reports, for code that reacts to
/// some of them (tests, the macro's error spans) without matching messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Problem {
    /// The text is not SQL that PostgreSQL's grammar (as sqlparser knows it)
    /// accepts.
    Syntax,
    /// The text holds no statement, or more than one.
    StatementCount,
    /// A statement other than the ones allowed: `SET`, `COPY`, `BEGIN`,
    /// `CALL`, DDL, or, where only reading is allowed, any write.
    Statement,
    /// A construct the checker cannot prove confined (most are other
    /// databases' dialects): it is refused rather than trusted.
    Unsupported,
    /// A table named by its SQL name where `tenant_sql!` needs its Rust type
    /// (`{Order}`).
    TableName,
    /// A table that is not in the analytics allow-list, or is named with a
    /// schema.
    TableNotAllowed,
    /// A system catalog (`pg_catalog`, `information_schema`, `pg_*`,
    /// `sqlite_*`).
    SystemCatalog,
    /// A function that can change or escape the tenant context or the
    /// session, or (for analytics) one outside the allow-list.
    Function,
    /// A cast to a type that is not allowed.
    Type,
    /// A parameter that is not `$name`, or (for analytics) any parameter.
    Parameter,
    /// A `{Type}` table slot that is malformed or stands where no table can.
    Slot,
    /// A name the library reserves for itself.
    ReservedName,
    /// A table reference that needs an alias for its tenant conjunct to name.
    Alias,
    /// Two references with the same name in one `FROM`.
    DuplicateName,
    /// A reference to a tenant table that is not confined to one tenant.
    Unconfined,
    /// An `UPDATE` or `ON CONFLICT .. DO UPDATE` that assigns the tenant
    /// column.
    TenantColumnAssigned,
    /// An `INSERT` into a tenant table that does not give the tenant column
    /// exactly `$tenant`.
    TenantColumnNotInserted,
    /// A `{Type}` the caller does not know.
    UnknownTable,
    /// A lexical form that PostgreSQL and the checker could read differently
    /// (`U&"..."` identifiers, odd dollar-quote tags), refused so that what
    /// is checked is what runs.
    Lexical,
    /// The text is too long or too deeply nested to check.
    TooLarge,
    /// The rewritten analytics query failed its own check: a defect of this
    /// crate, reported rather than run.
    Internal,
}

/// One problem in a piece of SQL text: its kind, the byte range of the part
/// that is wrong, a message that says what is wrong and, usually, a help
/// line that says what to write instead.
///
/// `Display` prints the message and the help; [`Diagnostic::render`] adds
/// the SQL line with a caret under the offending part, which is what a
/// compile error inside a string literal needs, since the compiler cannot
/// point into the string itself.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", help_suffix(.help))]
pub struct Diagnostic {
    problem: Problem,
    span: Range<usize>,
    message: String,
    help: Option<String>,
}

fn help_suffix(help: &Option<String>) -> String {
    help.as_ref()
        .map(|help| format!(": {help}"))
        .unwrap_or_default()
}

impl Diagnostic {
    /// A problem with the part `span` (a byte range) of the SQL text, for
    /// code that reports its own findings about checked SQL in the same
    /// form (a `tenant_sql!` argument that names no `$parameter`, say).
    ///
    /// ```
    /// use tenancy_sql::{Diagnostic, Problem};
    ///
    /// let sql = "SELECT 1 WHERE $statsu";
    /// let diagnostic = Diagnostic::new(Problem::Parameter, 15..22, "`$statsu` has no value")
    ///     .with_help("pass `statsu` to the macro, or correct the name");
    /// assert_eq!(
    ///     diagnostic.render(sql),
    ///     "`$statsu` has no value\n  |\n1 | SELECT 1 WHERE $statsu\n  |                ^^^^^^^\n  \
    ///      = help: pass `statsu` to the macro, or correct the name"
    /// );
    /// ```
    pub fn new(problem: Problem, span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            problem,
            span,
            message: message.into(),
            help: None,
        }
    }

    /// The same, with a line that says what to write instead.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The kind of problem.
    pub fn problem(&self) -> Problem {
        self.problem
    }

    /// The byte range of the offending part of the SQL text.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What to write instead, when there is one thing to say.
    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The message, the line of `sql` the problem is on with a caret under
    /// the offending part, and the help line:
    ///
    /// ```text
    /// `c` (`{Customer}`) in this JOIN has no tenant conjunct
    ///   |
    /// 1 | SELECT c.name FROM {Order} o JOIN {Customer} c ON c.id = o.customer_id WHERE o.tenant_id = $tenant
    ///   |                                   ^^^^^^^^^^^^
    ///   = help: add `AND c.<tenant column> = $tenant` to its `ON` clause or to the `WHERE` of this SELECT
    /// ```
    ///
    /// `sql` must be the text the diagnostic was made for; a span outside it
    /// is shown at the end of the text.
    pub fn render(&self, sql: &str) -> String {
        let mut out = self.message.clone();
        out.push('\n');
        out.push_str(&snippet(sql, self.span.clone()));
        if let Some(help) = &self.help {
            out.push_str("  = help: ");
            out.push_str(help);
            out.push('\n');
        }
        if out.ends_with('\n') {
            out.pop();
        }
        out
    }
}

/// Every problem found in one piece of SQL text, in the order of the text,
/// with the text itself so that `Display` can show each one in place.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_all(.sql, .list))]
pub struct Diagnostics {
    sql: String,
    list: Vec<Diagnostic>,
}

fn render_all(sql: &str, list: &[Diagnostic]) -> String {
    let rendered: Vec<String> = list.iter().map(|d| d.render(sql)).collect();
    rendered.join("\n\n")
}

impl Diagnostics {
    /// Wraps a non-empty list; sorts it by position and drops repeats.
    pub(crate) fn new(sql: &str, mut list: Vec<Diagnostic>) -> Self {
        list.sort_by_key(|d| (d.span.start, d.span.end));
        list.dedup();
        Self {
            sql: sql.to_owned(),
            list,
        }
    }

    /// The SQL text the spans refer to.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The problems, in the order of the text.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.list.iter()
    }

    /// How many problems there are (at least one).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Always `false`: a `Diagnostics` holds at least one problem.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether any problem is of kind `problem`.
    pub fn has(&self, problem: Problem) -> bool {
        self.list.iter().any(|d| d.problem == problem)
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.into_iter()
    }
}

/// Lines longer than this are shown as a window around the span.
const WIDE: usize = 120;
/// Characters shown on each side of the span in a window.
const CONTEXT: usize = 50;

/// The gutter, the line holding `span.start`, and a caret line.
fn snippet(sql: &str, span: Range<usize>) -> String {
    let start = floor_char_boundary(sql, span.start.min(sql.len()));
    let end = floor_char_boundary(sql, span.end.clamp(start, sql.len()));
    let line_start = sql[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = sql[start..].find('\n').map_or(sql.len(), |i| start + i);
    let line_number = sql[..line_start].matches('\n').count() + 1;
    let line = sql[line_start..line_end].trim_end_matches('\r');

    let before: Vec<char> = expand_tabs(&sql[line_start..start]);
    let marked: Vec<char> = expand_tabs(&sql[start..end.min(line_start + line.len()).max(start)]);
    let all: Vec<char> = expand_tabs(line);
    let caret_from = before.len();
    let caret_len = marked.len().max(1);

    let (shown, offset) = if all.len() > WIDE {
        let from = caret_from.saturating_sub(CONTEXT);
        let to = (caret_from + caret_len + CONTEXT).min(all.len());
        let mut shown = String::new();
        if from > 0 {
            shown.push_str("...");
        }
        shown.extend(&all[from..to]);
        if to < all.len() {
            shown.push_str("...");
        }
        (shown, caret_from - from + if from > 0 { 3 } else { 0 })
    } else {
        (all.iter().collect(), caret_from)
    };

    let gutter = line_number.to_string();
    let pad = " ".repeat(gutter.len());
    format!(
        "{pad} |\n{gutter} | {shown}\n{pad} | {}{}\n",
        " ".repeat(offset),
        "^".repeat(caret_len)
    )
}

fn expand_tabs(text: &str) -> Vec<char> {
    text.chars()
        .flat_map(|c| {
            let tab = c == '\t';
            std::iter::repeat_n(if tab { ' ' } else { c }, if tab { 4 } else { 1 })
        })
        .filter(|c| *c != '\r')
        .collect()
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_line_and_a_caret() {
        let sql = "SELECT 1\nFROM orders o\nWHERE true";
        let at = sql.find("orders").unwrap();
        let diagnostic = Diagnostic::new(Problem::TableName, at..at + 6, "`orders` is named")
            .with_help("name it by type");
        assert_eq!(
            diagnostic.render(sql),
            "`orders` is named\n  |\n2 | FROM orders o\n  |      ^^^^^^\n  = help: name it by type"
        );
    }

    #[test]
    fn empty_and_out_of_range_spans_still_render() {
        let diagnostic = Diagnostic::new(Problem::Syntax, 50..60, "at the end");
        assert_eq!(
            diagnostic.render("SELECT"),
            "at the end\n  |\n1 | SELECT\n  |       ^"
        );
        let diagnostic = Diagnostic::new(Problem::Syntax, 1..1, "inside");
        assert!(diagnostic.render("é").contains('^'));
    }

    #[test]
    fn wide_lines_show_a_window_around_the_span() {
        let sql = format!("SELECT {} FROM orders o", "x, ".repeat(100));
        let at = sql.find("orders").unwrap();
        let rendered = Diagnostic::new(Problem::TableName, at..at + 6, "m").render(&sql);
        let lines: Vec<&str> = rendered.lines().collect();
        let column = lines[2].find("orders").unwrap();
        assert_eq!(lines[3].find('^').unwrap(), column);
        assert!(lines[2].starts_with("1 | ..."));
    }
}
