//! The walk that writes statements, and the one place where tenant
//! predicates are written: beside the user's predicate, as a separate
//! top-level `AND` conjunct of the clause that scopes the table reference,
//! never inside it.
//!
//! Where the predicate of a reference to a tenant-scoped table goes:
//!
//! - the select's own table, the target of an UPDATE or DELETE, and the
//!   tables of an UPDATE's `FROM` and a DELETE's `USING`: the `WHERE`;
//! - a table of an `INNER` or `LEFT` join: its `ON`, so a left join stays
//!   a left join;
//! - in a select with a `RIGHT` or `FULL` join, every scoped table is read
//!   through a derived table `(SELECT .. FROM t WHERE t.tenant = $n) AS t`:
//!   those joins keep the unmatched rows of a side, which a predicate in
//!   `ON` would not confine, and one in `WHERE` would remove the rows the
//!   outer join adds;
//! - subqueries, CTE bodies and union members are selects, scoped the same
//!   way at their own level.
//!
//! Each reference is named by its alias when it has one, and the predicate
//! is written on that name, so two references to one table are each
//! scoped.

mod expr;
mod filter;
mod query;
mod types;

use sea_query::Value;

use crate::BuildError;
use crate::ident::Identifier;
use crate::meta::TableMeta;
use crate::query::cte::CteDef;
use crate::query::expr::ColumnNode;
use crate::query::filter::Node;
use crate::query::select::{SelectItem, SelectQuery, all_columns};
use crate::query::writer::SqlWriter;
use crate::statement::{Dialect, Statement, StatementScope};

pub(crate) use filter::Class;

/// Writes one statement for one scope, adding the tenant predicate to every
/// table reference it meets.
pub(crate) struct Renderer<'s, 'q> {
    pub(crate) w: SqlWriter<'s>,
    scope: StatementScope,
    /// The statement's own table, named in errors.
    statement_table: Option<&'static TableMeta>,
    /// The references columns may name: one level per select (or write)
    /// being written, innermost last.
    levels: Vec<Level<'q>>,
    /// The CTEs declared by the `WITH`s around the current position,
    /// outermost first.
    ctes: Vec<&'q CteDef>,
    /// Where expressions are being written, for the placement of
    /// aggregates and window functions.
    place: Place,
    /// The table of the upsert whose `DO UPDATE` is being written.
    excluded: Option<&'static TableMeta>,
}

/// The references of one select or write.
pub(crate) struct Level<'q> {
    sources: Vec<Visible<'q>>,
    /// Only the first `visible` sources may be named (an `ON` sees the
    /// references before it and its own).
    visible: usize,
    /// Columns of levels outside this one cannot be named from it (a CTE
    /// body or a derived table is not correlated).
    barrier: bool,
    /// The projection, for orderings by alias.
    outputs: &'q [SelectItem],
    /// Whether an aggregate or a window function was written at this level.
    aggregated: bool,
}

/// A reference columns may name.
#[derive(Clone, Copy)]
pub(crate) struct Visible<'q> {
    pub(crate) name: &'q str,
    pub(crate) kind: VisibleKind<'q>,
}

#[derive(Clone, Copy)]
pub(crate) enum VisibleKind<'q> {
    /// A table (under its name or an alias).
    Table(&'static TableMeta),
    /// A CTE, as declared.
    Cte(&'q CteDef),
}

impl<'q> Visible<'q> {
    pub(crate) fn table(name: &'q str, table: &'static TableMeta) -> Self {
        Visible {
            name,
            kind: VisibleKind::Table(table),
        }
    }
}

/// What leads a `WHERE` or `ON` clause, before the user's predicate.
pub(crate) enum Lead<'q> {
    /// `"<reference>"."<tenant column>" = $n`.
    Tenant {
        reference: &'q str,
        column: &'static str,
        key: Value,
    },
    /// `"<joined>"."<tenant>" = "<base>"."<tenant>"`: across tenants, rows
    /// of different tenants are never joined.
    SameTenant {
        joined: &'q str,
        joined_column: &'static str,
        base: &'q str,
        base_column: &'static str,
    },
}

/// The clause expressions are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clause {
    Where,
    On,
    Projection,
    GroupBy,
    Having,
    OrderBy,
    Set,
    Values,
    Returning,
    DistinctOn,
}

impl Clause {
    fn name(self) -> &'static str {
        match self {
            Clause::Where => "WHERE",
            Clause::On => "ON",
            Clause::Projection => "the projection",
            Clause::GroupBy => "GROUP BY",
            Clause::Having => "HAVING",
            Clause::OrderBy => "ORDER BY",
            Clause::Set => "SET",
            Clause::Values => "VALUES",
            Clause::Returning => "RETURNING",
            Clause::DistinctOn => "DISTINCT ON",
        }
    }
}

