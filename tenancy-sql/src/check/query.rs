//! Queries: `WITH`, set operations, `SELECT` and its `FROM`, joins and
//! table factors, and the confinement of the references each introduces.

use sqlparser::ast::{
    Cte, Distinct, Expr, Fetch, GroupByExpr, Join, JoinConstraint, JoinOperator, LimitClause,
    LockClause, NamedWindowDefinition, NamedWindowExpr, ObjectName, ObjectNamePart, Offset,
    OrderBy, OrderByExpr, OrderByKind, Query, Select, SelectFlavor, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier, Statement, Table,
    TableAlias, TableFactor, TableFunctionArgs, TableWithJoins, Values, WildcardAdditionalOptions,
    WindowFrame, WindowFrameBound, WindowSpec, With,
};
use sqlparser::tokenizer::Span;

use super::anchor;
use super::conjunct::{comparison, conjuncts};
use super::policy;
use super::scope::FromScope;
use super::{Tables, Walker};
use crate::analysis::{
    Failure, JoinKind, Place, Requirement, Rule, Scope, StatementKind, TableRef,
};
use crate::confine;
use crate::diagnostic::Problem;
use crate::name::Name;

/// The kind of statement a query body is.
pub(super) fn body_kind(body: &SetExpr) -> StatementKind {
    match body {
        SetExpr::Insert(_) => StatementKind::Insert,
        SetExpr::Update(_) => StatementKind::Update,
        SetExpr::Delete(_) => StatementKind::Delete,
        _ => StatementKind::Select,
    }
}

/// What a one-part table name refers to.
enum Resolved {
    Slot(usize),
    Cte,
    /// A table by its SQL name.
    Table,
}

