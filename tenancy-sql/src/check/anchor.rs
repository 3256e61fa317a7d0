//! Where to point at a syntax node: its first token, found without
//! recursion.
//!
//! sqlparser's `Spanned::span` visits the whole subtree, recursively: on a
//! long chain of `AND`s or `UNION`s it is quadratic if asked at every node
//! and can exhaust the stack. Diagnostics here point at a node's first
//! token instead, found by walking down its leftmost children in a loop.

use sqlparser::ast::{
    Expr, ObjectName, ObjectNamePart, Query, SelectItem, SelectItemQualifiedWildcardKind, SetExpr,
    Spanned, Statement, TableFactor,
};
use sqlparser::tokenizer::Span;

/// The span of a name: its first and last parts.
pub(super) fn name(name: &ObjectName) -> Span {
    let part = |part: &ObjectNamePart| match part {
        ObjectNamePart::Identifier(ident) => ident.span,
        ObjectNamePart::Function(function) => function.name.span,
    };
    match (name.0.first(), name.0.last()) {
        (Some(first), Some(last)) => part(first).union(&part(last)),
        _ => Span::empty(),
    }
}

/// The first token of an expression.
pub(super) fn expr(mut expr: &Expr) -> Span {
    loop {
        expr = match expr {
            Expr::Identifier(ident) => return ident.span,
            Expr::CompoundIdentifier(parts) => {
                return parts.first().map_or(Span::empty(), |ident| ident.span);
            }
            Expr::Value(value) => return value.span,
            Expr::Wildcard(token) | Expr::QualifiedWildcard(_, token) => return token.0.span,
            Expr::Function(function) => return name(&function.name),
            Expr::Case { case_token, .. } => return case_token.0.span,
            Expr::Exists { subquery, .. } | Expr::Subquery(subquery) => return query(subquery),
            Expr::TypedString(typed) => return typed.value.span,
            Expr::CompoundFieldAccess { root: inner, .. }
            | Expr::JsonAccess { value: inner, .. }
            | Expr::IsFalse(inner)
            | Expr::IsNotFalse(inner)
            | Expr::IsTrue(inner)
            | Expr::IsNotTrue(inner)
            | Expr::IsNull(inner)
            | Expr::IsNotNull(inner)
            | Expr::IsUnknown(inner)
            | Expr::IsNotUnknown(inner)
            | Expr::IsDistinctFrom(inner, _)
            | Expr::IsNotDistinctFrom(inner, _)
            | Expr::IsJson { expr: inner, .. }
            | Expr::IsNormalized { expr: inner, .. }
            | Expr::In { expr: inner, .. }
            | Expr::Between { expr: inner, .. }
            | Expr::BinaryOp { left: inner, .. }
            | Expr::Like { expr: inner, .. }
            | Expr::ILike { expr: inner, .. }
            | Expr::SimilarTo { expr: inner, .. }
            | Expr::RLike { expr: inner, .. }
            | Expr::AnyOp { left: inner, .. }
            | Expr::AllOp { left: inner, .. }
            | Expr::UnaryOp { expr: inner, .. }
            | Expr::Convert { expr: inner, .. }
            | Expr::Cast { expr: inner, .. }
            | Expr::AtTimeZone {
                timestamp: inner, ..
            }
            | Expr::Extract { expr: inner, .. }
            | Expr::Ceil { expr: inner, .. }
            | Expr::Floor { expr: inner, .. }
            | Expr::Position { expr: inner, .. }
            | Expr::Substring { expr: inner, .. }
            | Expr::Trim { expr: inner, .. }
            | Expr::Overlay { expr: inner, .. }
            | Expr::Collate { expr: inner, .. }
            | Expr::Nested(inner)
            | Expr::Prefixed { value: inner, .. }
            | Expr::Named { expr: inner, .. }
            | Expr::OuterJoin(inner)
            | Expr::Prior(inner) => inner,
            Expr::Interval(interval) => &interval.value,
            Expr::Tuple(items) | Expr::Array(sqlparser::ast::Array { elem: items, .. }) => {
                match items.first() {
                    Some(first) => first,
                    None => return Span::empty(),
                }
            }
            Expr::GroupingSets(sets) | Expr::Cube(sets) | Expr::Rollup(sets) => {
                match sets.first().and_then(|set| set.first()) {
                    Some(first) => first,
                    None => return Span::empty(),
                }
            }
            Expr::Struct { .. }
            | Expr::Dictionary(_)
            | Expr::Map(_)
            | Expr::MatchAgainst { .. }
            | Expr::Lambda(_)
            | Expr::MemberOf(_) => return Span::empty(),
        };
    }
}

