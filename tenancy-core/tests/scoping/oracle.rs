//! An independent oracle for the scoping rule: parses emitted SQL with
//! `sqlparser` and walks the syntax tree, knowing nothing about the builder
//! but the schema (which tables are scoped, by which column, and which
//! schema each table is declared in).
//!
//! In a tenant statement, every reference to a scoped table must carry
//! `<table>.<tenant column> = <placeholder>` as a top-level `AND` conjunct of
//! its own clause (`WHERE` of the query or subquery that names it in `FROM`,
//! `ON` of a join), and that placeholder must be bound to the tenant's key.
//! Inserted rows must take the key, bound, for the tenant column. Every
//! table reference must be schema-qualified, with the table's declared
//! schema or the dialect's default (`public`, `main`), so that no other
//! table of the same name can be meant. Any syntax the oracle does not know
//! is an error, so nothing can hide from it.

use std::collections::{BTreeSet, HashMap};

use sqlparser::ast::{
    AssignmentTarget, BinaryOperator, ConflictTarget, Delete, DoUpdate, Expr, FromTable,
    FunctionArg, FunctionArgExpr, FunctionArguments, InTarget, Insert, JoinConstraint,
    JoinOperator, LimitClause, ObjectName, ObjectNamePart, OnConflict, OnConflictAction, OnInsert,
    OrderByKind, Query, Select, SelectItem, SetExpr, Statement, TableFactor, TableObject, Update,
    Value, ValueWithSpan,
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
    /// Every tenant: joined scoped tables must match the base table's tenant.
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
    // `$n` placeholders must be exactly $1..=$count; `?` ones exactly count.
    let mut numbers: Vec<usize> = numbered
        .iter()
        .filter_map(|text| text.strip_prefix('$')?.parse().ok())
        .collect();
    numbers.sort_unstable();
    let consistent = if positions.is_empty() {
        numbers.len() == numbered.len() && numbers.iter().copied().eq(1..=value_count)
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

struct Checker<'a> {
    sqlite: bool,
    values: &'a [Bound],
    placeholders: HashMap<(u64, u64), usize>,
    expected: &'a Expected,
    schema: &'a Schema,
    references: usize,
    /// Every table named, by its name without schema.
    tables: BTreeSet<String>,
}

impl Checker<'_> {
    fn statement(&mut self, statement: &Statement) -> Result<(), String> {
        match statement {
            Statement::Query(query) => self.query(query),
            Statement::Insert(insert) => self.insert(insert),
            Statement::Update(update) => self.update(update),
            Statement::Delete(delete) => self.delete(delete),
            other => Err(format!("unexpected statement `{other}`")),
        }
    }

    fn query(&mut self, query: &Query) -> Result<(), String> {
        if query.with.is_some() || query.fetch.is_some() || !query.locks.is_empty() {
            return Err(format!("unexpected clause in `{query}`"));
        }
        match query.body.as_ref() {
            SetExpr::Select(select) => self.select(select)?,
            other => return Err(format!("unexpected query body `{other}`")),
        }
        if let Some(order_by) = &query.order_by {
            let OrderByKind::Expressions(items) = &order_by.kind else {
                return Err(format!("unexpected `{order_by}`"));
            };
            for item in items {
                self.expr(&item.expr)?;
            }
        }
        match &query.limit_clause {
            None => {}
            Some(LimitClause::LimitOffset {
                limit: None,
                offset: Some(_),
                ..
            }) if self.sqlite => {
                return Err("SQLite accepts OFFSET only after LIMIT".into());
            }
            Some(LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            }) if limit_by.is_empty() => {
                if let Some(limit) = limit {
                    self.expr(limit)?;
                }
                if let Some(offset) = offset {
                    self.expr(&offset.value)?;
                }
            }
            Some(other) => return Err(format!("unexpected `{other}`")),
        }
        Ok(())
    }

    fn select(&mut self, select: &Select) -> Result<(), String> {
        if select.having.is_some() || select.distinct.is_some() || select.into.is_some() {
            return Err(format!("unexpected clause in `{select}`"));
        }
        let selection = select.selection.as_ref();
        for from in &select.from {
            let base = self.table_name(&from.relation)?;
            self.scoped_reference(&base, selection, "WHERE")?;
            for join in &from.joins {
                let joined = self.table_name(&join.relation)?;
                let (on, left) = match &join.join_operator {
                    JoinOperator::Join(JoinConstraint::On(on))
                    | JoinOperator::Inner(JoinConstraint::On(on)) => (on, false),
                    JoinOperator::Left(JoinConstraint::On(on))
                    | JoinOperator::LeftOuter(JoinConstraint::On(on)) => (on, true),
                    other => return Err(format!("unexpected join `{other:?}`")),
                };
                self.joined_reference(&joined, &base, on)?;
                if left {
                    self.left_join_not_filtered(&joined, selection)?;
                }
                self.expr(on)?;
            }
        }
        for item in &select.projection {
            match item {
                SelectItem::UnnamedExpr(expr) => self.expr(expr)?,
                other => return Err(format!("unexpected projection `{other}`")),
            }
        }
        if let Some(selection) = selection {
            self.expr(selection)?;
        }
        Ok(())
    }

    /// A scoped table named in FROM (or as an UPDATE/DELETE target).
    fn scoped_reference(
        &mut self,
        table: &str,
        clause: Option<&Expr>,
        clause_name: &str,
    ) -> Result<(), String> {
        let Some(tenant) = self.schema.tenants.get(table).copied() else {
            return Ok(());
        };
        self.references += 1;
        match self.expected {
            Expected::Tenant { .. } => {
                if conjuncts(clause)
                    .any(|conjunct| self.is_tenant_predicate(conjunct, table, tenant))
                {
                    Ok(())
                } else {
                    Err(format!(
                        "`{table}` has no top-level `{table}.{tenant} = <tenant>` conjunct in its {clause_name}: {}",
                        show(clause)
                    ))
                }
            }
            Expected::AllTenants => Ok(()),
            Expected::Global => Err(format!("tenant-scoped `{table}` in a global statement")),
        }
    }

    /// A scoped table in a JOIN: the predicate must lead its ON clause.
    fn joined_reference(&mut self, joined: &str, base: &str, on: &Expr) -> Result<(), String> {
        let Some(tenant) = self.schema.tenants.get(joined).copied() else {
            return Ok(());
        };
        match self.expected {
            Expected::AllTenants => {
                self.references += 1;
                let base_tenant = self.schema.tenants.get(base).copied().unwrap_or_default();
                let matched = conjuncts(Some(on)).any(|conjunct| {
                    let Expr::BinaryOp {
                        left,
                        op: BinaryOperator::Eq,
                        right,
                    } = conjunct
                    else {
                        return false;
                    };
                    let forward =
                        is_column(left, joined, tenant) && is_column(right, base, base_tenant);
                    let backward =
                        is_column(right, joined, tenant) && is_column(left, base, base_tenant);
                    forward || backward
                });
                if matched {
                    Ok(())
                } else {
                    Err(format!(
                        "`{joined}` is joined across tenants without `{joined}.{tenant} = {base}.{base_tenant}`: {on}"
                    ))
                }
            }
            _ => self.scoped_reference(joined, Some(on), "ON"),
        }
    }

    /// A tenant predicate on a LEFT JOINed table belongs in ON: in WHERE it
    /// would turn the left join into an inner one.
    fn left_join_not_filtered(&self, joined: &str, selection: Option<&Expr>) -> Result<(), String> {
        let Some(tenant) = self.schema.tenants.get(joined).copied() else {
            return Ok(());
        };
        let in_where = conjuncts(selection).any(|conjunct| match conjunct {
            Expr::BinaryOp { left, right, .. } => {
                is_column(left, joined, tenant) || is_column(right, joined, tenant)
            }
            _ => false,
        });
        if in_where {
            Err(format!(
                "LEFT JOINed `{joined}` is filtered by tenant in WHERE"
            ))
        } else {
            Ok(())
        }
    }

    fn insert(&mut self, insert: &Insert) -> Result<(), String> {
        let TableObject::TableName(name) = &insert.table else {
            return Err(format!("unexpected insert target `{}`", insert.table));
        };
        let table = self.qualified(name)?;
        let columns = insert
            .columns
            .iter()
            .map(last_part)
            .collect::<Result<Vec<_>, _>>()?;
        let Some(SetExpr::Values(values)) = insert.source.as_ref().map(|query| query.body.as_ref())
        else {
            return Err("INSERT without VALUES".into());
        };
        for row in &values.rows {
            if row.content.len() != columns.len() {
                return Err(format!(
                    "a row of {} values for {} columns",
                    row.content.len(),
                    columns.len()
                ));
            }
            for value in &row.content {
                self.expr(value)?;
            }
        }
        let Some(tenant) = self.schema.tenants.get(table.as_str()).copied() else {
            return Ok(());
        };
        self.references += 1;
        if !matches!(self.expected, Expected::Tenant { .. }) {
            return Err(format!(
                "INSERT into tenant-scoped `{table}` without a tenant"
            ));
        }
        let Some(position) = columns.iter().position(|column| column == tenant) else {
            return Err(format!("INSERT into `{table}` does not set `{tenant}`"));
        };
        for (index, row) in values.rows.iter().enumerate() {
            if !self.is_key(&row.content[position]) {
                return Err(format!(
                    "row {index} of the INSERT into `{table}` does not take `{tenant}` from the tenant"
                ));
            }
        }
        if let Some(on_insert) = &insert.on {
            self.on_conflict(on_insert, &table, tenant)?;
        }
        Ok(())
    }

    fn on_conflict(
        &mut self,
        on_insert: &OnInsert,
        table: &str,
        tenant: &str,
    ) -> Result<(), String> {
        let OnInsert::OnConflict(OnConflict {
            conflict_target,
            action,
        }) = on_insert
        else {
            return Err(format!("unexpected `{on_insert}`"));
        };
        match conflict_target {
            Some(ConflictTarget::Columns {
                columns,
                predicate: None,
            }) if columns.first().is_some_and(|column| column.value == tenant) => {}
            _ => {
                return Err(format!(
                    "the conflict target of `{table}` does not lead with `{tenant}`"
                ));
            }
        }
        if let OnConflictAction::DoUpdate(DoUpdate {
            assignments,
            selection,
        }) = action
        {
            if selection.is_some() {
                return Err("unexpected DO UPDATE ... WHERE".into());
            }
            for assignment in assignments {
                self.assigned_column(&assignment.target, tenant)?;
                self.expr(&assignment.value)?;
            }
        }
        Ok(())
    }

    fn update(&mut self, update: &Update) -> Result<(), String> {
        if !update.table.joins.is_empty() || update.from.is_some() {
            return Err("unexpected UPDATE ... FROM/JOIN".into());
        }
        let table = self.table_name(&update.table.relation)?;
        let tenant = self
            .schema
            .tenants
            .get(table.as_str())
            .copied()
            .unwrap_or_default();
        for assignment in &update.assignments {
            self.assigned_column(&assignment.target, tenant)?;
            self.expr(&assignment.value)?;
        }
        self.scoped_reference(&table, update.selection.as_ref(), "WHERE")?;
        if let Some(selection) = &update.selection {
            self.expr(selection)?;
        }
        Ok(())
    }

    fn delete(&mut self, delete: &Delete) -> Result<(), String> {
        let FromTable::WithFromKeyword(tables) = &delete.from else {
            return Err("DELETE without FROM".into());
        };
        let [from] = tables.as_slice() else {
            return Err("DELETE from several tables".into());
        };
        if !from.joins.is_empty() || delete.using.is_some() {
            return Err("unexpected DELETE ... JOIN/USING".into());
        }
        let table = self.table_name(&from.relation)?;
        self.scoped_reference(&table, delete.selection.as_ref(), "WHERE")?;
        if let Some(selection) = &delete.selection {
            self.expr(selection)?;
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

    /// Walks an expression, checking every subquery in it. Values must be
    /// placeholders (or the constants the builder writes: TRUE, FALSE, 1).
    fn expr(&mut self, expr: &Expr) -> Result<(), String> {
        match expr {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => Ok(()),
            Expr::Value(ValueWithSpan { value, .. }) => match value {
                Value::Placeholder(_) | Value::Boolean(_) => Ok(()),
                Value::Number(number, _) if number == "1" => Ok(()),
                other => Err(format!("an inline value `{other}`; values must be bound")),
            },
            Expr::BinaryOp { left, right, .. } => {
                self.expr(left)?;
                self.expr(right)
            }
            Expr::UnaryOp { expr, .. }
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
                    InTarget::Subquery(query) => self.query(query),
                    other => Err(format!("unexpected IN target `{other}`")),
                }
            }
            Expr::Exists { subquery, .. } | Expr::Subquery(subquery) => self.query(subquery),
            Expr::Function(function) if is_count_star(function) => Ok(()),
            other => Err(format!("the oracle does not know `{other}`")),
        }
    }

    fn is_tenant_predicate(&self, conjunct: &Expr, table: &str, tenant: &str) -> bool {
        let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = conjunct
        else {
            return false;
        };
        (is_column(left, table, tenant) && self.is_key(right))
            || (is_column(right, table, tenant) && self.is_key(left))
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

fn is_count_star(function: &sqlparser::ast::Function) -> bool {
    let FunctionArguments::List(list) = &function.args else {
        return false;
    };
    function.name.to_string().eq_ignore_ascii_case("COUNT")
        && matches!(
            list.args.as_slice(),
            [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]
        )
}

impl Checker<'_> {
    /// The name a table is referred to by (its last name part), after
    /// checking that the reference names the table's own schema.
    fn table_name(&mut self, relation: &TableFactor) -> Result<String, String> {
        match relation {
            TableFactor::Table {
                name, alias: None, ..
            } => self.qualified(name),
            other => Err(format!("unexpected table `{other}`")),
        }
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
            self.tables.insert(table.value.clone());
            Ok(table.value.clone())
        } else {
            Err(format!("`{name}` is not in schema \"{expected}\""))
        }
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
