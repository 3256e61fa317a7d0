//! The checked SQL split into text, table slots and parameter slots, so that
//! the runtime can render it for its backend without parsing it again.

use std::fmt::Write as _;
use std::ops::Range;

/// One piece of a [`Template`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// SQL text, as written (comments dropped).
    Text(String),
    /// A table slot: an index into [`Template::slots`]. The runtime writes
    /// the table's schema-qualified, quoted name here.
    Table(usize),
    /// A parameter slot: an index into [`Template::params`].
    Param(usize),
}

/// A parameter of the statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Param {
    /// `$tenant`: always bound to the key of the tenant the transaction was
    /// opened for, never to a caller's value.
    Tenant,
    /// `$name`: bound to the caller's value named `name`.
    Named(String),
}

impl Param {
    pub(crate) fn from_name(name: &str) -> Self {
        if name == TENANT {
            Self::Tenant
        } else {
            Self::Named(name.to_owned())
        }
    }

    /// The name as written after `$`.
    pub fn name(&self) -> &str {
        match self {
            Self::Tenant => TENANT,
            Self::Named(name) => name,
        }
    }
}

/// The parameter the tenant's key is bound to.
pub(crate) const TENANT: &str = "tenant";

/// The backend a [`Template`] is rendered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `$1`, `$2`, ..: one number per distinct parameter, reused where a
    /// name is used twice.
    Postgres,
    /// `?`, one per occurrence, bound in order of appearance.
    Sqlite,
}

/// A table's name as the runtime wants it written: an optional schema and
/// the table, each quoted by the renderer, so no name can add SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QualifiedName<'a> {
    /// The schema, or `None` for the connection's default resolution.
    pub schema: Option<&'a str>,
    /// The table.
    pub table: &'a str,
}

impl<'a> QualifiedName<'a> {
    /// `schema.table`.
    pub fn new(schema: &'a str, table: &'a str) -> Self {
        Self {
            schema: Some(schema),
            table,
        }
    }

    /// A table name without a schema.
    pub fn unqualified(table: &'a str) -> Self {
        Self {
            schema: None,
            table,
        }
    }
}

/// SQL ready to execute: the text, and which parameter to bind at each
/// bind position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// The statement text, with `$n` or `?` placeholders.
    pub sql: String,
    /// For each bind position in order, the index into
    /// [`Template::params`] of the parameter to bind there.
    pub binds: Vec<usize>,
}

/// Why a template cannot be rendered for a backend.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The text uses syntax that SQLite reads differently from PostgreSQL
    /// (a dollar-quoted or escape string, a `::` cast, an operator with `?`,
    /// `:`, `@` or `$`, a subscript in `[..]`, which SQLite reads as a
    /// quoted name), so it could misplace parameters there.
    #[error(
        "`{text}` (at byte {}) is PostgreSQL-only syntax that SQLite reads differently; \
         this statement can only run on PostgreSQL",
        .span.start
    )]
    NotSqlite {
        /// The offending text.
        text: String,
        /// Its byte range in the checked SQL.
        span: Range<usize>,
    },
}

/// Checked SQL, split into [`Segment`]s: text, table slots and parameter
/// slots.
///
/// ```
/// use tenancy_sql::{Backend, QualifiedName};
///
/// let checked = tenancy_sql::check(
///     "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant AND o.status = $status \
///      AND o.priority >= (SELECT min(p.level) FROM {Order} p WHERE p.tenant_id = $tenant)",
/// )
/// .unwrap();
/// let template = checked.template();
/// let pg = template
///     .render(Backend::Postgres, |_| QualifiedName::new("shop", "orders"))
///     .unwrap();
/// assert_eq!(
///     pg.sql,
///     "SELECT o.id FROM \"shop\".\"orders\" o WHERE o.tenant_id = $1 AND o.status = $2 \
///      AND o.priority >= (SELECT min(p.level) FROM \"shop\".\"orders\" p WHERE p.tenant_id = $1)"
/// );
/// assert_eq!(pg.binds, [0, 1]);
/// let sqlite = template
///     .render(Backend::Sqlite, |_| QualifiedName::unqualified("orders"))
///     .unwrap();
/// assert_eq!(sqlite.binds, [0, 1, 0]);
/// assert!(sqlite.sql.ends_with("WHERE p.tenant_id = ?)"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
    params: Vec<Param>,
    slots: Vec<String>,
    not_sqlite: Option<(String, Range<usize>)>,
}

