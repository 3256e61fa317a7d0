//! An independent oracle for the scoping rule: parses emitted SQL with
//! `sqlparser` and walks the syntax tree, knowing nothing about the builder
//! but the schema (which tables are scoped, by which column, and which
//! schema each table is declared in).
//!
//! In a tenant statement, every reference to a scoped table must carry
//! `<reference>.<tenant column> = <placeholder>` (the reference being its
//! alias, or the table's name) as a top-level `AND` conjunct of a clause
//! that confines it, and that placeholder must be bound to the tenant's
//! key. A clause confines a reference when every row of the reference in
//! the result passed it:
//!
//! - the `WHERE` of the query (or subquery, CTE body, union member,
//!   derived table, UPDATE, DELETE) whose FROM list names it;
//! - the `ON` of its own join when that join is `INNER` or `LEFT` (a
//!   `RIGHT` or `FULL` join keeps the joined rows that fail its `ON`);
//! - the `ON` of a later join that is `INNER` or `RIGHT` (one that is
//!   `LEFT` or `FULL` keeps the earlier rows that fail it).
//!
//! A reference on the nullable side of an outer join must not be scoped in
//! `WHERE` (that would turn the outer join into an inner one: a wrong
//! result, if not a leak). Inserted rows must take the key, bound, for the
//! tenant column; an upsert's conflict target must lead with it. Every
//! table reference must be schema-qualified, with the table's declared
//! schema or the dialect's default (`public`, `main`), so that no other
//! table of the same name can be meant; an unqualified name must be a CTE
//! of an enclosing `WITH`. Every column must be qualified by a reference
//! in scope. Any syntax the oracle does not know is an error, so nothing
//! can hide from it.

use std::collections::{BTreeSet, HashMap};

use sqlparser::ast::{
    AssignmentTarget, BinaryOperator, CastKind, ConflictTarget, DataType, Delete, Distinct,
    DoUpdate, DuplicateTreatment, Expr, FromTable, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, GroupByExpr, InTarget, Insert, Join, JoinConstraint, JoinOperator,
    LimitClause, ObjectName, ObjectNamePart, OnConflict, OnConflictAction, OnInsert, OrderByExpr,
    OrderByKind, Query, Select, SelectItem, SetExpr, SetOperator, SetQuantifier, Statement,
    TableFactor, TableObject, TableWithJoins, UnaryOperator, Update, UpdateTableFromKind, Value,
    ValueWithSpan, WindowType,
};
use sqlparser::dialect::{Dialect as ParserDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use tenancy_core::Dialect;
use tenancy_core::sea_query::Value as Bound;

/// Whom the statement must be for.
#[derive(Clone, Debug)]
pub enum Expected {
    /// One tenant: its key as bound, and as text (which must not appear inline).
    Tenant { key: Bound, text: String },
    /// Every tenant: scoped tables read together must match on the tenant column.
    AllTenants,
    /// No tenant: no scoped table may be referenced at all.
    Global,
}

/// The schema as the oracle knows it.
#[derive(Default)]
pub struct Schema {
    /// Scoped table name → tenant column.
    pub tenants: HashMap<&'static str, &'static str>,
    /// Table name → the schema it is declared in, for those that declare one.
    pub declared: HashMap<&'static str, &'static str>,
}

/// Checks one statement; returns how many scoped table references it saw.
pub fn check(
    sql: &str,
    values: &[Bound],
    dialect: Dialect,
    expected: &Expected,
    schema: &Schema,
) -> Result<usize, String> {
    check_tables(sql, values, dialect, expected, schema).map(|(references, _)| references)
}

/// [`check`], also returning the name of every table the statement
/// references, at any depth.
pub fn check_tables(
    sql: &str,
    values: &[Bound],
    dialect: Dialect,
    expected: &Expected,
    schema: &Schema,
) -> Result<(usize, BTreeSet<String>), String> {
    if let Expected::Tenant { text, .. } = expected
        && sql.contains(text.as_str())
    {
        return Err(format!("the tenant key {text} is inlined"));
    }
    let parser_dialect: &dyn ParserDialect = match dialect {
        Dialect::Postgres => &PostgreSqlDialect {},
        Dialect::Sqlite => &SQLiteDialect {},
    };
    let placeholders = placeholder_positions(parser_dialect, sql, values.len())?;
    let mut statements =
        Parser::parse_sql(parser_dialect, sql).map_err(|e| format!("unparsable: {e}"))?;
    let (Some(statement), None) = (statements.pop(), statements.pop()) else {
        return Err("expected exactly one statement".into());
    };
    let mut checker = Checker {
        sqlite: dialect == Dialect::Sqlite,
        values,
        placeholders,
        expected,
        schema,
        references: 0,
        tables: BTreeSet::new(),
        ctes: Vec::new(),
        levels: Vec::new(),
    };
    checker.statement(&statement)?;
    Ok((checker.references, checker.tables))
}

/// For `?` placeholders, their ordinal by source position; also checks that
/// placeholders and values match one to one.
fn placeholder_positions(
    dialect: &dyn ParserDialect,
    sql: &str,
    value_count: usize,
) -> Result<HashMap<(u64, u64), usize>, String> {
    let tokens = Tokenizer::new(dialect, sql)
        .tokenize_with_location()
        .map_err(|e| format!("untokenizable: {e}"))?;
    let mut positions = HashMap::new();
    let mut numbered = Vec::new();
    for token in tokens {
        if let Token::Placeholder(text) = &token.token {
            if text == "?" {
                positions.insert(
                    (token.span.start.line, token.span.start.column),
                    positions.len(),
                );
            } else {
                numbered.push(text.clone());
            }
        }
    }
    // `$n` placeholders must be exactly $1..=$count, each at least once (a
    // JSON key named in several clauses is one parameter, written where
    // each clause names it); `?` ones exactly count.
    let mut numbers: Vec<usize> = numbered
        .iter()
        .filter_map(|text| text.strip_prefix('$')?.parse().ok())
        .collect();
    let parsed = numbers.len();
    numbers.sort_unstable();
    numbers.dedup();
    let consistent = if positions.is_empty() {
        parsed == numbered.len() && numbers.iter().copied().eq(1..=value_count)
    } else {
        numbered.is_empty() && positions.len() == value_count
    };
    if consistent {
        Ok(positions)
    } else {
        Err(format!(
            "placeholders {numbered:?} and {} `?` do not match {value_count} values",
            positions.len()
        ))
    }
}

/// What a FROM-list entry is.
#[derive(Clone, Debug)]
enum RelationKind {
    /// A table; `tenant` is its tenant column when it is scoped.
    Table { tenant: Option<&'static str> },
    /// A CTE of an enclosing `WITH`, or a derived table.
    Derived,
}

#[derive(Clone, Debug)]
struct Relation {
    /// The name columns are qualified by: the alias, or the table's name.
    name: String,
    kind: RelationKind,
}

impl Relation {
    fn tenant(&self) -> Option<&'static str> {
        match self.kind {
            RelationKind::Table { tenant } => tenant,
            RelationKind::Derived => None,
        }
    }
}

/// The names columns may be qualified by, at one level.
struct Level {
    names: Vec<String>,
    /// Columns of levels outside cannot be named (CTE bodies, derived
    /// tables, VALUES).
    barrier: bool,
}

struct Checker<'a> {
    sqlite: bool,
    values: &'a [Bound],
    placeholders: HashMap<(u64, u64), usize>,
    expected: &'a Expected,
    schema: &'a Schema,
    references: usize,
    /// Every table named, by its name without schema.
    tables: BTreeSet<String>,
    /// CTE names in scope, innermost last.
    ctes: Vec<String>,
    levels: Vec<Level>,
}