impl Walker<'_> {
    #[recursive::recursive]
    pub(super) fn query(&mut self, query: &mut Query) {
        let span = anchor::query(query);
        let Query {
            with,
            body,
            order_by,
            limit_clause,
            fetch,
            locks,
            for_clause,
            settings,
            format_clause,
            pipe_operators,
        } = query;
        let defines_ctes = with.is_some();
        if let Some(with) = with {
            self.with(with);
        }
        self.set_expr(body);
        if let Some(order_by) = order_by {
            self.order_by(order_by, span);
        }
        if let Some(limit) = limit_clause {
            self.limit(limit, span);
        }
        if let Some(Fetch {
            with_ties: _,
            percent: _,
            quantity,
        }) = fetch
            && let Some(quantity) = quantity
        {
            self.expr(quantity);
        }
        for lock in locks.iter() {
            self.lock(lock, span);
        }
        if for_clause.is_some() {
            self.unsupported(span, "`FOR XML` or `FOR JSON`");
        }
        if settings.is_some() || format_clause.is_some() || !pipe_operators.is_empty() {
            self.unsupported(span, "this query clause");
        }
        if defines_ctes {
            self.ctes.pop();
        }
    }

    /// Walks each `WITH` query with the names it can see, then makes all of
    /// them visible for the rest of the query (the caller pops the frame).
    fn with(&mut self, with: &mut With) {
        let With {
            with_token: _,
            recursive,
            cte_tables,
        } = with;
        let names: Vec<Name> = cte_tables
            .iter()
            .map(|cte| Name::of(&cte.alias.name))
            .collect();
        for (index, cte) in cte_tables.iter_mut().enumerate() {
            let Cte {
                alias,
                query,
                from,
                materialized: _,
                closing_paren_token: _,
            } = cte;
            if names[..index].contains(&names[index]) {
                self.report(
                    Problem::DuplicateName,
                    alias.name.span,
                    format!("the WITH query `{}` is defined twice", alias.name),
                    "give each WITH query its own name",
                );
            }
            self.alias_columns(alias);
            if from.is_some() {
                self.unsupported(alias.name.span, "`FROM` after a WITH query");
            }
            // Without RECURSIVE, a WITH query sees only the ones before it:
            // a later name in its body is a table of that name.
            let visible = if *recursive {
                names.clone()
            } else {
                names[..index].to_vec()
            };
            self.ctes.push(visible);
            self.later_ctes.push(names[index..].to_vec());
            self.query(query);
            self.later_ctes.pop();
            self.ctes.pop();
        }
        self.ctes.push(names);
    }

    #[recursive::recursive]
    pub(super) fn set_expr(&mut self, body: &mut SetExpr) {
        let refused = match &*body {
            SetExpr::SetOperation {
                op: SetOperator::Minus,
                ..
            } => Some("`MINUS`"),
            SetExpr::SetOperation {
                set_quantifier:
                    SetQuantifier::ByName | SetQuantifier::AllByName | SetQuantifier::DistinctByName,
                ..
            } => Some("`BY NAME`"),
            SetExpr::Values(Values {
                explicit_row: true, ..
            })
            | SetExpr::Values(Values {
                value_keyword: true,
                ..
            }) => Some("`VALUES ROW` or `VALUE`"),
            _ => None,
        };
        if let Some(what) = refused {
            self.unsupported(anchor::set_expr(body), what);
        }
        match body {
            SetExpr::Select(select) => self.select(select),
            SetExpr::Query(query) => self.query(query),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left);
                self.set_expr(right);
            }
            SetExpr::Values(values) => {
                for row in values.rows.iter_mut() {
                    self.exprs(&mut row.content);
                }
            }
            SetExpr::Insert(statement)
            | SetExpr::Update(statement)
            | SetExpr::Delete(statement) => self.modifying_query(statement),
            SetExpr::Merge(_) => self.refuse_statement(Some("MERGE")),
            SetExpr::Table(table) => self.table_query(table),
        }
    }

    /// An `INSERT`, `UPDATE` or `DELETE` as a `WITH` query or after `WITH`.
    fn modifying_query(&mut self, statement: &mut Statement) {
        let span = anchor::statement(statement);
        self.writes = true;
        if self.rules.read_only {
            return self.report(
                Problem::Statement,
                span,
                "a data-modifying WITH query changes data, and only reading is allowed here",
                "write a SELECT",
            );
        }
        match statement {
            Statement::Insert(insert) => self.insert(insert),
            Statement::Update(update) => self.update(update),
            Statement::Delete(delete) => self.delete(delete),
            _ => self.unsupported(span, "this statement inside a query"),
        }
    }

    /// `TABLE name`: fine for a `WITH` query; a table needs a `SELECT` with
    /// a `WHERE` to be confined.
    fn table_query(&mut self, table: &Table) {
        self.table_queries += 1;
        let Table {
            table_name,
            schema_name,
        } = table;
        let Some(name) = table_name else {
            return self.unsupported(Span::empty(), "`TABLE` without a name");
        };
        let span = match schema_name {
            Some(schema) => schema.span.union(&name.span),
            None => name.span,
        };
        if schema_name.is_none() {
            if name.quote_style.is_none()
                && let Some(slot) = self.lexed.slot_of(&name.value)
            {
                self.consumed[slot] = true;
                let type_name = &self.lexed.slots[slot].type_name;
                let help = format!(
                    "write `SELECT * FROM {{{type_name}}} t WHERE t.<tenant column> = $tenant`"
                );
                return self.report(
                    Problem::Unconfined,
                    name.span,
                    format!("`TABLE {{{type_name}}}` cannot carry a tenant conjunct"),
                    &help,
                );
            }
            if self.is_visible_cte(&Name::of(name)) {
                return;
            }
        }
        let shown = match schema_name {
            Some(schema) => format!("{schema}.{name}"),
            None => name.to_string(),
        };
        self.report(
            self.table_problem(schema_name.as_ref().map(Name::of).as_ref(), &Name::of(name)),
            span,
            format!("`TABLE {shown}` reads a table the checks cannot confine"),
            "write `SELECT * FROM ..` instead",
        );
    }

    fn lock(&mut self, lock: &LockClause, span: Span) {
        let LockClause {
            lock_type: _,
            of: _,
            nonblock: _,
        } = lock;
        self.writes = true;
        if self.rules.read_only {
            self.report(
                Problem::Statement,
                span,
                "`FOR UPDATE` and `FOR SHARE` lock rows, and only reading is allowed here",
                "remove the locking clause",
            );
        }
    }

    fn order_by(&mut self, order_by: &mut OrderBy, span: Span) {
        let OrderBy { kind, interpolate } = order_by;
        if interpolate.is_some() {
            self.unsupported(span, "`INTERPOLATE`");
        }
        match kind {
            OrderByKind::All(_) => self.unsupported(span, "`ORDER BY ALL`"),
            OrderByKind::Expressions(items) => {
                for item in items.iter_mut() {
                    self.order_by_expr(item);
                }
            }
        }
    }

    pub(super) fn order_by_expr(&mut self, item: &mut OrderByExpr) {
        if item.with_fill.is_some() {
            self.unsupported(anchor::expr(&item.expr), "`WITH FILL`");
        }
        let OrderByExpr {
            expr,
            options: _,
            with_fill: _,
        } = item;
        self.expr(expr);
    }

    fn limit(&mut self, limit: &mut LimitClause, span: Span) {
        match limit {
            LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            } => {
                if let Some(limit) = limit {
                    self.expr(limit);
                }
                if let Some(Offset { value, rows: _ }) = offset {
                    self.expr(value);
                }
                if !limit_by.is_empty() {
                    self.unsupported(span, "`LIMIT .. BY`");
                }
            }
            LimitClause::OffsetCommaLimit { .. } => {
                self.unsupported(span, "`LIMIT <offset>, <limit>`")
            }
        }
    }

    pub(super) fn window_spec(&mut self, spec: &mut WindowSpec) {
        let WindowSpec {
            window_name: _,
            partition_by,
            order_by,
            window_frame,
        } = spec;
        for expr in partition_by.iter_mut() {
            self.expr(expr);
        }
        for item in order_by.iter_mut() {
            self.order_by_expr(item);
        }
        if let Some(WindowFrame {
            units: _,
            start_bound,
            end_bound,
        }) = window_frame
        {
            for bound in std::iter::once(start_bound).chain(end_bound.iter_mut()) {
                if let WindowFrameBound::Preceding(Some(expr))
                | WindowFrameBound::Following(Some(expr)) = bound
                {
                    self.expr(expr);
                }
            }
        }
    }

    #[recursive::recursive]
    fn select(&mut self, select: &mut Select) {
        let span = select.select_token.0.span;
        let Select {
            select_token,
            optimizer_hints,
            distinct,
            select_modifiers,
            top,
            top_before_distinct: _,
            projection,
            exclude,
            into,
            from,
            lateral_views,
            prewhere,
            selection,
            connect_by,
            group_by,
            cluster_by,
            distribute_by,
            sort_by,
            having,
            named_window,
            qualify,
            window_before_qualify: _,
            value_table_mode,
            flavor,
        } = select;
        let start = select_token.0.span.start;
        self.selects.insert((start.line, start.column));

        // Optimizer hints are comments to PostgreSQL; the confined text
        // would print them back, so analytics refuses them.
        if !optimizer_hints.is_empty() && matches!(self.rules.tables, Tables::Confine(_)) {
            self.unsupported(span, "an optimizer hint");
        }
        if select_modifiers.is_some()
            || top.is_some()
            || exclude.is_some()
            || !lateral_views.is_empty()
            || prewhere.is_some()
            || !connect_by.is_empty()
            || !cluster_by.is_empty()
            || !distribute_by.is_empty()
            || !sort_by.is_empty()
            || qualify.is_some()
            || value_table_mode.is_some()
            || !matches!(flavor, SelectFlavor::Standard)
        {
            self.unsupported(span, "this SELECT clause (from another database's dialect)");
        }
        if into.is_some() {
            self.report(
                Problem::Statement,
                span,
                "`SELECT .. INTO` creates a table",
                "select the rows, or INSERT them into an existing table",
            );
        }

        let mut scope = FromScope::new(Scope::Select);
        for item in from.iter_mut() {
            self.table_with_joins(item, &mut scope, Place::From(Scope::Select));
        }
        if let Some(Distinct::On(exprs)) = distinct {
            for expr in exprs.iter_mut() {
                self.expr(expr);
            }
        }
        for item in projection.iter_mut() {
            self.select_item(item);
        }
        if let Some(selection) = selection {
            self.expr(selection);
        }
        match group_by {
            GroupByExpr::All(_) => self.unsupported(span, "`GROUP BY ALL`"),
            GroupByExpr::Expressions(exprs, modifiers) => {
                for expr in exprs.iter_mut() {
                    self.expr(expr);
                }
                if !modifiers.is_empty() {
                    self.unsupported(span, "`WITH ROLLUP`, `WITH CUBE` or `WITH TOTALS`");
                }
            }
        }
        if let Some(having) = having {
            self.expr(having);
        }
        for NamedWindowDefinition(_, window) in named_window.iter_mut() {
            if let NamedWindowExpr::WindowSpec(spec) = window {
                self.window_spec(spec);
            }
        }
        self.finish_scope(scope, selection.as_ref());
    }

    pub(super) fn select_item(&mut self, item: &mut SelectItem) {
        let span = match item {
            SelectItem::ExprWithAliases { .. }
            | SelectItem::QualifiedWildcard(..)
            | SelectItem::Wildcard(_) => anchor::select_item(item),
            _ => Span::empty(),
        };
        match item {
            SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, alias: _ } => {
                self.expr(expr);
            }
            SelectItem::ExprWithAliases { .. } => self.unsupported(span, "a list of aliases"),
            SelectItem::QualifiedWildcard(kind, options) => {
                self.wildcard_options(options, span);
                match kind {
                    SelectItemQualifiedWildcardKind::ObjectName(_) => {}
                    SelectItemQualifiedWildcardKind::Expr(expr) => self.expr(expr),
                }
            }
            SelectItem::Wildcard(options) => self.wildcard_options(options, span),
        }
    }

    pub(super) fn wildcard_options(&mut self, options: &WildcardAdditionalOptions, span: Span) {
        let WildcardAdditionalOptions {
            wildcard_token: _,
            opt_ilike,
            opt_exclude,
            opt_except,
            opt_replace,
            opt_rename,
            opt_alias,
        } = options;
        if opt_ilike.is_some()
            || opt_exclude.is_some()
            || opt_except.is_some()
            || opt_replace.is_some()
            || opt_rename.is_some()
            || opt_alias.is_some()
        {
            self.unsupported(span, "a wildcard with options");
        }
    }

    /// A `FROM` item: its table factor and joins. Returns the pending
    /// references it introduces, joined ones included, for the `ON` of an
    /// enclosing join to confine.
    pub(super) fn table_with_joins(
        &mut self,
        item: &mut TableWithJoins,
        scope: &mut FromScope,
        place: Place,
    ) -> Vec<usize> {
        let TableWithJoins { relation, joins } = item;
        let mut introduced = self.table_factor(relation, scope, place);
        for join in joins.iter_mut() {
            introduced.extend(self.join(join, scope));
        }
        introduced
    }

    fn join(&mut self, join: &mut Join, scope: &mut FromScope) -> Vec<usize> {
        let span = anchor::table_factor(&join.relation);
        let Join {
            relation,
            global,
            join_operator,
        } = join;
        if *global {
            self.unsupported(span, "`GLOBAL JOIN`");
        }
        let (kind, constraint) = match join_operator {
            JoinOperator::Join(constraint) | JoinOperator::Inner(constraint) => {
                (JoinKind::Inner, Some(constraint))
            }
            JoinOperator::Left(constraint) | JoinOperator::LeftOuter(constraint) => {
                (JoinKind::Left, Some(constraint))
            }
            JoinOperator::Right(constraint) | JoinOperator::RightOuter(constraint) => {
                (JoinKind::Right, Some(constraint))
            }
            JoinOperator::FullOuter(constraint) => (JoinKind::Full, Some(constraint)),
            JoinOperator::CrossJoin(JoinConstraint::None) => (JoinKind::Cross, None),
            _ => {
                self.unsupported(span, "this kind of join");
                (JoinKind::Cross, None)
            }
        };
        // Only an `ON` can confine what a join brings in.
        let kind = match (kind, &constraint) {
            (JoinKind::Inner | JoinKind::Left, Some(constraint))
                if !matches!(constraint, JoinConstraint::On(_)) =>
            {
                JoinKind::Cross
            }
            _ => kind,
        };
        let joined = self.table_factor(
            relation,
            scope,
            Place::Join {
                kind,
                scope: scope.scope,
            },
        );
        match constraint {
            Some(JoinConstraint::On(on)) => {
                self.expr(on);
                if kind.on_confines_right() {
                    self.confine(scope, &joined, on);
                }
            }
            Some(JoinConstraint::UsingAlias(..)) => self.unsupported(span, "`USING (..) AS`"),
            Some(JoinConstraint::Using(_) | JoinConstraint::Natural | JoinConstraint::None)
            | None => {}
        }
        joined
    }

    /// Records the columns that `clause`'s top-level tenant conjuncts
    /// compare for each of the pending references `which` that they name.
    pub(super) fn confine(&mut self, scope: &mut FromScope, which: &[usize], clause: &Expr) {
        for conjunct in conjuncts(clause) {
            let Some(comparison) = comparison(conjunct).filter(|c| c.is_tenant()) else {
                continue;
            };
            let mut counted = false;
            for &index in which {
                let pending = &mut scope.pending[index];
                if pending.alias == comparison.alias {
                    pending.columns.push(comparison.column.as_str().to_owned());
                    counted = true;
                }
            }
            if counted {
                let range = self.range(anchor::comparison(conjunct));
                for seen in self.seen.iter_mut().filter(|s| s.span == range) {
                    seen.counted = true;
                }
            }
        }
    }

    /// Once a scope's `WHERE` is walked: each of its references is confined
    /// by the columns its `ON` and the `WHERE` compare with `$tenant`.
    pub(super) fn finish_scope(&mut self, mut scope: FromScope, selection: Option<&Expr>) {
        let all: Vec<usize> = (0..scope.pending.len()).collect();
        if let Some(selection) = selection {
            self.confine(&mut scope, &all, selection);
        }
        for pending in scope.pending {
            let mut columns: Vec<String> = Vec::new();
            for column in pending.columns {
                if !columns.contains(&column) {
                    columns.push(column);
                }
            }
            let table = &mut self.tables[pending.table];
            let requirement = Requirement::new(
                Rule::TenantColumnIn(columns.clone()),
                table.span.clone(),
                &table.type_name,
                Failure::Unconfined {
                    alias: table.alias.clone().unwrap_or_default(),
                    place: table.place,
                    compared: columns,
                    misplaced: None,
                },
            );
            table.requirements.insert(0, requirement);
        }
    }

    /// A table factor; returns the pending references it introduces.
    #[recursive::recursive]
    pub(super) fn table_factor(
        &mut self,
        factor: &mut TableFactor,
        scope: &mut FromScope,
        place: Place,
    ) -> Vec<usize> {
        let span = anchor::table_factor(factor);
        let mut replacement = None;
        let introduced = match factor {
            TableFactor::Table {
                name,
                alias,
                args,
                with_hints,
                version,
                with_ordinality: _,
                partitions,
                json_path,
                sample,
                index_directives,
                inheritance,
            } => {
                if !with_hints.is_empty()
                    || version.is_some()
                    || !partitions.is_empty()
                    || json_path.is_some()
                    || sample.is_some()
                    || !index_directives.is_empty()
                {
                    self.unsupported(span, "this table clause (sampling, hints, versions)");
                }
                if let Some(args) = args {
                    self.function_name(name, anchor::name(name));
                    let TableFunctionArgs { args, settings } = args;
                    if settings.is_some() {
                        self.unsupported(span, "`SETTINGS`");
                    }
                    for arg in args.iter_mut() {
                        self.function_arg(arg);
                    }
                    self.declare_alias(scope, alias.as_ref(), last_ident(name), span);
                    return Vec::new();
                }
                match self.resolve(name) {
                    Resolved::Slot(slot) => {
                        return self.slot_reference(slot, alias.as_ref(), scope, place);
                    }
                    Resolved::Cte => {
                        if inheritance.is_some() {
                            self.unsupported(span, "`ONLY` on a WITH query");
                        }
                        self.declare_alias(scope, alias.as_ref(), last_ident(name), span);
                    }
                    Resolved::Table => match self.rules.tables {
                        Tables::Slots => self.table_name_error(name, anchor::name(name)),
                        Tables::Confine(allow) => {
                            if inheritance.is_some() {
                                self.unsupported(span, "`ONLY` or `*` after a table");
                            }
                            replacement = self.confined_reference(
                                allow,
                                name,
                                alias.as_ref(),
                                scope,
                                anchor::name(name),
                            );
                        }
                    },
                }
                Vec::new()
            }
            TableFactor::Derived {
                lateral: _,
                subquery,
                alias,
                sample,
            } => {
                if sample.is_some() {
                    self.unsupported(span, "`TABLESAMPLE`");
                }
                self.query(subquery);
                if let Some(alias) = alias {
                    self.alias_columns(alias);
                    self.declare(scope, Name::of(&alias.name), alias.name.span);
                }
                Vec::new()
            }
            TableFactor::Function {
                lateral: _,
                name,
                args,
                with_ordinality: _,
                alias,
            } => {
                self.function_name(name, anchor::name(name));
                for arg in args.iter_mut() {
                    self.function_arg(arg);
                }
                self.declare_alias(scope, alias.as_ref(), last_ident(name), span);
                Vec::new()
            }
            TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset,
                with_offset_alias,
                with_ordinality: _,
            } => {
                if *with_offset || with_offset_alias.is_some() {
                    self.unsupported(span, "`WITH OFFSET`");
                }
                self.function_allowed("unnest", span);
                for expr in array_exprs.iter_mut() {
                    self.expr(expr);
                }
                let unnest = sqlparser::ast::Ident::new("unnest");
                self.declare_alias(scope, alias.as_ref(), Some(&unnest), span);
                Vec::new()
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                if alias.is_some() {
                    self.report(
                        Problem::Unsupported,
                        span,
                        "an alias on a parenthesized join hides the names inside it from \
                         their tenant conjuncts",
                        "alias the tables inside the parentheses instead",
                    );
                }
                self.table_with_joins(table_with_joins, scope, place)
            }
            TableFactor::TableFunction { .. }
            | TableFactor::JsonTable { .. }
            | TableFactor::OpenJsonTable { .. }
            | TableFactor::Pivot { .. }
            | TableFactor::Unpivot { .. }
            | TableFactor::UnpivotExpr { .. }
            | TableFactor::MatchRecognize { .. }
            | TableFactor::XmlTable { .. }
            | TableFactor::SemanticView { .. } => {
                self.unsupported(span, "this kind of table expression");
                Vec::new()
            }
        };
        if let Some(replacement) = replacement {
            *factor = replacement;
        }
        introduced
    }

    fn resolve(&self, name: &ObjectName) -> Resolved {
        let [ObjectNamePart::Identifier(ident)] = name.0.as_slice() else {
            return Resolved::Table;
        };
        if ident.quote_style.is_none()
            && let Some(slot) = self.lexed.slot_of(&ident.value)
        {
            return Resolved::Slot(slot);
        }
        if self.is_visible_cte(&Name::of(ident)) {
            Resolved::Cte
        } else {
            Resolved::Table
        }
    }

    pub(super) fn is_visible_cte(&self, name: &Name) -> bool {
        self.ctes.iter().any(|frame| frame.contains(name))
    }

    /// A reference to a table slot, in a `FROM` or as a statement's target.
    pub(super) fn slot_reference(
        &mut self,
        slot: usize,
        alias: Option<&TableAlias>,
        scope: &mut FromScope,
        place: Place,
    ) -> Vec<usize> {
        self.consumed[slot] = true;
        let type_name = self.lexed.slots[slot].type_name.clone();
        let span = self.lexed.slots[slot].span.clone();
        let Some(alias) = alias else {
            self.diagnostics.push(
                crate::diagnostic::Diagnostic::new(
                    Problem::Alias,
                    span,
                    format!("`{{{type_name}}}` needs an alias"),
                )
                .with_help(format!(
                    "write `{{{type_name}}} t`, so that its tenant conjunct can name it: \
                     `t.<tenant column> = $tenant`"
                )),
            );
            return Vec::new();
        };
        if !alias.columns.is_empty() {
            self.report(
                Problem::Alias,
                alias.name.span,
                format!("column aliases on `{{{type_name}}}` rename its columns, the tenant column among them"),
                "alias the columns in the select list instead",
            );
        }
        if alias.at.is_some() {
            self.unsupported(alias.name.span, "`AT` in an alias");
        }
        let name = Name::of(&alias.name);
        if !self.declare(scope, name.clone(), alias.name.span) {
            return Vec::new();
        }
        let table = self.tables.len();
        self.tables.push(TableRef {
            slot,
            type_name,
            alias: Some(alias.name.to_string()),
            span,
            place,
            requirements: Vec::new(),
        });
        vec![scope.wait(table, name)]
    }

    /// Declares the name a `FROM` item is known by: its alias, or else
    /// `default` (a `WITH` query's or a function's name).
    fn declare_alias(
        &mut self,
        scope: &mut FromScope,
        alias: Option<&TableAlias>,
        default: Option<&sqlparser::ast::Ident>,
        span: Span,
    ) {
        match alias {
            Some(alias) => {
                self.alias_columns(alias);
                self.declare(scope, Name::of(&alias.name), alias.name.span);
            }
            None => {
                if let Some(ident) = default {
                    self.declare(scope, Name::of(ident), span);
                }
            }
        }
    }

    pub(super) fn declare(&mut self, scope: &mut FromScope, name: Name, span: Span) -> bool {
        let shown = name.as_str().to_owned();
        if scope.declare(name) {
            return true;
        }
        self.report(
            Problem::DuplicateName,
            span,
            format!("`{shown}` is used twice in this FROM"),
            "give each table reference its own alias",
        );
        false
    }

    /// Type checks on column definitions in an alias (`AS t(a int)`).
    fn alias_columns(&mut self, alias: &TableAlias) {
        for column in &alias.columns {
            if let Some(data_type) = &column.data_type {
                self.data_type(data_type, column.name.span);
            }
        }
    }

    /// A table named by its SQL name where `{Type}` is needed.
    pub(super) fn table_name_error(&mut self, name: &ObjectName, span: Span) {
        let Some(parts) = policy::name_parts(name) else {
            return self.unsupported(span, "this table name");
        };
        let folded: Vec<Name> = parts.iter().map(|ident| Name::of(ident)).collect();
        let (schema, table) = match folded.as_slice() {
            [.., schema, table] => (Some(schema), table),
            [table] => (None, table),
            [] => return self.unsupported(span, "this table name"),
        };
        let shown = self.text(span);
        if policy::is_catalog(schema.map(Name::as_str), table.as_str()) {
            return self.report(
                Problem::SystemCatalog,
                span,
                format!("`{shown}` is a system catalog, which tenant SQL may not read"),
                "",
            );
        }
        if schema.is_none() && self.later_ctes.iter().any(|later| later.contains(table)) {
            return self.report(
                Problem::TableName,
                span,
                format!(
                    "`{shown}` is a WITH query defined after this one, so here it names a table"
                ),
                "move the WITH query it names before this one, or write WITH RECURSIVE",
            );
        }
        let suggestion = type_name_for(table.as_str());
        self.report(
            Problem::TableName,
            span,
            format!("`{shown}` is not named by its Rust type"),
            &format!("name the table by its Rust type: `{{{suggestion}}}`"),
        );
    }

    /// What kind of problem a table by SQL name is, for analytics.
    pub(super) fn table_problem(&self, schema: Option<&Name>, table: &Name) -> Problem {
        if policy::is_catalog(schema.map(Name::as_str), table.as_str()) {
            Problem::SystemCatalog
        } else if matches!(self.rules.tables, Tables::Slots) {
            Problem::TableName
        } else {
            Problem::TableNotAllowed
        }
    }

    /// An analytics reference to an allow-listed table: returns its
    /// confined replacement.
    fn confined_reference(
        &mut self,
        allow: &confine::AllowList,
        name: &ObjectName,
        alias: Option<&TableAlias>,
        scope: &mut FromScope,
        span: Span,
    ) -> Option<TableFactor> {
        let Some(parts) = policy::name_parts(name) else {
            self.unsupported(span, "this table name");
            return None;
        };
        let shown = self.text(span);
        let folded: Vec<Name> = parts.iter().map(|ident| Name::of(ident)).collect();
        let (ident, table) = match (parts.as_slice(), folded.as_slice()) {
            ([ident], [table]) => (*ident, table),
            (_, [.., schema, table]) => {
                if policy::is_catalog(Some(schema.as_str()), table.as_str()) {
                    self.report(
                        Problem::SystemCatalog,
                        span,
                        format!(
                            "`{shown}` is a system catalog, which analytics queries may not read"
                        ),
                        "",
                    );
                } else {
                    self.report(
                        Problem::TableNotAllowed,
                        span,
                        format!("`{shown}` names a schema"),
                        "name tables without a schema: each tenant's tables are found for it",
                    );
                }
                return None;
            }
            _ => {
                self.unsupported(span, "this table name");
                return None;
            }
        };
        if policy::is_catalog(None, table.as_str()) {
            self.report(
                Problem::SystemCatalog,
                span,
                format!("`{shown}` is a system catalog, which analytics queries may not read"),
                "",
            );
            return None;
        }
        let Some(kind) = allow.table_kind(table.as_str()) else {
            if self.later_ctes.iter().any(|later| later.contains(table)) {
                self.report(
                    Problem::TableNotAllowed,
                    span,
                    format!(
                        "`{shown}` is a WITH query defined after this one, so here it names a table"
                    ),
                    "move the WITH query it names before this one, or write WITH RECURSIVE",
                );
                return None;
            }
            let tables: Vec<String> = allow.table_names().map(|t| format!("`{t}`")).collect();
            let help = if tables.is_empty() {
                "no tables are allowed".to_owned()
            } else {
                format!("the tables you can query are {}", tables.join(", "))
            };
            self.report(
                Problem::TableNotAllowed,
                span,
                format!("`{shown}` is not a table analytics queries can read"),
                &help,
            );
            return None;
        };
        let alias = alias.cloned().unwrap_or_else(|| TableAlias {
            explicit: true,
            name: ident.clone(),
            columns: Vec::new(),
            at: None,
        });
        self.alias_columns(&alias);
        self.declare(scope, Name::of(&alias.name), span);
        Some(confine::confined_factor(table.as_str(), kind, alias))
    }
}

fn last_ident(name: &ObjectName) -> Option<&sqlparser::ast::Ident> {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => Some(ident),
        _ => None,
    }
}

/// A guess at the Rust type for a table name, for the help line:
/// `order_items` suggests `OrderItem`.
fn type_name_for(table: &str) -> String {
    let singular = table
        .strip_suffix("ies")
        .map(|stem| format!("{stem}y"))
        .or_else(|| {
            table
                .strip_suffix('s')
                .filter(|stem| !stem.ends_with('s'))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| table.to_owned());
    let camel: String = singular
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect();
    if camel.is_empty() {
        "Type".to_owned()
    } else {
        camel
    }
}

#[cfg(test)]
mod tests {
    use super::type_name_for;

    #[test]
    fn suggested_type_names() {
        assert_eq!(type_name_for("orders"), "Order");
        assert_eq!(type_name_for("order_items"), "OrderItem");
        assert_eq!(type_name_for("categories"), "Category");
        assert_eq!(type_name_for("address"), "Address");
        assert_eq!(type_name_for("__"), "Type");
    }
}
