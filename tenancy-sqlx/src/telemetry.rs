//! The tenant transaction as a `tracing` span, and its statements as events
//! inside it.
//!
//! Every [`TenantTransaction`](crate::TenantTransaction) is a span named
//! `tenant transaction` (level `INFO`, target `tenancy::transaction`) from
//! the moment [`begin`](crate::TenantPool::begin) asks for a connection to
//! the moment the transaction ends or is dropped. Its fields, named after
//! OpenTelemetry's database conventions where there is one:
//!
//! | field | value |
//! |---|---|
//! | `db.system` | `postgresql` or `sqlite` |
//! | `tenant.id` | the tenant's key |
//! | `tenancy.isolation` | `shared`, `schema` or `database`: where the tenant's rows are |
//! | `tenancy.statements` | how many built statements it ran (recorded at the end) |
//! | `tenancy.outcome` | `commit`, `rollback`, `dropped` (dropped while open: rolled back) or `ended_by_raw_sql` |
//! | `tenancy.duration_ms` | from `begin` to the end, in milliseconds |
//!
//! Each built statement is an event at `DEBUG` (target
//! `tenancy::statement`) inside that span, with `db.system`,
//! `db.operation` (`SELECT`, `INSERT`, `UPDATE`, `DELETE`) and
//! `db.statement`, the SQL text with its placeholders: bound values are
//! never recorded, in the span or the event, so a tenant's data does not
//! reach the logs. The statements' futures, `BEGIN`, the commit and the
//! rollback run inside the span, so sqlx's own `sqlx::query` events are
//! its children too; raw SQL on
//! [`raw_connection`](crate::TenantTransaction::raw_connection) is yours
//! to instrument with [`TenantTransaction::span`](crate::TenantTransaction::span).
//!
//! The span's parent is the span the caller is in: a transaction begun in
//! a task of [`spawn_for_tenant`](crate::job::spawn_for_tenant) is a child
//! of that task's `tenant task` span, itself a child of the span that
//! spawned it.

use std::time::Instant;

use tenancy_core::{Dialect, KeyValue};
use tracing::Span;
use tracing::field::Empty;

/// Where a tenant's rows are, as the transaction span records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isolation {
    /// The shared tables, confined by the tenant predicate and RLS.
    Shared,
    /// A schema of the tenant's own.
    Schema,
    /// A database of the tenant's own.
    Database,
}

impl Isolation {
    fn as_str(self) -> &'static str {
        match self {
            Isolation::Shared => "shared",
            Isolation::Schema => "schema",
            Isolation::Database => "database",
        }
    }
}

/// How a transaction ended, as its span records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Commit,
    Rollback,
    Dropped,
    EndedByRawSql,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Commit => "commit",
            Outcome::Rollback => "rollback",
            Outcome::Dropped => "dropped",
            Outcome::EndedByRawSql => "ended_by_raw_sql",
        }
    }
}

/// The span of one tenant transaction and what it records at the end.
#[derive(Debug)]
pub(crate) struct TransactionTrace {
    span: Span,
    db_system: &'static str,
    /// When it began; `None` when no subscriber records the span, which
    /// then has no duration to record (no clock read per transaction).
    started: Option<Instant>,
    statements: u64,
    ended: bool,
}

impl TransactionTrace {
    /// The span of a transaction of `tenant`, a child of the caller's span.
    pub(crate) fn new(dialect: Dialect, tenant: KeyValue, isolation: Isolation) -> Self {
        let db_system = db_system(dialect);
        let span = tracing::info_span!(
            target: "tenancy::transaction",
            "tenant transaction",
            db.system = db_system,
            tenant.id = %tenant,
            tenancy.isolation = isolation.as_str(),
            tenancy.statements = Empty,
            tenancy.outcome = Empty,
            tenancy.duration_ms = Empty,
        );
        let started = (!span.is_disabled()).then(Instant::now);
        TransactionTrace {
            span,
            db_system,
            started,
            statements: 0,
            ended: false,
        }
    }

    /// The span.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Records that `sql` is being sent: an event inside the span with the
    /// SQL text (never the values).
    pub(crate) fn statement(&mut self, sql: &str) {
        self.statements += 1;
        tracing::event!(
            target: "tenancy::statement",
            parent: &self.span,
            tracing::Level::DEBUG,
            db.system = self.db_system,
            db.operation = operation(sql),
            db.statement = sql,
            "statement"
        );
    }

    /// Records how the transaction ended (the first ending only).
    pub(crate) fn end(&mut self, outcome: Outcome) {
        if self.ended {
            return;
        }
        self.ended = true;
        let Some(started) = self.started else {
            return;
        };
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        self.span.record("tenancy.statements", self.statements);
        self.span.record("tenancy.outcome", outcome.as_str());
        self.span.record("tenancy.duration_ms", elapsed);
    }
}

impl Drop for TransactionTrace {
    fn drop(&mut self) {
        self.end(Outcome::Dropped);
    }
}

fn db_system(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "postgresql",
        Dialect::Sqlite => "sqlite",
    }
}

/// The statement's operation: its first keyword, or for `WITH ..` the
/// first keyword after the common table expressions (outside parentheses
/// and quotes).
fn operation(sql: &str) -> &str {
    let first = first_word(sql);
    if !first.eq_ignore_ascii_case("WITH") {
        return first;
    }
    let mut depth = 0_usize;
    let mut quote = None;
    for (at, c) in sql.char_indices() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, _) if depth == 0 && c.is_ascii_alphabetic() => {
                let word = first_word(&sql[at..]);
                let before = sql[..at].chars().next_back();
                if before.is_none_or(|b| !b.is_ascii_alphanumeric() && b != '_')
                    && ["SELECT", "INSERT", "UPDATE", "DELETE"]
                        .iter()
                        .any(|op| word.eq_ignore_ascii_case(op))
                {
                    return word;
                }
            }
            (None, _) => {}
        }
    }
    first
}

fn first_word(sql: &str) -> &str {
    let sql = sql.trim_start();
    let end = sql
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(sql.len());
    &sql[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operation_is_the_statements_verb() {
        assert_eq!(operation(r#"SELECT "id" FROM "orders""#), "SELECT");
        assert_eq!(operation(" INSERT INTO x VALUES ($1)"), "INSERT");
        assert_eq!(
            operation(r#"WITH "t" AS (SELECT 1 FROM "a"), "u" AS (SELECT 2) DELETE FROM "b""#),
            "DELETE"
        );
        assert_eq!(
            operation(r#"WITH "selected" AS (SELECT ')') UPDATE "x" SET "a" = 1"#),
            "UPDATE"
        );
        assert_eq!(operation(""), "");
    }
}