/// How the join that brings a relation in combines rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Inner,
    Left,
    Right,
    Full,
}

impl Checker<'_> {
    fn statement(&mut self, statement: &Statement) -> Result<(), String> {
        match statement {
            Statement::Query(query) => self.query(query, true),
            Statement::Insert(insert) => self.insert(insert),
            Statement::Update(update) => self.update(update),
            Statement::Delete(delete) => self.delete(delete),
            other => Err(format!("unexpected statement `{other}`")),
        }
    }

    /// A query at its own level; `barrier` when it cannot see the levels
    /// around it (a statement, a CTE body, a derived table).
    fn query(&mut self, query: &Query, barrier: bool) -> Result<(), String> {
        if query.fetch.is_some()
            || query.for_clause.is_some()
            || query.settings.is_some()
            || query.format_clause.is_some()
            || !query.pipe_operators.is_empty()
        {
            return Err(format!("unexpected clause in `{query}`"));
        }
        let declared = self.ctes.len();
        let checked = self.query_inner(query, barrier);
        self.ctes.truncate(declared);
        checked
    }

    fn query_inner(&mut self, query: &Query, barrier: bool) -> Result<(), String> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                if cte.from.is_some() || cte.materialized.is_some() || !cte.alias.columns.is_empty()
                {
                    return Err(format!("unexpected CTE `{cte}`"));
                }
                let name = quoted(&cte.alias.name)?;
                if with.recursive {
                    self.ctes.push(name.clone());
                }
                self.query(&cte.query, true)?;
                if !with.recursive {
                    self.ctes.push(name);
                }
            }
        }
        // `FOR UPDATE` / `FOR SHARE`, `NOWAIT`, `SKIP LOCKED`: PostgreSQL only.
        if let Some(lock) = query
            .locks
            .iter()
            .find(|lock| self.sqlite || lock.of.is_some())
        {
            return Err(format!("unexpected `{lock}`"));
        }
        let order: &[OrderByExpr] = match &query.order_by {
            None => &[],
            Some(order_by) => match &order_by.kind {
                OrderByKind::Expressions(items) if order_by.interpolate.is_none() => items,
                _ => return Err(format!("unexpected `{order_by}`")),
            },
        };
        match query.body.as_ref() {
            SetExpr::Select(select) => self.select(select, order, barrier)?,
            body @ SetExpr::SetOperation { .. } => {
                let outputs = self.set_operation(body)?;
                for item in order {
                    self.order_options(item)?;
                    match &item.expr {
                        Expr::Identifier(name) if outputs.contains(&quoted(name)?) => {}
                        other => {
                            return Err(format!(
                                "a union ordered by `{other}`, not one of its columns {outputs:?}"
                            ));
                        }
                    }
                }
            }
            other => return Err(format!("unexpected query body `{other}`")),
        }
        match &query.limit_clause {
            None => Ok(()),
            Some(LimitClause::LimitOffset {
                limit: None,
                offset: Some(_),
                ..
            }) if self.sqlite => Err("SQLite accepts OFFSET only after LIMIT".into()),
            Some(LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            }) if limit_by.is_empty() => {
                // Bounds are placeholders, seen by no table.
                self.levels.push(Level {
                    names: Vec::new(),
                    barrier: true,
                });
                let checked = limit
                    .iter()
                    .chain(offset.iter().map(|offset| &offset.value))
                    .try_for_each(|expr| self.expr(expr));
                self.levels.pop();
                checked
            }
            Some(other) => Err(format!("unexpected `{other}`")),
        }
    }

    /// The members of a `UNION [ALL]`, each a select of its own; returns
    /// the first member's column names.
    fn set_operation(&mut self, body: &SetExpr) -> Result<Vec<String>, String> {
        match body {
            SetExpr::Select(select) => {
                self.select(select, &[], true)?;
                select.projection.iter().map(output_name).collect()
            }
            SetExpr::SetOperation {
                left,
                op: SetOperator::Union,
                set_quantifier: SetQuantifier::All | SetQuantifier::None,
                right,
            } => {
                let outputs = self.set_operation(left)?;
                self.set_operation(right)?;
                Ok(outputs)
            }
            other => Err(format!("unexpected set operation `{other}`")),
        }
    }

    fn select(
        &mut self,
        select: &Select,
        order: &[OrderByExpr],
        barrier: bool,
    ) -> Result<(), String> {
        let unexpected = select.into.is_some()
            || select.top.is_some()
            || select.exclude.is_some()
            || select.prewhere.is_some()
            || select.qualify.is_some()
            || select.value_table_mode.is_some()
            || select.select_modifiers.is_some()
            || !select.optimizer_hints.is_empty()
            || !select.lateral_views.is_empty()
            || !select.connect_by.is_empty()
            || !select.cluster_by.is_empty()
            || !select.distribute_by.is_empty()
            || !select.sort_by.is_empty()
            || !select.named_window.is_empty();
        if unexpected {
            return Err(format!("unexpected clause in `{select}`"));
        }
        // `SELECT EXISTS(..)` has no FROM of its own.
        let (relations, kinds, joins) = match select.from.as_slice() {
            [] => (Vec::new(), Vec::new(), &[][..]),
            [from] => {
                let (relations, kinds) = self.relations_of(from)?;
                (relations, kinds, from.joins.as_slice())
            }
            _ => return Err(format!("expected one FROM item in `{select}`")),
        };
        self.levels.push(Level {
            names: relations.iter().map(|r| r.name.clone()).collect(),
            barrier,
        });
        let checked = self.select_level(select, order, joins, &relations, &kinds);
        self.levels.pop();
        checked
    }

    fn select_level(
        &mut self,
        select: &Select,
        order: &[OrderByExpr],
        joins: &[Join],
        relations: &[Relation],
        kinds: &[Kind],
    ) -> Result<(), String> {
        let selection = select.selection.as_ref();
        let ons: Vec<&Expr> = joins.iter().map(join_on).collect::<Result<_, _>>()?;
        self.scope_relations(relations, kinds, selection, &ons)?;
        // Each ON sees the relations up to its own.
        for (index, on) in ons.iter().enumerate() {
            self.with_visible(index + 2, |checker| checker.expr(on))?;
        }
        match &select.distinct {
            None => {}
            Some(Distinct::Distinct) => {}
            Some(Distinct::On(exprs)) if !self.sqlite => {
                exprs.iter().try_for_each(|expr| self.expr(expr))?;
            }
            Some(other) => return Err(format!("unexpected `{other}`")),
        }
        let mut aliases = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::UnnamedExpr(expr) => self.expr(expr)?,
                SelectItem::ExprWithAlias { expr, alias } => {
                    aliases.push(quoted(alias)?);
                    self.expr(expr)?;
                }
                other => return Err(format!("unexpected projection `{other}`")),
            }
        }
        if let Some(selection) = selection {
            self.expr(selection)?;
        }
        match &select.group_by {
            GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => {
                exprs.iter().try_for_each(|expr| self.expr(expr))?;
            }
            other => return Err(format!("unexpected `{other}`")),
        }
        if let Some(having) = &select.having {
            self.expr(having)?;
        }
        for item in order {
            self.order_options(item)?;
            match &item.expr {
                Expr::Identifier(alias) if aliases.contains(&quoted(alias)?) => {}
                Expr::Identifier(other) => {
                    return Err(format!(
                        "ORDER BY `{other}`, which no projection item is named"
                    ));
                }
                expr => self.expr(expr)?,
            }
        }
        Ok(())
    }

    /// Runs `check` with only the first `count` relations of the innermost
    /// level visible.
    fn with_visible(
        &mut self,
        count: usize,
        check: impl FnOnce(&mut Self) -> Result<(), String>,
    ) -> Result<(), String> {
        let level = self.levels.last_mut().ok_or("no level")?;
        let hidden = level.names.split_off(count.min(level.names.len()));
        let checked = check(self);
        if let Some(level) = self.levels.last_mut() {
            level.names.extend(hidden);
        }
        checked
    }

    fn order_options(&self, item: &OrderByExpr) -> Result<(), String> {
        if item.with_fill.is_some() {
            return Err(format!("unexpected `{item}`"));
        }
        Ok(())
    }

    /// The relations of one FROM item (a table and its joins), with the kind
    /// of the join that brings each in (`Inner` for the first).
    fn relations_of(
        &mut self,
        from: &TableWithJoins,
    ) -> Result<(Vec<Relation>, Vec<Kind>), String> {
        let mut relations = vec![self.relation(&from.relation)?];
        let mut kinds = vec![Kind::Inner];
        for join in &from.joins {
            if join.global {
                return Err(format!("unexpected join `{join}`"));
            }
            relations.push(self.relation(&join.relation)?);
            kinds.push(join_kind(join)?);
        }
        for (index, relation) in relations.iter().enumerate() {
            if relations[..index]
                .iter()
                .any(|known| known.name == relation.name)
            {
                return Err(format!(
                    "`{}` is named twice in one FROM list",
                    relation.name
                ));
            }
        }
        Ok((relations, kinds))
    }

    /// One FROM-list entry: a schema-qualified table, a CTE of an enclosing
    /// `WITH`, or a derived table (checked as a query of its own).
    fn relation(&mut self, relation: &TableFactor) -> Result<Relation, String> {
        match relation {
            TableFactor::Table {
                name,
                alias,
                args: None,
                with_hints,
                version: None,
                with_ordinality: false,
                partitions,
                json_path: None,
                sample: None,
                index_directives,
                inheritance: None,
            } if with_hints.is_empty() && partitions.is_empty() && index_directives.is_empty() => {
                let alias = match alias {
                    None => None,
                    Some(alias) if alias.columns.is_empty() => Some(quoted(&alias.name)?),
                    Some(other) => return Err(format!("unexpected alias `{other}`")),
                };
                match name.0.as_slice() {
                    [ObjectNamePart::Identifier(cte)] => {
                        let cte = quoted(cte)?;
                        if !self.ctes.contains(&cte) {
                            return Err(format!(
                                "`{cte}` is neither schema-qualified nor a CTE in scope"
                            ));
                        }
                        Ok(Relation {
                            name: alias.unwrap_or(cte),
                            kind: RelationKind::Derived,
                        })
                    }
                    _ => {
                        let table = self.qualified(name)?;
                        let tenant = self.schema.tenants.get(table.as_str()).copied();
                        Ok(Relation {
                            name: alias.unwrap_or(table),
                            kind: RelationKind::Table { tenant },
                        })
                    }
                }
            }
            TableFactor::Derived {
                lateral: false,
                subquery,
                alias: Some(alias),
                sample: None,
            } if alias.columns.is_empty() => {
                self.query(subquery, true)?;
                Ok(Relation {
                    name: quoted(&alias.name)?,
                    kind: RelationKind::Derived,
                })
            }
            other => Err(format!("unexpected table `{other}`")),
        }
    }

    /// Checks the tenant conjunct of every scoped relation of one FROM item,
    /// by the placement rules of the module docs.
    fn scope_relations(
        &mut self,
        relations: &[Relation],
        kinds: &[Kind],
        selection: Option<&Expr>,
        ons: &[&Expr],
    ) -> Result<(), String> {
        for (index, relation) in relations.iter().enumerate() {
            let Some(tenant) = relation.tenant() else {
                continue;
            };
            self.references += 1;
            let nullable = matches!(kinds[index], Kind::Left | Kind::Full)
                || kinds[index + 1..]
                    .iter()
                    .any(|kind| matches!(kind, Kind::Right | Kind::Full));
            if nullable && self.mentions_tenant_column(selection, &relation.name, tenant) {
                return Err(format!(
                    "`{}` is on the nullable side of an outer join but filtered by tenant in WHERE",
                    relation.name
                ));
            }
            match self.expected {
                Expected::Global => {
                    return Err(format!(
                        "tenant-scoped `{}` in a global statement",
                        relation.name
                    ));
                }
                Expected::AllTenants => {
                    if index == 0 {
                        continue;
                    }
                    let base = &relations[0];
                    let Some(base_tenant) = base.tenant() else {
                        return Err(format!(
                            "`{}` is read across tenants beside `{}`, which has no tenant column",
                            relation.name, base.name
                        ));
                    };
                    let matched = conjuncts(Some(ons[index - 1])).any(|conjunct| {
                        is_column_pair(
                            conjunct,
                            (&relation.name, tenant),
                            (&base.name, base_tenant),
                        )
                    });
                    if !matched {
                        return Err(format!(
                            "`{}` is joined across tenants without `{}.{tenant} = {}.{base_tenant}`",
                            relation.name, relation.name, base.name
                        ));
                    }
                }
                Expected::Tenant { .. } => {
                    let in_where = conjuncts(selection)
                        .any(|conjunct| self.is_tenant_predicate(conjunct, &relation.name, tenant));
                    let in_on = ons.iter().enumerate().any(|(position, on)| {
                        let join = position + 1;
                        let confines = (join == index
                            && matches!(kinds[join], Kind::Inner | Kind::Left))
                            || (join > index && matches!(kinds[join], Kind::Inner | Kind::Right));
                        confines
                            && conjuncts(Some(on)).any(|conjunct| {
                                self.is_tenant_predicate(conjunct, &relation.name, tenant)
                            })
                    });
                    if !(in_where || in_on) {
                        return Err(format!(
                            "`{}` has no top-level `{}.{tenant} = <tenant>` conjunct in a clause that confines it: WHERE {} ON {:?}",
                            relation.name,
                            relation.name,
                            show(selection),
                            ons.iter().map(ToString::to_string).collect::<Vec<_>>()
                        ));
                    }
                }
            }
        }
        // Across tenants, a CTE or derived table read beside a scoped base
        // could pair rows of different tenants.
        if let (Expected::AllTenants, Some(base)) = (self.expected, relations.first())
            && base.tenant().is_some()
            && let Some(unmatched) = relations[1..]
                .iter()
                .find(|relation| matches!(relation.kind, RelationKind::Derived))
        {
            return Err(format!(
                "`{}` is read across tenants beside scoped `{}` without a tenant match",
                unmatched.name, base.name
            ));
        }
        Ok(())
    }

    /// Whether a conjunct of `clause` compares `<name>.<tenant>` with anything.
    fn mentions_tenant_column(&self, clause: Option<&Expr>, name: &str, tenant: &str) -> bool {
        conjuncts(clause).any(|conjunct| match conjunct {
            Expr::BinaryOp { left, right, .. } => {
                is_column(left, name, tenant) || is_column(right, name, tenant)
            }
            _ => false,
        })
    }

    fn insert(&mut self, insert: &Insert) -> Result<(), String> {
        let TableObject::TableName(name) = &insert.table else {
            return Err(format!("unexpected insert target `{}`", insert.table));
        };
        if insert.table_alias.is_some() || insert.or.is_some() || !insert.assignments.is_empty() {
            return Err(format!("unexpected INSERT form `{insert}`"));
        }
        let table = self.qualified(name)?;
        let columns = insert
            .columns
            .iter()
            .map(last_part)
            .collect::<Result<Vec<_>, _>>()?;
        let tenant = self.schema.tenants.get(table.as_str()).copied();
        match insert.source.as_ref().map(|query| query.body.as_ref()) {
            Some(SetExpr::Values(values)) => {
                // VALUES see no table.
                self.levels.push(Level {
                    names: Vec::new(),
                    barrier: true,
                });
                let checked = self.insert_rows(&values.rows, &columns);
                self.levels.pop();
                checked?;
                if let Some(tenant) = tenant {
                    self.inserted_rows_take_the_key(&table, tenant, &columns, &values.rows)?;
                }
            }
            // `INSERT INTO t DEFAULT VALUES`: no tenant column to set.
            None if tenant.is_none() && columns.is_empty() => {}
            _ => return Err("INSERT without VALUES".into()),
        }
        self.levels.push(Level {
            names: vec![table.clone()],
            barrier: true,
        });
        let checked = self.insert_tail(insert, &table, tenant);
        self.levels.pop();
        checked
    }

    fn insert_rows(
        &mut self,
        rows: &[sqlparser::ast::Parens<Vec<Expr>>],
        columns: &[String],
    ) -> Result<(), String> {
        for row in rows {
            if row.content.len() != columns.len() {
                return Err(format!(
                    "a row of {} values for {} columns",
                    row.content.len(),
                    columns.len()
                ));
            }
            for value in &row.content {
                match value {
                    Expr::Identifier(keyword)
                        if keyword.quote_style.is_none() && keyword.value == "DEFAULT" =>
                    {
                        if self.sqlite {
                            return Err("DEFAULT among SQLite's VALUES".into());
                        }
                    }
                    value => self.expr(value)?,
                }
            }
        }
        Ok(())
    }

    fn inserted_rows_take_the_key(
        &mut self,
        table: &str,
        tenant: &str,
        columns: &[String],
        rows: &[sqlparser::ast::Parens<Vec<Expr>>],
    ) -> Result<(), String> {
        self.references += 1;
        if !matches!(self.expected, Expected::Tenant { .. }) {
            return Err(format!(
                "INSERT into tenant-scoped `{table}` without a tenant"
            ));
        }
        let Some(position) = columns.iter().position(|column| column == tenant) else {
            return Err(format!("INSERT into `{table}` does not set `{tenant}`"));
        };
        for (index, row) in rows.iter().enumerate() {
            if !self.is_key(&row.content[position]) {
                return Err(format!(
                    "row {index} of the INSERT into `{table}` does not take `{tenant}` from the tenant"
                ));
            }
        }
        Ok(())
    }

    fn insert_tail(
        &mut self,
        insert: &Insert,
        table: &str,
        tenant: Option<&str>,
    ) -> Result<(), String> {
        if let Some(on_insert) = &insert.on {
            self.on_conflict(on_insert, table, tenant)?;
        }
        self.returning(insert.returning.as_deref())
    }

    fn on_conflict(
        &mut self,
        on_insert: &OnInsert,
        table: &str,
        tenant: Option<&str>,
    ) -> Result<(), String> {
        let OnInsert::OnConflict(OnConflict {
            conflict_target,
            action,
        }) = on_insert
        else {
            return Err(format!("unexpected `{on_insert}`"));
        };
        match (conflict_target, tenant) {
            (
                Some(ConflictTarget::Columns {
                    columns,
                    predicate: None,
                }),
                Some(tenant),
            ) if columns.first().is_some_and(|column| column.value == tenant) => {}
            (
                Some(ConflictTarget::Columns {
                    predicate: None, ..
                }),
                None,
            ) => {}
            _ => {
                return Err(format!(
                    "the conflict target of `{table}` does not lead with its tenant column"
                ));
            }
        }
        if let OnConflictAction::DoUpdate(DoUpdate {
            assignments,
            selection,
        }) = action
        {
            // The existing row, and the proposed one.
            if let Some(level) = self.levels.last_mut() {
                level.names.push("excluded".to_owned());
            }
            for assignment in assignments {
                self.assigned_column(&assignment.target, tenant.unwrap_or_default())?;
                self.expr(&assignment.value)?;
            }
            if let Some(selection) = selection {
                self.expr(selection)?;
            }
            if let Some(level) = self.levels.last_mut() {
                level.names.pop();
            }
        }
        Ok(())
    }

    fn update(&mut self, update: &Update) -> Result<(), String> {
        if !update.table.joins.is_empty()
            || update.or.is_some()
            || update.limit.is_some()
            || !update.order_by.is_empty()
            || update.output.is_some()
        {
            return Err("unexpected UPDATE form".into());
        }
        let target = self.relation(&update.table.relation)?;
        let mut relations = vec![target];
        match &update.from {
            None => {}
            Some(UpdateTableFromKind::AfterSet(from)) => {
                for item in from {
                    if !item.joins.is_empty() {
                        return Err("unexpected JOIN in UPDATE .. FROM".into());
                    }
                    relations.push(self.relation(&item.relation)?);
                }
            }
            Some(other) => return Err(format!("unexpected `{other:?}`")),
        }
        self.write_relations(&relations, update.selection.as_ref(), |checker| {
            let tenant = relations[0].tenant().unwrap_or_default();
            for assignment in &update.assignments {
                checker.assigned_column(&assignment.target, tenant)?;
                checker.expr(&assignment.value)?;
            }
            Ok(())
        })?;
        self.returning_of(&relations, update.returning.as_deref())
    }

    fn delete(&mut self, delete: &Delete) -> Result<(), String> {
        let FromTable::WithFromKeyword(tables) = &delete.from else {
            return Err("DELETE without FROM".into());
        };
        let [from] = tables.as_slice() else {
            return Err("DELETE from several tables".into());
        };
        if !from.joins.is_empty()
            || !delete.tables.is_empty()
            || delete.limit.is_some()
            || !delete.order_by.is_empty()
        {
            return Err("unexpected DELETE form".into());
        }
        let mut relations = vec![self.relation(&from.relation)?];
        if let Some(using) = &delete.using {
            if self.sqlite {
                return Err("SQLite has no DELETE .. USING".into());
            }
            for item in using {
                if !item.joins.is_empty() {
                    return Err("unexpected JOIN in DELETE .. USING".into());
                }
                relations.push(self.relation(&item.relation)?);
            }
        }
        self.write_relations(&relations, delete.selection.as_ref(), |_| Ok(()))?;
        self.returning_of(&relations, delete.returning.as_deref())
    }

    /// The target of an UPDATE or DELETE and the tables it reads: each
    /// scoped one confined by a conjunct of the `WHERE` (across tenants,
    /// matched with the target on the tenant column).
    fn write_relations(
        &mut self,
        relations: &[Relation],
        selection: Option<&Expr>,
        assignments: impl FnOnce(&mut Self) -> Result<(), String>,
    ) -> Result<(), String> {
        for (index, relation) in relations.iter().enumerate() {
            if matches!(relation.kind, RelationKind::Derived) && index == 0 {
                return Err("a write to something other than a table".into());
            }
            let Some(tenant) = relation.tenant() else {
                if index > 0
                    && matches!(self.expected, Expected::AllTenants)
                    && matches!(relation.kind, RelationKind::Derived)
                    && relations[0].tenant().is_some()
                {
                    return Err(format!(
                        "`{}` is read across tenants beside a scoped target",
                        relation.name
                    ));
                }
                continue;
            };
            self.references += 1;
            match self.expected {
                Expected::Global => {
                    return Err(format!(
                        "tenant-scoped `{}` in a global statement",
                        relation.name
                    ));
                }
                Expected::AllTenants => {
                    if index > 0 {
                        let target = &relations[0];
                        let target_tenant = target.tenant().ok_or_else(|| {
                            format!(
                                "`{}` read across tenants beside a global target",
                                relation.name
                            )
                        })?;
                        let matched = conjuncts(selection).any(|conjunct| {
                            is_column_pair(
                                conjunct,
                                (&relation.name, tenant),
                                (&target.name, target_tenant),
                            )
                        });
                        if !matched {
                            return Err(format!(
                                "`{}` is read across tenants without a tenant match",
                                relation.name
                            ));
                        }
                    }
                }
                Expected::Tenant { .. } => {
                    if !conjuncts(selection)
                        .any(|conjunct| self.is_tenant_predicate(conjunct, &relation.name, tenant))
                    {
                        return Err(format!(
                            "`{}` has no top-level `{}.{tenant} = <tenant>` conjunct in its WHERE: {}",
                            relation.name,
                            relation.name,
                            show(selection)
                        ));
                    }
                }
            }
        }
        self.levels.push(Level {
            names: relations.iter().map(|r| r.name.clone()).collect(),
            barrier: true,
        });
        let checked = assignments(self).and_then(|()| match selection {
            Some(selection) => self.expr(selection),
            None => Ok(()),
        });
        self.levels.pop();
        checked
    }

    /// `RETURNING` of an UPDATE or DELETE: PostgreSQL sees every table of
    /// the statement, SQLite the written one only.
    fn returning_of(
        &mut self,
        relations: &[Relation],
        returning: Option<&[SelectItem]>,
    ) -> Result<(), String> {
        let visible = if self.sqlite { 1 } else { relations.len() };
        self.levels.push(Level {
            names: relations[..visible]
                .iter()
                .map(|r| r.name.clone())
                .collect(),
            barrier: true,
        });
        let checked = self.returning(returning);
        self.levels.pop();
        checked
    }

    fn returning(&mut self, returning: Option<&[SelectItem]>) -> Result<(), String> {
        for item in returning.unwrap_or_default() {
            match item {
                SelectItem::UnnamedExpr(expr) => self.expr(expr)?,
                SelectItem::ExprWithAlias { expr, alias } => {
                    quoted(alias)?;
                    self.expr(expr)?;
                }
                SelectItem::Wildcard(options)
                    if options.opt_exclude.is_none()
                        && options.opt_except.is_none()
                        && options.opt_replace.is_none()
                        && options.opt_rename.is_none()
                        && options.opt_ilike.is_none() => {}
                other => return Err(format!("unexpected RETURNING `{other}`")),
            }
        }
        Ok(())
    }

    fn assigned_column(&self, target: &AssignmentTarget, tenant: &str) -> Result<(), String> {
        let AssignmentTarget::ColumnName(name) = target else {
            return Err(format!("unexpected assignment to `{target}`"));
        };
        if !tenant.is_empty() && last_part(name)? == tenant {
            Err(format!("the tenant column `{tenant}` is assigned"))
        } else {
            Ok(())
        }
    }

    /// Walks an expression, checking every subquery in it and that every
    /// column is qualified by a reference in scope. Values must be
    /// placeholders (or the constants the builder writes: TRUE, FALSE, 1).
    fn expr(&mut self, expr: &Expr) -> Result<(), String> {
        match expr {
            Expr::CompoundIdentifier(parts) => {
                let [qualifier, column] = parts.as_slice() else {
                    return Err(format!("unexpected name `{expr}`"));
                };
                quoted(column)?;
                let qualifier = quoted(qualifier)?;
                if self.visible(&qualifier) {
                    Ok(())
                } else {
                    Err(format!(
                        "`{expr}` names `{qualifier}`, which is not in scope"
                    ))
                }
            }
            Expr::Identifier(name) => Err(format!("an unqualified column `{name}`")),
            Expr::Value(ValueWithSpan { value, .. }) => match value {
                Value::Placeholder(_) | Value::Boolean(_) => Ok(()),
                Value::Number(number, _) if number == "1" => Ok(()),
                other => Err(format!("an inline value `{other}`; values must be bound")),
            },
            Expr::BinaryOp { left, op, right } => {
                if !is_known_operator(op) {
                    return Err(format!("unexpected operator `{op}`"));
                }
                self.expr(left)?;
                self.expr(right)
            }
            // `v = ANY(array)`, the element test of arrays.
            Expr::AnyOp {
                left,
                compare_op: BinaryOperator::Eq,
                right,
                is_some: false,
            } => {
                self.expr(left)?;
                self.expr(right)
            }
            Expr::UnaryOp {
                op: UnaryOperator::Minus | UnaryOperator::Not,
                expr,
            }
            | Expr::Nested(expr)
            | Expr::IsNull(expr)
            | Expr::IsNotNull(expr) => self.expr(expr),
            Expr::Between {
                expr, low, high, ..
            } => {
                self.expr(expr)?;
                self.expr(low)?;
                self.expr(high)
            }
            Expr::Like {
                expr,
                pattern,
                escape_char: None,
                any: false,
                ..
            } => {
                self.expr(expr)?;
                self.expr(pattern)
            }
            Expr::In { expr, target, .. } => {
                self.expr(expr)?;
                match target {
                    InTarget::List(list) => list.iter().try_for_each(|item| self.expr(item)),
                    InTarget::Subquery(query) => self.query(query, false),
                    other => Err(format!("unexpected IN target `{other}`")),
                }
            }
            Expr::Exists { subquery, .. } | Expr::Subquery(subquery) => self.query(subquery, false),
            Expr::Case {
                operand: None,
                conditions,
                else_result,
                ..
            } => {
                for branch in conditions {
                    self.expr(&branch.condition)?;
                    self.expr(&branch.result)?;
                }
                match else_result {
                    Some(otherwise) => self.expr(otherwise),
                    None => Ok(()),
                }
            }
            Expr::Cast {
                kind: CastKind::Cast,
                expr,
                data_type,
                format: None,
            } => {
                if !is_known_type(data_type, self.sqlite) {
                    return Err(format!("a cast to `{data_type}`"));
                }
                self.expr(expr)
            }
            Expr::Function(function) => self.function(function),
            other => Err(format!("the oracle does not know `{other}`")),
        }
    }

    fn visible(&self, qualifier: &str) -> bool {
        for level in self.levels.iter().rev() {
            if level.names.iter().any(|name| name == qualifier) {
                return true;
            }
            if level.barrier {
                return false;
            }
        }
        false
    }

    /// The functions the builder writes, and nothing else.
    fn function(&mut self, function: &Function) -> Result<(), String> {
        let name = function.name.to_string().to_ascii_uppercase();
        if function.uses_odbc_syntax
            || !matches!(function.parameters, FunctionArguments::None)
            || !function.within_group.is_empty()
            || function.filter.is_some()
            || function.null_treatment.is_some()
        {
            return Err(format!("unexpected function form `{function}`"));
        }
        let arguments: &[FunctionArg] = match &function.args {
            FunctionArguments::None if name == "CURRENT_TIMESTAMP" && !self.sqlite => {
                return self.no_window(function);
            }
            FunctionArguments::List(list) if list.clauses.is_empty() => {
                let distinct =
                    matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
                if list.duplicate_treatment.is_some() && !(distinct && name == "COUNT") {
                    return Err(format!("unexpected `{function}`"));
                }
                &list.args
            }
            _ => return Err(format!("unexpected arguments of `{function}`")),
        };
        let count_star = name == "COUNT"
            && matches!(arguments, [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]);
        let expected = match name.as_str() {
            "COUNT" if count_star => 0,
            "COUNT" | "SUM" | "AVG" | "MIN" | "MAX" | "LOWER" | "UPPER" => 1,
            "COALESCE" | "NULLIF" => 2,
            "RANK" | "ROW_NUMBER" | "DENSE_RANK" => 0,
            "LAG" | "LEAD" => arguments.len().clamp(1, 2),
            "STRFTIME" if self.sqlite => return self.sqlite_now(function, arguments),
            _ => {
                return Err(format!(
                    "the oracle does not know the function `{function}`"
                ));
            }
        };
        if !count_star {
            if arguments.len() != expected {
                return Err(format!("`{function}` has {} arguments", arguments.len()));
            }
            for argument in arguments {
                let FunctionArg::Unnamed(FunctionArgExpr::Expr(argument)) = argument else {
                    return Err(format!("unexpected argument `{argument}`"));
                };
                self.expr(argument)?;
            }
        }
        let windowed = matches!(
            name.as_str(),
            "RANK" | "ROW_NUMBER" | "DENSE_RANK" | "LAG" | "LEAD"
        );
        let aggregate = matches!(name.as_str(), "COUNT" | "SUM" | "AVG" | "MIN" | "MAX");
        match &function.over {
            None if windowed => Err(format!("`{function}` without OVER")),
            None => Ok(()),
            Some(WindowType::WindowSpec(spec))
                if (windowed || aggregate)
                    && spec.window_name.is_none()
                    && spec.window_frame.is_none() =>
            {
                spec.partition_by
                    .iter()
                    .try_for_each(|expr| self.expr(expr))?;
                for item in &spec.order_by {
                    self.order_options(item)?;
                    self.expr(&item.expr)?;
                }
                Ok(())
            }
            Some(other) => Err(format!("unexpected window `{other}`")),
        }
    }

    fn no_window(&self, function: &Function) -> Result<(), String> {
        if function.over.is_some() {
            Err(format!("unexpected `{function}`"))
        } else {
            Ok(())
        }
    }

    /// SQLite's current time, in the form the library writes it: nothing
    /// else may be a string literal.
    fn sqlite_now(&self, function: &Function, arguments: &[FunctionArg]) -> Result<(), String> {
        let literal = |argument: &FunctionArg| match argument {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(text),
                ..
            }))) => Some(text.clone()),
            _ => None,
        };
        let texts: Vec<Option<String>> = arguments.iter().map(literal).collect();
        if texts
            == [
                Some("%Y-%m-%dT%H:%M:%f+00:00".to_owned()),
                Some("now".to_owned()),
            ]
        {
            self.no_window(function)
        } else {
            Err(format!("unexpected `{function}`"))
        }
    }

    fn is_tenant_predicate(&self, conjunct: &Expr, reference: &str, tenant: &str) -> bool {
        let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = conjunct
        else {
            return false;
        };
        (is_column(left, reference, tenant) && self.is_key(right))
            || (is_column(right, reference, tenant) && self.is_key(left))
    }

    /// Whether `expr` is a placeholder bound to the tenant's key.
    fn is_key(&self, expr: &Expr) -> bool {
        let Expected::Tenant { key, .. } = self.expected else {
            return false;
        };
        let Expr::Value(ValueWithSpan {
            value: Value::Placeholder(placeholder),
            span,
        }) = expr
        else {
            return false;
        };
        let index = match placeholder.strip_prefix('$') {
            Some(number) => number.parse::<usize>().ok().and_then(|n| n.checked_sub(1)),
            None => self
                .placeholders
                .get(&(span.start.line, span.start.column))
                .copied(),
        };
        index.and_then(|index| self.values.get(index)) == Some(key)
    }

    /// `"schema"."table"` with the table's declared schema, else the
    /// dialect's default; returns the table's name.
    fn qualified(&mut self, name: &ObjectName) -> Result<String, String> {
        let [
            ObjectNamePart::Identifier(schema),
            ObjectNamePart::Identifier(table),
        ] = name.0.as_slice()
        else {
            return Err(format!("`{name}` is not a schema-qualified table name"));
        };
        let default = if self.sqlite { "main" } else { "public" };
        let expected = self
            .schema
            .declared
            .get(table.value.as_str())
            .copied()
            .unwrap_or(default);
        if schema.value == expected && schema.quote_style == Some('"') {
            let table = quoted(table)?;
            self.tables.insert(table.clone());
            Ok(table)
        } else {
            Err(format!("`{name}` is not in schema \"{expected}\""))
        }
    }
}

