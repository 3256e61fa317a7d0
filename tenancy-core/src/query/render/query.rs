//! Writing selects, their sources and joins, `WITH`, and unions.

use core::slice;

use crate::BuildError;
use crate::ident::Identifier;
use crate::query::compound::{CompoundQuery, QueryNode, SetOp};
use crate::query::cte::Cte;
use crate::query::expr::ExprNode;
use crate::query::order::OrderTarget;
use crate::query::render::expr::OrderNames;
use crate::query::render::{Clause, Lead, Renderer, Visible, VisibleKind};
use crate::query::select::{Distinct, Form, LockStrength, LockWait, MAX_ROWS, SelectQuery};
use crate::query::source::{JoinKind, Source};
use crate::statement::Dialect;

/// The name of the derived table that counts the rows of a grouped or
/// distinct select.
static COUNTED: Identifier = Identifier::known("counted");

impl<'q> Renderer<'_, 'q> {
    /// A select as a whole statement.
    pub(crate) fn statement_select(
        &mut self,
        query: &'q SelectQuery,
        form: Form,
    ) -> Result<(), BuildError> {
        let counts_rows = !matches!(query.distinct, Distinct::No) || query.is_grouped();
        if form == Form::Count && counts_rows {
            self.w.keyword("SELECT COUNT(*) FROM (");
            self.select(query, Form::Counted, true)?;
            self.w.keyword(") AS ");
            self.w.identifier(COUNTED.as_str());
            Ok(())
        } else {
            self.select(query, form, true)
        }
    }

    /// A select at its own level: a statement, a subquery (`barrier`
    /// false: it may correlate with the levels around it), a CTE body, a
    /// union member or a derived table.
    pub(crate) fn select(
        &mut self,
        query: &'q SelectQuery,
        form: Form,
        barrier: bool,
    ) -> Result<(), BuildError> {
        self.check_scope(query)?;
        let declared = self.ctes.len();
        let written = self.with_clause(&query.with).and_then(|()| {
            let mut sources = Vec::with_capacity(1 + query.joins.len());
            sources.push(self.visible_source(&query.from)?);
            for join in &query.joins {
                sources.push(self.visible_source(&join.source)?);
            }
            self.enter(sources, &query.projection, barrier)?;
            let written = self.select_body(query, form);
            self.leave();
            written
        });
        self.ctes.truncate(declared);
        written
    }

    /// The reference a source makes, checked: a CTE must be declared, and
    /// be the CTE declared under its name.
    pub(crate) fn visible_source(&self, source: &'q Source) -> Result<Visible<'q>, BuildError> {
        match source {
            Source::Table { table, .. } => Ok(Visible::table(source.name(), table)),
            Source::Cte(cte) => {
                let def = self.declared(cte)?;
                Ok(Visible {
                    name: def.name.as_str(),
                    kind: VisibleKind::Cte(def),
                })
            }
        }
    }

    fn declared(&self, cte: &Cte) -> Result<&'q crate::query::cte::CteDef, BuildError> {
        let name = cte.name().as_str();
        match self.declared_cte(name) {
            // The reference of a recursive member names its CTE by name.
            Some(def) if cte.def().body.is_none() || core::ptr::eq(def, cte.def()) => Ok(def),
            Some(_) => Err(BuildError::DuplicateCte {
                name: name.to_owned(),
            }),
            None => Err(BuildError::UndeclaredCte {
                name: name.to_owned(),
            }),
        }
    }

    fn select_body(&mut self, query: &'q SelectQuery, form: Form) -> Result<(), BuildError> {
        // Outer joins that keep a side's unmatched rows: every scoped table
        // is read through a scoped derived table.
        let derived = self.scoped() && query.joins.iter().any(|join| preserves_a_side(join.kind));
        match form {
            Form::Count => self.w.keyword("SELECT COUNT(*)"),
            Form::Exists => self.w.keyword("SELECT EXISTS(SELECT 1"),
            Form::Rows | Form::Counted => {
                if matches!(query.distinct, Distinct::Rows) {
                    self.check_rows_comparable(query, "SELECT DISTINCT", "no `DISTINCT`")?;
                }
                self.w.keyword("SELECT ");
                self.distinct(&query.distinct)?;
                self.projection(query, form)?;
            }
        }
        self.w.keyword(" FROM ");
        let base_lead = self.source(&query.from, derived)?;
        for (index, join) in query.joins.iter().enumerate() {
            self.w.keyword(join.kind.sql());
            let lead = self.join_lead(query, &join.source, derived)?;
            // ON may name this reference and those before it, as in SQL.
            self.limit_visible(index + 2);
            let written = self.clause(
                " ON ",
                lead.as_slice(),
                slice::from_ref(&join.on),
                Clause::On,
            );
            self.limit_visible(usize::MAX);
            written?;
        }
        self.clause(
            " WHERE ",
            base_lead.as_slice(),
            &query.filters,
            Clause::Where,
        )?;
        if !query.group_by.is_empty() {
            self.w.keyword(" GROUP BY ");
            let previous = self.set_clause(Clause::GroupBy);
            let written = self.list(&query.group_by);
            self.restore_place(previous);
            written?;
        }
        self.clause(" HAVING ", &[], &query.having, Clause::Having)?;
        match form {
            Form::Rows => {
                self.order_by(query)?;
                self.limit_offset(query.limit, query.offset)?;
                self.lock(query)?;
            }
            Form::Exists => self.w.keyword(")"),
            Form::Count | Form::Counted => {}
        }
        Ok(())
    }

    fn distinct(&mut self, distinct: &'q Distinct) -> Result<(), BuildError> {
        match distinct {
            Distinct::No => Ok(()),
            Distinct::Rows => {
                self.w.keyword("DISTINCT ");
                Ok(())
            }
            Distinct::On(expressions) => {
                if self.dialect() == Dialect::Sqlite {
                    return Err(BuildError::UnsupportedInDialect {
                        construct: "DISTINCT ON",
                        dialect: Dialect::Sqlite,
                        hint: "rank the rows with `row_number().over(..)` in a CTE and keep those ranked 1",
                    });
                }
                self.w.keyword("DISTINCT ON (");
                let previous = self.set_clause(Clause::DistinctOn);
                let written = self.list(expressions);
                self.restore_place(previous);
                written?;
                self.w.keyword(") ");
                Ok(())
            }
        }
    }

    fn projection(&mut self, query: &'q SelectQuery, form: Form) -> Result<(), BuildError> {
        if query.probe {
            self.w.keyword("1");
            return Ok(());
        }
        // The groups a count counts: one row per group, whatever the select
        // would have projected (every column of a grouped select is no
        // projection at all).
        if form == Form::Counted && query.projection.is_empty() && query.is_grouped() {
            if query.group_by.is_empty() {
                self.w.keyword("1");
                return Ok(());
            }
            let previous = self.set_clause(Clause::GroupBy);
            let written = self.list(&query.group_by);
            self.restore_place(previous);
            return written;
        }
        if query.projection.is_empty() {
            let base = self.visible_source(&query.from)?;
            return self.all_columns_of(base);
        }
        self.items(&query.projection, Clause::Projection)
    }

    /// `<expr> [AS "<alias>"], ...`, for a projection or `RETURNING`.
    pub(crate) fn items(
        &mut self,
        items: &'q [crate::query::select::SelectItem],
        clause: Clause,
    ) -> Result<(), BuildError> {
        let previous = self.set_clause(clause);
        let mut written = Ok(());
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.w.keyword(", ");
            }
            written = self.expr(&item.expr);
            if written.is_err() {
                break;
            }
            if let Some(alias) = &item.alias {
                self.w.keyword(" AS ");
                self.w.identifier(alias.as_str());
            }
        }
        self.restore_place(previous);
        written
    }

    /// Writes a source of a FROM list; returns the predicate that scopes
    /// it, to be written in its clause, or `None` when there is none (a
    /// global table, a CTE, a cross-tenant statement) or it is written in
    /// the derived table that reads it.
    pub(crate) fn source(
        &mut self,
        source: &'q Source,
        derived: bool,
    ) -> Result<Option<Lead<'q>>, BuildError> {
        match source {
            Source::Table { table, alias } => {
                let name = source.name();
                let lead = self.tenant_lead(table, name)?;
                match lead {
                    Some(lead) if derived => {
                        self.w.keyword("(SELECT ");
                        self.all_columns_of(Visible::table(name, table))?;
                        self.w.keyword(" FROM ");
                        self.table_reference(table, alias.as_ref());
                        self.w.keyword(" WHERE ");
                        self.clause("", slice::from_ref(&lead), &[], Clause::Where)?;
                        self.w.keyword(") AS ");
                        self.w.identifier(name);
                        Ok(None)
                    }
                    lead => {
                        self.table_reference(table, alias.as_ref());
                        Ok(lead)
                    }
                }
            }
            Source::Cte(cte) => {
                self.w.identifier(cte.name().as_str());
                Ok(None)
            }
        }
    }

    /// `"schema"."table" [AS "alias"]`.
    pub(crate) fn table_reference(
        &mut self,
        table: &'static crate::meta::TableMeta,
        alias: Option<&Identifier>,
    ) {
        self.w.table(table);
        if let Some(alias) = alias {
            self.w.keyword(" AS ");
            self.w.identifier(alias.as_str());
        }
    }

    /// Writes a joined source; returns what leads its `ON`.
    fn join_lead(
        &mut self,
        query: &'q SelectQuery,
        joined: &'q Source,
        derived: bool,
    ) -> Result<Option<Lead<'q>>, BuildError> {
        if !self.across_tenants() {
            return self.source(joined, derived);
        }
        let base = query
            .from
            .table_meta()
            .map(|table| (query.from.name(), table));
        let lead = cross_tenant_lead(base, joined)?;
        self.source(joined, false)?;
        Ok(lead)
    }

    /// Writes a source that an UPDATE's `FROM` or a DELETE's `USING` reads
    /// beside the written table `base`; returns what scopes it, a conjunct
    /// of the `WHERE`.
    pub(crate) fn read_source(
        &mut self,
        base: &'static crate::meta::TableMeta,
        base_name: &'q str,
        source: &'q Source,
    ) -> Result<Option<Lead<'q>>, BuildError> {
        if !self.across_tenants() {
            return self.source(source, false);
        }
        let lead = cross_tenant_lead(Some((base_name, base)), source)?;
        self.source(source, false)?;
        Ok(lead)
    }

    fn order_by(&mut self, query: &'q SelectQuery) -> Result<(), BuildError> {
        if query.order.is_empty() {
            return Ok(());
        }
        self.w.keyword(" ORDER BY ");
        let previous = self.set_clause(Clause::OrderBy);
        let written = self.orderings(&query.order, OrderNames::Projection);
        self.restore_place(previous);
        written
    }

    /// `LIMIT $n OFFSET $m`, each bound. SQLite accepts `OFFSET` only
    /// after a `LIMIT`.
    fn limit_offset(&mut self, limit: Option<u64>, offset: Option<u64>) -> Result<(), BuildError> {
        let limit = match (self.dialect(), limit, offset) {
            (Dialect::Sqlite, None, Some(_)) => Some(MAX_ROWS),
            (_, limit, _) => limit,
        };
        if let Some(limit) = limit {
            self.w.keyword(" LIMIT ");
            self.w.bind(&limit.into())?;
        }
        if let Some(offset) = offset {
            self.w.keyword(" OFFSET ");
            self.w.bind(&offset.into())?;
        }
        Ok(())
    }

    /// `FOR UPDATE` or `FOR SHARE`, `[NOWAIT | SKIP LOCKED]`, on PostgreSQL;
    /// SQLite has no row locks, and serialises writers instead.
    fn lock(&mut self, query: &SelectQuery) -> Result<(), BuildError> {
        let Some(lock) = query.lock else {
            return Ok(());
        };
        let Some(strength) = lock.strength else {
            return Err(BuildError::LockWaitWithoutLock);
        };
        let aggregated = self.levels.last().is_some_and(|level| level.aggregated);
        let reason = if !query.group_by.is_empty() {
            Some("GROUP BY")
        } else if !query.having.is_empty() {
            Some("HAVING")
        } else if !matches!(query.distinct, Distinct::No) {
            Some("DISTINCT")
        } else if aggregated {
            Some("aggregates or window functions")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(BuildError::LockNotAllowed { reason });
        }
        if self.dialect() == Dialect::Sqlite {
            return Ok(());
        }
        self.w.keyword(match strength {
            LockStrength::Update => " FOR UPDATE",
            LockStrength::Share => " FOR SHARE",
        });
        self.w.keyword(match lock.wait {
            LockWait::Wait => "",
            LockWait::NoWait => " NOWAIT",
            LockWait::SkipLocked => " SKIP LOCKED",
        });
        Ok(())
    }

    /// `WITH [RECURSIVE] "a" AS (..), "b" AS (..) `: each body a query of
    /// its own, which sees the CTEs declared before it (and a recursive
    /// one itself). The declared CTEs stay visible until the caller drops
    /// them.
    pub(crate) fn with_clause(&mut self, ctes: &'q [Cte]) -> Result<(), BuildError> {
        if ctes.is_empty() {
            return Ok(());
        }
        self.w.keyword("WITH ");
        if ctes.iter().any(|cte| cte.def().recursive) {
            self.w.keyword("RECURSIVE ");
        }
        for (index, cte) in ctes.iter().enumerate() {
            let def = cte.def();
            let name = def.name.as_str();
            let Some(body) = &def.body else {
                return Err(BuildError::RecursiveReference {
                    name: name.to_owned(),
                });
            };
            if self.declared_cte(name).is_some() {
                return Err(BuildError::DuplicateCte {
                    name: name.to_owned(),
                });
            }
            if index > 0 {
                self.w.keyword(", ");
            }
            self.w.identifier(name);
            self.w.keyword(" AS (");
            if def.recursive {
                self.ctes.push(def);
            }
            let previous = self.set_clause(Clause::Projection);
            let written = self.query_node(body);
            self.restore_place(previous);
            written?;
            if !def.recursive {
                self.ctes.push(def);
            }
            self.w.keyword(")");
        }
        self.w.keyword(" ");
        Ok(())
    }

    /// A CTE's body.
    fn query_node(&mut self, query: &'q QueryNode) -> Result<(), BuildError> {
        match query {
            QueryNode::Select(select) => self.select(select, Form::Rows, true),
            QueryNode::Compound(compound) => self.compound(compound),
        }
    }

    /// `<member> UNION [ALL] <member> ... [ORDER BY ..] [LIMIT ..]`.
    pub(crate) fn compound(&mut self, compound: &'q CompoundQuery) -> Result<(), BuildError> {
        let declared = self.ctes.len();
        let written = self.compound_body(compound);
        self.ctes.truncate(declared);
        written
    }

    fn compound_body(&mut self, compound: &'q CompoundQuery) -> Result<(), BuildError> {
        self.with_clause(&compound.with)?;
        self.member(&compound.first)?;
        for (op, member) in &compound.rest {
            self.w.keyword(match op {
                SetOp::Union => " UNION ",
                SetOp::UnionAll => " UNION ALL ",
            });
            self.member(member)?;
        }
        self.check_members_agree(compound)?;
        self.check_union_comparable(compound)?;
        if !compound.order.is_empty() {
            self.w.keyword(" ORDER BY ");
            for (index, ordering) in compound.order.iter().enumerate() {
                if index > 0 {
                    self.w.keyword(", ");
                }
                let name = match &ordering.target {
                    OrderTarget::Alias(alias) => alias.as_str(),
                    OrderTarget::Expr(ExprNode::Column(column)) => column.column.as_str(),
                    OrderTarget::Expr(_) => return Err(BuildError::UnionOrdering),
                };
                let named = compound
                    .first
                    .projection
                    .iter()
                    .any(|item| item.output_name() == Some(name));
                if !named {
                    return Err(BuildError::UnionOrdering);
                }
                self.w.identifier(name);
                self.direction(ordering);
            }
        }
        self.limit_offset(compound.limit, compound.offset)
    }

    /// A member of a union: a select without the clauses of the whole.
    fn member(&mut self, member: &'q SelectQuery) -> Result<(), BuildError> {
        let clause = if !member.order.is_empty() {
            Some("ORDER BY")
        } else if member.limit.is_some() || member.offset.is_some() {
            Some("LIMIT or OFFSET")
        } else if member.lock.is_some() {
            Some("a row lock")
        } else {
            None
        };
        if let Some(clause) = clause {
            return Err(BuildError::UnionMemberClause { clause });
        }
        self.select(member, Form::Rows, true)
    }
}