/// Where in a clause expressions are being written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Place {
    clause: Clause,
    /// Inside an aggregate's argument.
    in_aggregate: bool,
    /// Inside a window function's arguments or window.
    in_window: bool,
}

impl<'s, 'q> Renderer<'s, 'q> {
    pub(crate) fn new(
        dialect: Dialect,
        schema: &'s Identifier,
        scope: StatementScope,
        statement_table: Option<&'static TableMeta>,
    ) -> Self {
        Renderer {
            w: SqlWriter::new(dialect, schema),
            scope,
            statement_table,
            levels: Vec::with_capacity(2),
            ctes: Vec::new(),
            place: Place {
                clause: Clause::Projection,
                in_aggregate: false,
                in_window: false,
            },
            excluded: None,
        }
    }

    /// The statement written.
    pub(crate) fn finish(self) -> Statement {
        self.w.finish(self.scope)
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.w.dialect()
    }

    /// Makes `sources` the references of a new, innermost level. Two
    /// references cannot share a name: they could not be told apart, nor
    /// scoped apart.
    pub(crate) fn enter(
        &mut self,
        sources: Vec<Visible<'q>>,
        outputs: &'q [SelectItem],
        barrier: bool,
    ) -> Result<(), BuildError> {
        for (index, source) in sources.iter().enumerate() {
            if sources[..index]
                .iter()
                .any(|known| known.name == source.name)
            {
                return Err(BuildError::DuplicateTable {
                    table: source.name.to_owned(),
                });
            }
        }
        let visible = sources.len();
        self.levels.push(Level {
            sources,
            visible,
            barrier,
            outputs,
            aggregated: false,
        });
        Ok(())
    }

    /// Leaves the innermost level; whether an aggregate was written in it.
    pub(crate) fn leave(&mut self) -> bool {
        self.levels.pop().is_some_and(|level| level.aggregated)
    }

    /// Restricts the innermost level to its first `count` references.
    pub(crate) fn limit_visible(&mut self, count: usize) {
        if let Some(level) = self.levels.last_mut() {
            level.visible = count.min(level.sources.len());
        }
    }

    /// Sets where expressions are written next; returns the previous place.
    pub(crate) fn set_clause(&mut self, clause: Clause) -> Place {
        core::mem::replace(
            &mut self.place,
            Place {
                clause,
                in_aggregate: false,
                in_window: false,
            },
        )
    }

    pub(crate) fn restore_place(&mut self, place: Place) {
        self.place = place;
    }

    /// The upsert table whose `"excluded"` row may be read, while writing
    /// its `DO UPDATE`.
    pub(crate) fn set_excluded(&mut self, table: Option<&'static TableMeta>) {
        self.excluded = table;
    }

    /// Refuses an embedded query (subquery, CTE body, union member) built
    /// for another scope than the statement. One made without a witness,
    /// or on global tables only, takes the statement's scope.
    pub(crate) fn check_scope(&self, query: &SelectQuery) -> Result<(), BuildError> {
        match query.scope {
            None | Some(StatementScope::Global) => Ok(()),
            Some(inner) if inner == self.scope => Ok(()),
            Some(inner) => Err(BuildError::MixedScopes {
                outer: self.scope,
                inner,
            }),
        }
    }