/// The first token of a query.
pub(super) fn query(query: &Query) -> Span {
    match &query.with {
        Some(with) => with.with_token.0.span,
        None => set_expr(&query.body),
    }
}

/// The first token of a query body.
pub(super) fn set_expr(mut body: &SetExpr) -> Span {
    loop {
        body = match body {
            SetExpr::Select(select) => return select.select_token.0.span,
            SetExpr::Query(query) => match &query.with {
                Some(with) => return with.with_token.0.span,
                None => &query.body,
            },
            SetExpr::SetOperation { left, .. } => left,
            SetExpr::Values(values) => {
                return values
                    .rows
                    .first()
                    .map_or(Span::empty(), |row| row.opening_token.0.span);
            }
            SetExpr::Insert(statement)
            | SetExpr::Update(statement)
            | SetExpr::Delete(statement)
            | SetExpr::Merge(statement) => return self::statement(statement),
            SetExpr::Table(table) => {
                return table
                    .table_name
                    .as_ref()
                    .map_or(Span::empty(), |ident| ident.span);
            }
        };
    }
}

/// The first token of a statement that can stand in a query.
pub(super) fn statement(statement: &Statement) -> Span {
    match statement {
        Statement::Insert(insert) => insert.insert_token.0.span,
        Statement::Update(update) => update.update_token.0.span,
        Statement::Delete(delete) => delete.delete_token.0.span,
        Statement::Merge(merge) => merge.merge_token.0.span,
        Statement::Query(query) => self::query(query),
        _ => Span::empty(),
    }
}

/// The first token of a `FROM` item.
pub(super) fn table_factor(mut factor: &TableFactor) -> Span {
    loop {
        factor = match factor {
            TableFactor::Table { name, .. } | TableFactor::Function { name, .. } => {
                return self::name(name);
            }
            TableFactor::Derived { subquery, .. } => return query(subquery),
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => &table_with_joins.relation,
            TableFactor::UNNEST { array_exprs, .. } => {
                return array_exprs.first().map_or(Span::empty(), expr);
            }
            TableFactor::Pivot { table, .. }
            | TableFactor::Unpivot { table, .. }
            | TableFactor::MatchRecognize { table, .. } => table,
            TableFactor::TableFunction { expr: inner, .. }
            | TableFactor::JsonTable {
                json_expr: inner, ..
            }
            | TableFactor::OpenJsonTable {
                json_expr: inner, ..
            }
            | TableFactor::UnpivotExpr {
                expression: inner, ..
            } => return expr(inner),
            TableFactor::XmlTable { row_expression, .. } => return expr(row_expression),
            TableFactor::SemanticView { name, .. } => return self::name(name),
        };
    }
}

/// The first token of a select item.
pub(super) fn select_item(item: &SelectItem) -> Span {
    match item {
        SelectItem::UnnamedExpr(inner)
        | SelectItem::ExprWithAlias { expr: inner, .. }
        | SelectItem::ExprWithAliases { expr: inner, .. } => expr(inner),
        SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(object), _) => {
            name(object)
        }
        SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::Expr(inner), _) => {
            expr(inner)
        }
        SelectItem::Wildcard(options) => options.wildcard_token.0.span,
    }
}

/// A comparison `a.b = $p`: small by construction, so its full span is
/// cheap.
pub(super) fn comparison(comparison: &Expr) -> Span {
    comparison.span()
}