/// Whether a join keeps the unmatched rows of its joined side, and makes
/// the side before it nullable: a predicate in its `ON` would not confine
/// the one, and one in `WHERE` would remove the added rows of the other.
fn preserves_a_side(kind: JoinKind) -> bool {
    kind.preserves_right()
}

/// Across tenants, a scoped table read beside a scoped `base` table is
/// matched with it on the tenant column, so rows of different tenants are
/// never combined; a global table needs nothing; anything else (a scoped
/// table beside a global one or a CTE, a CTE beside a scoped table) cannot
/// be matched and is refused.
fn cross_tenant_lead<'q>(
    base: Option<(&'q str, &'static crate::meta::TableMeta)>,
    joined: &'q Source,
) -> Result<Option<Lead<'q>>, BuildError> {
    let base_tenant = base.and_then(|(name, table)| Some((name, table.tenant?)));
    match (joined, base_tenant) {
        (Source::Table { table, .. }, _) if !table.is_scoped() => Ok(None),
        (Source::Cte(_), None) => Ok(None),
        (Source::Table { table, .. }, Some((base, base_tenant))) => {
            Ok(table.tenant.map(|tenant| Lead::SameTenant {
                joined: joined.name(),
                joined_column: tenant.name,
                base,
                base_column: base_tenant.name,
            }))
        }
        _ => Err(BuildError::CrossTenantJoin {
            table: joined.name().to_owned(),
        }),
    }
}