    /// The predicate that scopes `table`, read as `reference`: `None` for a
    /// global table or in a cross-tenant statement.
    pub(crate) fn tenant_lead(
        &self,
        table: &'static TableMeta,
        reference: &'q str,
    ) -> Result<Option<Lead<'q>>, BuildError> {
        let statement_table = self.statement_table.unwrap_or(table);
        let key = self.scope.tenant_value(table, statement_table)?;
        Ok(match (key, table.tenant) {
            (Some(key), Some(tenant)) => Some(Lead::Tenant {
                reference,
                column: tenant.name,
                key,
            }),
            _ => None,
        })
    }

    /// Whether tenant predicates are written (one tenant's statement).
    pub(crate) fn scoped(&self) -> bool {
        matches!(self.scope, StatementScope::Tenant(_))
    }

    pub(crate) fn across_tenants(&self) -> bool {
        matches!(self.scope, StatementScope::AllTenants)
    }

    /// A column, checked against the references in scope: the innermost
    /// level's first, then (for a correlated subquery) the enclosing ones.
    pub(crate) fn column(&mut self, column: &ColumnNode) -> Result<(), BuildError> {
        let qualifier = column.qualifier.as_str();
        for level in self.levels.iter().rev() {
            if let Some(source) = level.sources[..level.visible]
                .iter()
                .find(|source| source.name == qualifier)
            {
                if let VisibleKind::Cte(def) = source.kind
                    && !cte_has_output(def, column.column.as_str())
                {
                    return Err(BuildError::UnknownColumn {
                        source_name: qualifier.to_owned(),
                        column: column.column.as_str().to_owned(),
                    });
                }
                self.w.identifier(qualifier);
                self.w.keyword(".");
                self.w.identifier(column.column.as_str());
                return Ok(());
            }
            if level.barrier {
                break;
            }
        }
        Err(BuildError::UnknownTable {
            table: qualifier.to_owned(),
            column: column.column.as_str().to_owned(),
        })
    }

    /// The reference and tenant column of the first tenant-scoped table
    /// the innermost level can name, if there is one.
    pub(crate) fn tenant_column_in_reach(&self) -> Option<(&'q str, &'static str)> {
        let level = self.levels.last()?;
        level.sources[..level.visible]
            .iter()
            .find_map(|source| match source.kind {
                VisibleKind::Table(table) => table.tenant.map(|tenant| (source.name, tenant.name)),
                VisibleKind::Cte(_) => None,
            })
    }

    /// Every column of a reference: a table's, tenant column first, or a
    /// CTE's outputs, each qualified by the reference's name.
    pub(crate) fn all_columns_of(&mut self, source: Visible<'q>) -> Result<(), BuildError> {
        match source.kind {
            VisibleKind::Table(table) => {
                for (index, column) in all_columns(table).enumerate() {
                    if index > 0 {
                        self.w.keyword(", ");
                    }
                    self.w.column(source.name, column);
                }
                Ok(())
            }
            VisibleKind::Cte(def) => {
                let names = cte_outputs(def)?;
                for (index, column) in names.iter().enumerate() {
                    if index > 0 {
                        self.w.keyword(", ");
                    }
                    self.w.column(source.name, column);
                }
                Ok(())
            }
        }
    }

    /// `<keyword><leads, AND-ed> AND (<filters>)`, the filters combined
    /// with `AND`; nothing at all when there is neither.
    pub(crate) fn clause(
        &mut self,
        keyword: &'static str,
        leads: &[Lead<'q>],
        filters: &'q [Node],
        clause: Clause,
    ) -> Result<(), BuildError> {
        if leads.is_empty() && filters.is_empty() {
            return Ok(());
        }
        self.w.keyword(keyword);
        for (index, lead) in leads.iter().enumerate() {
            if index > 0 {
                self.w.keyword(" AND ");
            }
            self.lead(lead)?;
        }
        if filters.is_empty() {
            return Ok(());
        }
        let place = if leads.is_empty() {
            filter::Place::Alone
        } else {
            self.w.keyword(" AND ");
            filter::Place::Operand
        };
        let previous = self.set_clause(clause);
        let written = self.chain(filters, Class::And, place);
        self.restore_place(previous);
        written
    }

    fn lead(&mut self, lead: &Lead<'q>) -> Result<(), BuildError> {
        match lead {
            Lead::Tenant {
                reference,
                column,
                key,
            } => {
                self.w.column(reference, column);
                self.w.keyword(" = ");
                self.w.bind(key)
            }
            Lead::SameTenant {
                joined,
                joined_column,
                base,
                base_column,
            } => {
                self.w.column(joined, joined_column);
                self.w.keyword(" = ");
                self.w.column(base, base_column);
                Ok(())
            }
        }
    }

    /// The CTE declared under `name`, innermost first.
    fn declared_cte(&self, name: &str) -> Option<&'q CteDef> {
        self.ctes
            .iter()
            .rev()
            .copied()
            .find(|def| def.name.as_str() == name)
    }

    fn mark_aggregated(&mut self) {
        if let Some(level) = self.levels.last_mut() {
            level.aggregated = true;
        }
    }

    /// The projection of the innermost level.
    fn outputs(&self) -> &'q [SelectItem] {
        self.levels.last().map_or(&[], |level| level.outputs)
    }
}

/// Whether the CTE's body projects a column named `name`.
fn cte_has_output(def: &CteDef, name: &str) -> bool {
    cte_outputs(def).is_ok_and(|names| names.contains(&name))
}

/// The names of a CTE's columns: those of its body's (first) projection.
fn cte_outputs(def: &CteDef) -> Result<Vec<&str>, BuildError> {
    let Some(head) = def.head() else {
        return Err(BuildError::RecursiveReference {
            name: def.name.as_str().to_owned(),
        });
    };
    select_outputs(head, def.name.as_str())
}

/// The names of a select's columns, for a CTE named `cte`.
fn select_outputs<'a>(select: &'a SelectQuery, cte: &str) -> Result<Vec<&'a str>, BuildError> {
    if select.projection.is_empty() {
        return Ok(match &select.from {
            crate::query::source::Source::Table { table, .. } => all_columns(table).collect(),
            crate::query::source::Source::Cte(inner) => cte_outputs(inner.def())?,
        });
    }
    select
        .projection
        .iter()
        .enumerate()
        .map(|(position, item)| {
            item.output_name().ok_or_else(|| BuildError::UnnamedOutput {
                cte: cte.to_owned(),
                position,
            })
        })
        .collect()
}