fn join_kind(join: &Join) -> Result<Kind, String> {
    Ok(match &join.join_operator {
        JoinOperator::Join(JoinConstraint::On(_)) | JoinOperator::Inner(JoinConstraint::On(_)) => {
            Kind::Inner
        }
        JoinOperator::Left(JoinConstraint::On(_))
        | JoinOperator::LeftOuter(JoinConstraint::On(_)) => Kind::Left,
        JoinOperator::Right(JoinConstraint::On(_))
        | JoinOperator::RightOuter(JoinConstraint::On(_)) => Kind::Right,
        JoinOperator::FullOuter(JoinConstraint::On(_)) => Kind::Full,
        other => return Err(format!("unexpected join `{other:?}`")),
    })
}

fn join_on(join: &Join) -> Result<&Expr, String> {
    match &join.join_operator {
        JoinOperator::Join(JoinConstraint::On(on))
        | JoinOperator::Inner(JoinConstraint::On(on))
        | JoinOperator::Left(JoinConstraint::On(on))
        | JoinOperator::LeftOuter(JoinConstraint::On(on))
        | JoinOperator::Right(JoinConstraint::On(on))
        | JoinOperator::RightOuter(JoinConstraint::On(on))
        | JoinOperator::FullOuter(JoinConstraint::On(on)) => Ok(on),
        other => Err(format!("unexpected join `{other:?}`")),
    }
}

