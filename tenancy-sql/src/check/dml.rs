//! `INSERT`, `UPDATE` and `DELETE`: their targets, what they assign, and
//! what an `INSERT` gives the tenant column.

use std::ops::Range;

use sqlparser::ast::{
    Assignment, AssignmentTarget, ConflictTarget, Delete, DoUpdate, Expr, FromTable, Insert,
    ObjectName, OnConflict, OnConflictAction, OnInsert, SelectItem, SetExpr, TableFactor,
    TableObject, TableWithJoins, Update, UpdateTableFromKind, Value, ValueWithSpan,
};
use sqlparser::tokenizer::Span;

use super::anchor;
use super::conjunct::{comparison, conjuncts};
use super::scope::FromScope;
use super::{Tables, Walker};
use crate::analysis::{Failure, Place, Requirement, Rule, Scope, TableRef};
use crate::diagnostic::Problem;
use crate::name::Name;
use crate::template::TENANT;

impl Walker<'_> {
    pub(super) fn update(&mut self, update: &mut Update) {
        let span = update.update_token.0.span;
        let Update {
            update_token: _,
            optimizer_hints: _,
            table,
            on_cluster,
            assignments,
            from,
            selection,
            returning,
            output,
            or,
            order_by,
            limit,
            settings,
        } = update;
        if on_cluster.is_some()
            || output.is_some()
            || or.is_some()
            || !order_by.is_empty()
            || limit.is_some()
            || settings.is_some()
        {
            self.unsupported(span, "this UPDATE clause (from another database's dialect)");
        }
        let mut scope = FromScope::new(Scope::Update);
        let TableWithJoins { relation, joins } = table;
        if !joins.is_empty() {
            self.unsupported(span, "`UPDATE .. JOIN`");
        }
        let target = self.target(relation, &mut scope, Place::UpdateTarget);
        match from {
            Some(UpdateTableFromKind::AfterSet(items)) => {
                for item in items.iter_mut() {
                    self.table_with_joins(item, &mut scope, Place::From(Scope::Update));
                }
            }
            Some(UpdateTableFromKind::BeforeSet(_)) => {
                self.unsupported(span, "`UPDATE FROM .. SET`")
            }
            None => {}
        }
        let assigned = self.assignments(assignments);
        if let Some(selection) = selection {
            self.expr(selection);
        }
        self.returning(returning.as_mut());
        let target = target.map(|pending| scope.pending[pending].table);
        self.finish_scope(scope, selection.as_ref());
        if let Some(target) = target {
            self.assigned(target, assigned, "UPDATE");
        }
    }

    pub(super) fn delete(&mut self, delete: &mut Delete) {
        let span = delete.delete_token.0.span;
        let Delete {
            delete_token: _,
            optimizer_hints: _,
            tables,
            from,
            on_cluster,
            using,
            selection,
            returning,
            output,
            order_by,
            limit,
            settings,
        } = delete;
        if !tables.is_empty()
            || on_cluster.is_some()
            || output.is_some()
            || !order_by.is_empty()
            || limit.is_some()
            || settings.is_some()
        {
            self.unsupported(span, "this DELETE clause (from another database's dialect)");
        }
        let mut scope = FromScope::new(Scope::Delete);
        match from {
            FromTable::WithFromKeyword(items) => match items.as_mut_slice() {
                [TableWithJoins { relation, joins }] if joins.is_empty() => {
                    self.target(relation, &mut scope, Place::DeleteTarget);
                }
                _ => self.unsupported(span, "deleting from several tables or a join"),
            },
            FromTable::WithoutKeyword(_) => self.unsupported(span, "`DELETE` without `FROM`"),
        }
        if let Some(items) = using {
            for item in items.iter_mut() {
                self.table_with_joins(item, &mut scope, Place::From(Scope::Delete));
            }
        }
        if let Some(selection) = selection {
            self.expr(selection);
        }
        self.returning(returning.as_mut());
        self.finish_scope(scope, selection.as_ref());
    }

    pub(super) fn insert(&mut self, insert: &mut Insert) {
        let span = insert.insert_token.0.span;
        let Insert {
            insert_token: _,
            optimizer_hints: _,
            or,
            ignore,
            into: _,
            table,
            table_alias,
            columns,
            by_name,
            overwrite,
            source,
            assignments,
            partitioned,
            after_columns,
            overriding: _,
            has_table_keyword,
            on,
            returning,
            output,
            replace_into,
            priority,
            insert_alias,
            settings,
            format_clause,
            multi_table_insert_type,
            multi_table_into_clauses,
            multi_table_when_clauses,
            multi_table_else_clause,
        } = insert;
        if or.is_some() || *replace_into {
            self.report(
                Problem::Unsupported,
                span,
                "`INSERT OR REPLACE` and `REPLACE` delete whatever row is in the way, of any tenant",
                "use `ON CONFLICT (..) DO UPDATE` with the tenant column in the conflict target",
            );
        }
        if *ignore
            || *by_name
            || *overwrite
            || !assignments.is_empty()
            || partitioned.is_some()
            || !after_columns.is_empty()
            || *has_table_keyword
            || output.is_some()
            || priority.is_some()
            || insert_alias.is_some()
            || settings.is_some()
            || format_clause.is_some()
            || multi_table_insert_type.is_some()
            || !multi_table_into_clauses.is_empty()
            || !multi_table_when_clauses.is_empty()
            || multi_table_else_clause.is_some()
        {
            self.unsupported(span, "this INSERT clause (from another database's dialect)");
        }
        let target = match table {
            TableObject::TableName(name) => self.insert_target(
                name,
                table_alias.as_ref().map(|a| &a.alias),
                anchor::name(name),
            ),
            TableObject::TableFunction(_) | TableObject::TableQuery(_) => {
                self.unsupported(span, "inserting into a function or query");
                None
            }
        };
        let columns = self.insert_columns(columns);
        let tenant_valued = match source {
            Some(query) => {
                let positions = tenant_positions(&query.body, columns.len());
                self.query(query);
                columns
                    .iter()
                    .zip(positions)
                    .filter(|(_, tenant)| *tenant)
                    .map(|(column, _)| column.as_str().to_owned())
                    .collect()
            }
            None => Vec::new(),
        };
        let from_select = source
            .as_ref()
            .is_some_and(|query| !matches!(*query.body, SetExpr::Values(_)));
        if let Some(target) = target {
            let table = &mut self.tables[target];
            let requirement = Requirement::new(
                Rule::TenantColumnIn(tenant_valued),
                table.span.clone(),
                &table.type_name,
                Failure::Insert { from_select },
            );
            table.requirements.push(requirement);
        }
        match on {
            Some(OnInsert::OnConflict(conflict)) => self.on_conflict(conflict, target),
            Some(_) => self.unsupported(span, "`ON DUPLICATE KEY UPDATE`"),
            None => {}
        }
        self.returning(returning.as_mut());
    }

    /// The target of an `UPDATE` or `DELETE`: a table slot with an alias.
    /// Returns its pending reference.
    fn target(
        &mut self,
        relation: &mut TableFactor,
        scope: &mut FromScope,
        place: Place,
    ) -> Option<usize> {
        let span = anchor::table_factor(relation);
        match relation {
            TableFactor::Table {
                name,
                alias,
                args: None,
                with_hints,
                version: None,
                partitions,
                json_path: None,
                sample: None,
                index_directives,
                ..
            } if with_hints.is_empty() && partitions.is_empty() && index_directives.is_empty() => {
                match self.slot_of_name(name) {
                    Some(slot) => self
                        .slot_reference(slot, alias.as_ref(), scope, place)
                        .first()
                        .copied(),
                    None => {
                        self.not_a_target(name, anchor::name(name));
                        None
                    }
                }
            }
            _ => {
                self.unsupported(span, "this target");
                None
            }
        }
    }

    fn insert_target(
        &mut self,
        name: &ObjectName,
        alias: Option<&sqlparser::ast::Ident>,
        span: Span,
    ) -> Option<usize> {
        let Some(slot) = self.slot_of_name(name) else {
            self.not_a_target(name, span);
            return None;
        };
        self.consumed[slot] = true;
        let table = self.tables.len();
        self.tables.push(TableRef {
            slot,
            type_name: self.lexed.slots[slot].type_name.clone(),
            alias: alias.map(ToString::to_string),
            span: self.lexed.slots[slot].span.clone(),
            place: Place::InsertTarget,
            requirements: Vec::new(),
        });
        Some(table)
    }

    fn slot_of_name(&self, name: &ObjectName) -> Option<usize> {
        match name.0.as_slice() {
            [sqlparser::ast::ObjectNamePart::Identifier(ident)] if ident.quote_style.is_none() => {
                self.lexed.slot_of(&ident.value)
            }
            _ => None,
        }
    }

    /// A statement target that is not a table slot.
    fn not_a_target(&mut self, name: &ObjectName, span: Span) {
        if let [sqlparser::ast::ObjectNamePart::Identifier(ident)] = name.0.as_slice()
            && self.is_visible_cte(&Name::of(ident))
        {
            return self.report(
                Problem::Unsupported,
                span,
                format!("`{ident}` is a WITH query, which cannot be changed"),
                "change the table the WITH query reads",
            );
        }
        match self.rules.tables {
            Tables::Slots => self.table_name_error(name, span),
            Tables::Confine(_) => {
                let shown = self.text(span);
                self.report(
                    Problem::TableNotAllowed,
                    span,
                    format!("`{shown}` is not a table this statement may change"),
                    "",
                );
            }
        }
    }

    fn insert_columns(&mut self, columns: &[ObjectName]) -> Vec<Name> {
        let mut names: Vec<Name> = Vec::new();
        for column in columns {
            let span = anchor::name(column);
            let name = match column.0.as_slice() {
                [sqlparser::ast::ObjectNamePart::Identifier(ident)] => Name::of(ident),
                _ => {
                    self.unsupported(span, "a qualified column name here");
                    continue;
                }
            };
            if names.contains(&name) {
                self.report(
                    Problem::DuplicateName,
                    span,
                    format!("the column `{}` is listed twice", name.as_str()),
                    "list each column once",
                );
            }
            names.push(name);
        }
        names
    }

    /// Walks the assignments; returns each assigned column (folded) and the
    /// span of its assignment.
    fn assignments(&mut self, assignments: &mut [Assignment]) -> Vec<(String, Range<usize>)> {
        let mut assigned = Vec::new();
        for assignment in assignments.iter_mut() {
            let Assignment { target, value } = assignment;
            let span = match target {
                AssignmentTarget::ColumnName(name) => anchor::name(name),
                AssignmentTarget::Tuple(names) => names.first().map_or(Span::empty(), anchor::name),
            };
            let names: Vec<&ObjectName> = match target {
                AssignmentTarget::ColumnName(name) => vec![name],
                AssignmentTarget::Tuple(names) => names.iter().collect(),
            };
            for name in names {
                match name.0.as_slice() {
                    [sqlparser::ast::ObjectNamePart::Identifier(ident)] => {
                        assigned.push((Name::of(ident).into_string(), self.range(span)));
                    }
                    _ => self.report(
                        Problem::Unsupported,
                        anchor::name(name),
                        format!("`{name}` assigns part of a column"),
                        "assign a column by its name alone",
                    ),
                }
            }
            self.expr(value);
        }
        assigned
    }

    /// Adds a requirement per assigned column: it is not the tenant column.
    fn assigned(
        &mut self,
        table: usize,
        assigned: Vec<(String, Range<usize>)>,
        statement: &'static str,
    ) {
        let table = &mut self.tables[table];
        for (column, span) in assigned {
            table.requirements.push(Requirement::new(
                Rule::TenantColumnIsNot(column.clone()),
                span,
                &table.type_name,
                Failure::Assigned { column, statement },
            ));
        }
    }

    fn on_conflict(&mut self, conflict: &mut OnConflict, target: Option<usize>) {
        let OnConflict {
            conflict_target,
            action,
        } = conflict;
        let mut columns: Vec<String> = Vec::new();
        match conflict_target {
            Some(ConflictTarget::Columns {
                columns: names,
                predicate,
            }) => {
                columns.extend(names.iter().map(|name| Name::of(name).into_string()));
                if let Some(predicate) = predicate {
                    self.expr(predicate);
                }
            }
            Some(ConflictTarget::OnConstraint(_)) | None => {}
        }
        let OnConflictAction::DoUpdate(DoUpdate {
            assignments,
            selection,
        }) = action
        else {
            return;
        };
        let assigned = self.assignments(assignments);
        if let Some(selection) = selection {
            self.expr(selection);
        }
        let Some(target) = target else {
            return;
        };
        // The row DO UPDATE changes is the tenant's when the conflict target
        // holds the tenant column (the inserted row has `$tenant` there), or
        // when its WHERE confines the target.
        let alias = self.tables[target].alias.clone();
        if let (Some(alias), Some(selection)) = (&alias, selection.as_ref()) {
            let folded = crate::check::alias_name(alias);
            for conjunct in conjuncts(selection) {
                let Some(comparison) = comparison(conjunct).filter(|c| c.is_tenant()) else {
                    continue;
                };
                if comparison.alias == folded {
                    columns.push(comparison.column.into_string());
                    let range = self.range(anchor::comparison(conjunct));
                    for seen in self.seen.iter_mut().filter(|s| s.span == range) {
                        seen.counted = true;
                    }
                }
            }
        }
        columns.dedup();
        let table = &mut self.tables[target];
        table.requirements.push(Requirement::new(
            Rule::TenantColumnIn(columns),
            table.span.clone(),
            &table.type_name,
            Failure::ConflictUpdate { alias },
        ));
        self.assigned(target, assigned, "ON CONFLICT .. DO UPDATE");
    }

    fn returning(&mut self, returning: Option<&mut Vec<SelectItem>>) {
        for item in returning.into_iter().flatten() {
            self.select_item(item);
        }
    }
}