impl Template {
    pub(crate) fn new(
        segments: Vec<Segment>,
        params: Vec<Param>,
        slots: Vec<String>,
        not_sqlite: Option<(String, Range<usize>)>,
    ) -> Self {
        Self {
            segments,
            params,
            slots,
            not_sqlite,
        }
    }

    /// The segments, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The distinct parameters, in order of first appearance (the order of
    /// `$1..$n` on PostgreSQL).
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The type name (or, for analytics, the table name) of each table
    /// slot, in order of appearance; [`Segment::Table`] indexes this.
    pub fn slots(&self) -> &[String] {
        &self.slots
    }

    /// Whether the text can be rendered for SQLite.
    pub fn runs_on_sqlite(&self) -> bool {
        self.not_sqlite.is_none()
    }

    /// Renders the statement for `backend`, writing each table slot as the
    /// quoted name `table` returns for its type name.
    ///
    /// A slot or placeholder is separated from adjacent text by a space
    /// where the two could otherwise run together into one token.
    pub fn render<'s, 'n>(
        &'s self,
        backend: Backend,
        mut table: impl FnMut(&'s str) -> QualifiedName<'n>,
    ) -> Result<Rendered, RenderError> {
        if backend == Backend::Sqlite
            && let Some((text, span)) = &self.not_sqlite
        {
            return Err(RenderError::NotSqlite {
                text: text.clone(),
                span: span.clone(),
            });
        }
        let mut sql = String::new();
        let mut binds = Vec::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => push_separated(&mut sql, text),
                Segment::Table(slot) => {
                    let name = table(self.slots.get(*slot).map_or("", String::as_str));
                    let mut quoted = String::new();
                    if let Some(schema) = name.schema {
                        quoted.push_str(&quote_identifier(schema));
                        quoted.push('.');
                    }
                    quoted.push_str(&quote_identifier(name.table));
                    push_separated(&mut sql, &quoted);
                }
                Segment::Param(index) => {
                    let placeholder = match backend {
                        Backend::Postgres => format!("${}", index + 1),
                        Backend::Sqlite => {
                            binds.push(*index);
                            "?".to_owned()
                        }
                    };
                    push_separated(&mut sql, &placeholder);
                }
            }
        }
        if backend == Backend::Postgres {
            // Each distinct parameter is bound once, in number order.
            binds.extend(0..self.params.len());
        }
        Ok(Rendered { sql, binds })
    }
}

/// Appends `piece`, with a space between it and the text before it when
/// both sides are characters that would join into one token.
fn push_separated(sql: &mut String, piece: &str) {
    let joins = |c: char| c.is_alphanumeric() || matches!(c, '_' | '$' | '"' | '\'' | '?' | '.');
    if let (Some(last), Some(first)) = (sql.chars().last(), piece.chars().next())
        && joins(last)
        && joins(first)
    {
        sql.push(' ');
    }
    sql.push_str(piece);
}

/// `name` as a quoted identifier: in double quotes, with every `"` doubled,
/// so that whatever the text, it is read as one name.
pub fn quote_identifier(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if c == '"' {
            quoted.push('"');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

impl std::fmt::Display for Template {
    /// The template as SQL text in the form `check` accepts: `{Type}` slots
    /// and `$name` parameters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => f.write_str(text)?,
                Segment::Table(slot) => {
                    write!(
                        f,
                        "{{{}}}",
                        self.slots.get(*slot).map_or("", String::as_str)
                    )?;
                }
                Segment::Param(index) => {
                    let name = self.params.get(*index).map_or("", Param::name);
                    f.write_char('$')?;
                    f.write_str(name)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote_identifier("orders"), "\"orders\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_identifier("x\"; DROP"), "\"x\"\"; DROP\"");
    }

    #[test]
    fn adjacent_pieces_are_kept_apart() {
        let mut sql = String::from("x");
        push_separated(&mut sql, "$1");
        assert_eq!(sql, "x $1");
        let mut sql = String::from("(");
        push_separated(&mut sql, "$1");
        push_separated(&mut sql, ")");
        assert_eq!(sql, "($1)");
    }
}