/// The top-level `AND` conjuncts of a clause; parentheses around a
/// conjunction do not change it, anything else (OR, NOT, ...) is one opaque
/// conjunct.
fn conjuncts(clause: Option<&Expr>) -> impl Iterator<Item = &Expr> {
    let mut pending: Vec<&Expr> = clause.into_iter().collect();
    let mut found = Vec::new();
    while let Some(expr) = pending.pop() {
        match expr {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                pending.push(right);
                pending.push(left);
            }
            Expr::Nested(inner) => pending.push(inner),
            other => found.push(other),
        }
    }
    found.into_iter()
}

fn is_column(expr: &Expr, table: &str, column: &str) -> bool {
    matches!(expr, Expr::CompoundIdentifier(parts)
        if parts.len() == 2 && parts[0].value == table && parts[1].value == column)
}

/// `a.x = b.y` in either order.
fn is_column_pair(conjunct: &Expr, a: (&str, &str), b: (&str, &str)) -> bool {
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = conjunct
    else {
        return false;
    };
    (is_column(left, a.0, a.1) && is_column(right, b.0, b.1))
        || (is_column(right, a.0, a.1) && is_column(left, b.0, b.1))
}

fn is_known_operator(op: &BinaryOperator) -> bool {
    // PostgreSQL's `<<=` and `>>=` of network addresses.
    if let BinaryOperator::Custom(custom) = op {
        return custom == "<<=" || custom == ">>=";
    }
    matches!(
        op,
        BinaryOperator::And
            | BinaryOperator::Or
            | BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
            | BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo
            // JSON members, `jsonb` containment and keys, network
            // containment, array containment.
            | BinaryOperator::Arrow
            | BinaryOperator::LongArrow
            | BinaryOperator::AtArrow
            | BinaryOperator::Question
            | BinaryOperator::PGBitwiseShiftLeft
            | BinaryOperator::PGBitwiseShiftRight
    )
}