/// For each of `width` positions, whether every row a query body produces
/// has exactly `$tenant` there.
#[recursive::recursive]
fn tenant_positions(body: &SetExpr, width: usize) -> Vec<bool> {
    let is_tenant = |expr: &Expr| {
        let mut expr = expr;
        while let Expr::Nested(inner) = expr {
            expr = inner;
        }
        matches!(expr, Expr::Value(ValueWithSpan { value: Value::Placeholder(p), .. })
            if p.strip_prefix('$') == Some(TENANT))
    };
    match body {
        SetExpr::Values(values) if !values.rows.is_empty() => (0..width)
            .map(|i| {
                values
                    .rows
                    .iter()
                    .all(|row| row.content.get(i).is_some_and(is_tenant))
            })
            .collect(),
        SetExpr::Select(select) => {
            let wildcard = select.projection.iter().any(|item| {
                matches!(
                    item,
                    SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
                )
            });
            (0..width)
                .map(|i| {
                    !wildcard
                        && match select.projection.get(i) {
                            Some(SelectItem::UnnamedExpr(expr))
                            | Some(SelectItem::ExprWithAlias { expr, .. }) => is_tenant(expr),
                            _ => false,
                        }
                })
                .collect()
        }
        SetExpr::SetOperation { left, right, .. } => tenant_positions(left, width)
            .into_iter()
            .zip(tenant_positions(right, width))
            .map(|(left, right)| left && right)
            .collect(),
        SetExpr::Query(query) => tenant_positions(&query.body, width),
        _ => vec![false; width],
    }
}