/// The type names the library casts to.
fn is_known_type(data_type: &DataType, sqlite: bool) -> bool {
    if sqlite {
        matches!(
            data_type,
            DataType::Integer(None) | DataType::Real | DataType::Text | DataType::Blob(None)
        )
    } else {
        matches!(
            data_type,
            DataType::SmallInt(None)
                | DataType::Integer(None)
                | DataType::BigInt(None)
                | DataType::Real
                | DataType::DoublePrecision
                | DataType::Boolean
                | DataType::Text
                | DataType::Bytea
                | DataType::Uuid
                | DataType::Date
                | DataType::Timestamp(None, _)
        )
    }
}

/// An identifier the builder wrote: always double-quoted.
fn quoted(ident: &sqlparser::ast::Ident) -> Result<String, String> {
    if ident.quote_style == Some('"') {
        Ok(ident.value.clone())
    } else {
        Err(format!("the name `{ident}` is not double-quoted"))
    }
}

/// The name of a union member's column: its alias, or the column's name.
fn output_name(item: &SelectItem) -> Result<String, String> {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => quoted(alias),
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => match parts.last() {
            Some(column) => quoted(column),
            None => Err("an empty name".into()),
        },
        _ => Ok(String::new()),
    }
}

fn last_part(name: &ObjectName) -> Result<String, String> {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => Ok(ident.value.clone()),
        _ => Err(format!("unexpected name `{name}`")),
    }
}

fn show(clause: Option<&Expr>) -> String {
    clause.map_or_else(|| "(none)".to_owned(), ToString::to_string)
}
