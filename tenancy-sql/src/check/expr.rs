//! Expressions: every subquery in them is walked, every function and cast
//! checked. Each variant of sqlparser's `Expr` is matched by name, so a new
//! one in an upgrade is a compile error here, not a place to hide a query.

use sqlparser::ast::{
    AccessExpr, Array, CaseWhen, CeilFloorKind, DataType, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArgumentClause, FunctionArgumentList, FunctionArguments, InTarget,
    Interval, JsonPath, JsonPathElem, ListAggOnOverflow, ObjectName, Subscript, TypedString, Value,
    ValueWithSpan, WindowType,
};
use sqlparser::tokenizer::Span;

use super::anchor;
use super::conjunct::comparison;
use super::policy;
use super::{Functions, Seen, Tables, Walker};
use crate::diagnostic::Problem;
use crate::name::Name;

impl Walker<'_> {
    #[recursive::recursive]
    pub(super) fn expr(&mut self, expr: &mut Expr) {
        if let Some(comparison) = comparison(expr) {
            let span = self.range(anchor::comparison(expr));
            self.seen.push(Seen {
                comparison,
                span,
                counted: false,
            });
        }
        if let Some((problem, message)) = self.expr_problem(expr) {
            let span = anchor::expr(expr);
            self.report(problem, span, message, "");
        }
        match expr {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {}
            Expr::Wildcard(_) | Expr::QualifiedWildcard(..) => {}
            Expr::CompoundFieldAccess { root, access_chain } => {
                self.expr(root);
                for access in access_chain.iter_mut() {
                    match access {
                        AccessExpr::Dot(expr) => self.expr(expr),
                        AccessExpr::Subscript(subscript) => self.subscript(subscript),
                    }
                }
            }
            Expr::JsonAccess { value, path } => {
                self.expr(value);
                self.json_path(path);
            }
            Expr::IsFalse(inner)
            | Expr::IsNotFalse(inner)
            | Expr::IsTrue(inner)
            | Expr::IsNotTrue(inner)
            | Expr::IsNull(inner)
            | Expr::IsNotNull(inner)
            | Expr::IsUnknown(inner)
            | Expr::IsNotUnknown(inner)
            | Expr::Nested(inner)
            | Expr::UnaryOp { expr: inner, .. }
            | Expr::Extract { expr: inner, .. }
            | Expr::IsJson { expr: inner, .. }
            | Expr::IsNormalized { expr: inner, .. }
            | Expr::Collate { expr: inner, .. } => self.expr(inner),
            Expr::IsDistinctFrom(left, right)
            | Expr::IsNotDistinctFrom(left, right)
            | Expr::BinaryOp { left, right, .. }
            | Expr::AnyOp { left, right, .. }
            | Expr::AllOp { left, right, .. }
            | Expr::AtTimeZone {
                timestamp: left,
                time_zone: right,
            }
            | Expr::Position {
                expr: left,
                r#in: right,
            } => {
                self.expr(left);
                self.expr(right);
            }
            Expr::In { expr, target, .. } => {
                self.expr(expr);
                match target {
                    InTarget::List(list) => self.exprs(list),
                    InTarget::Subquery(query) => self.query(query),
                    InTarget::Unnest(array) => self.expr(array),
                    InTarget::Table { .. } => {}
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                self.expr(expr);
                self.expr(low);
                self.expr(high);
            }
            Expr::Like {
                expr,
                pattern,
                escape_char,
                ..
            }
            | Expr::ILike {
                expr,
                pattern,
                escape_char,
                ..
            }
            | Expr::SimilarTo {
                expr,
                pattern,
                escape_char,
                ..
            } => {
                self.expr(expr);
                self.expr(pattern);
                if let Some(escape) = escape_char {
                    self.expr(escape);
                }
            }
            Expr::RLike { expr, pattern, .. } => {
                self.expr(expr);
                self.expr(pattern);
            }
            Expr::Cast { expr, .. } => self.expr(expr),
            Expr::Convert { expr, styles, .. } => {
                self.expr(expr);
                self.exprs(styles);
            }
            Expr::Ceil { expr, field } | Expr::Floor { expr, field } => {
                self.expr(expr);
                if let CeilFloorKind::Scale(value) = field {
                    self.literal(value);
                }
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                self.expr(expr);
                for part in [substring_from, substring_for].into_iter().flatten() {
                    self.expr(part);
                }
            }
            Expr::Trim {
                trim_where: _,
                trim_what,
                expr,
                trim_characters,
            } => {
                self.expr(expr);
                if let Some(what) = trim_what {
                    self.expr(what);
                }
                if let Some(characters) = trim_characters {
                    self.exprs(characters);
                }
            }
            Expr::Overlay {
                expr,
                overlay_what,
                overlay_from,
                overlay_for,
            } => {
                self.expr(expr);
                self.expr(overlay_what);
                self.expr(overlay_from);
                if let Some(overlay_for) = overlay_for {
                    self.expr(overlay_for);
                }
            }
            Expr::Value(value) => self.literal(value),
            Expr::Prefixed { prefix: _, value } => self.expr(value),
            Expr::TypedString(TypedString { value, .. }) => self.literal(value),
            Expr::Function(function) => self.function(function),
            Expr::Case {
                case_token: _,
                end_token: _,
                operand,
                conditions,
                else_result,
            } => {
                if let Some(operand) = operand {
                    self.expr(operand);
                }
                for CaseWhen { condition, result } in conditions.iter_mut() {
                    self.expr(condition);
                    self.expr(result);
                }
                if let Some(else_result) = else_result {
                    self.expr(else_result);
                }
            }
            Expr::Exists {
                subquery,
                negated: _,
            }
            | Expr::Subquery(subquery) => self.query(subquery),
            Expr::GroupingSets(sets) | Expr::Cube(sets) | Expr::Rollup(sets) => {
                for set in sets.iter_mut() {
                    self.exprs(set);
                }
            }
            Expr::Tuple(items) => self.exprs(items),
            Expr::Array(Array { elem, named: _ }) => self.exprs(elem),
            Expr::Interval(Interval { value, .. }) => self.expr(value),
            Expr::Struct { .. }
            | Expr::Named { .. }
            | Expr::Dictionary(_)
            | Expr::Map(_)
            | Expr::MatchAgainst { .. }
            | Expr::OuterJoin(_)
            | Expr::Prior(_)
            | Expr::Lambda(_)
            | Expr::MemberOf(_) => self.unsupported(
                anchor::expr(expr),
                "this expression (from another database's dialect)",
            ),
        }
    }

    /// What is wrong with the node `expr` itself, its children aside.
    fn expr_problem(&self, expr: &Expr) -> Option<(Problem, String)> {
        let unsupported = |what: &str| {
            Some((
                Problem::Unsupported,
                format!("{what} is not supported in tenant SQL"),
            ))
        };
        match expr {
            Expr::In { global: true, .. } => unsupported("`GLOBAL IN`"),
            Expr::In {
                target: InTarget::Table { .. },
                ..
            } => unsupported("`IN <table>`"),
            Expr::Cast {
                format: Some(_), ..
            } => unsupported("`CAST .. FORMAT`"),
            Expr::TypedString(TypedString {
                uses_odbc_syntax: true,
                ..
            }) => unsupported("ODBC escapes"),
            Expr::Cast { data_type, .. }
            | Expr::Convert {
                data_type: Some(data_type),
                ..
            }
            | Expr::TypedString(TypedString { data_type, .. }) => self.type_problem(data_type),
            _ => None,
        }
    }

    pub(super) fn exprs(&mut self, exprs: &mut [Expr]) {
        for expr in exprs {
            self.expr(expr);
        }
    }

    fn subscript(&mut self, subscript: &mut Subscript) {
        match subscript {
            Subscript::Index { index } => self.expr(index),
            Subscript::Slice {
                lower_bound,
                upper_bound,
                stride,
            } => {
                for bound in [lower_bound, upper_bound, stride].into_iter().flatten() {
                    self.expr(bound);
                }
            }
        }
    }

    fn json_path(&mut self, path: &mut JsonPath) {
        for element in path.path.iter_mut() {
            match element {
                JsonPathElem::Dot { .. } => {}
                JsonPathElem::Bracket { key } | JsonPathElem::ColonBracket { key } => {
                    self.expr(key)
                }
            }
        }
    }

    /// A literal. Analytics text is printed back from its syntax tree, so
    /// there every string is written as one PostgreSQL reads the same
    /// whatever `standard_conforming_strings` is: `'..'` when it holds no
    /// backslash, an escape string `E'..'` when it does (or when it holds
    /// `''`, which sqlparser would print back as one quote).
    fn literal(&mut self, value: &mut ValueWithSpan) {
        if !matches!(self.rules.tables, Tables::Confine(_)) {
            return;
        }
        let span = value.span;
        let text = match &mut value.value {
            Value::Number(..) | Value::Boolean(_) | Value::Null | Value::Placeholder(_) => return,
            Value::HexStringLiteral(digits) => {
                if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
                    self.unsupported(span, "this hexadecimal literal");
                }
                return;
            }
            Value::SingleQuotedByteStringLiteral(bits) => {
                if !bits.chars().all(|c| matches!(c, '0' | '1')) {
                    self.unsupported(span, "this bit string");
                }
                return;
            }
            Value::SingleQuotedString(text)
            | Value::EscapedStringLiteral(text)
            | Value::UnicodeStringLiteral(text)
            | Value::NationalStringLiteral(text) => std::mem::take(text),
            Value::DollarQuotedString(quoted) => std::mem::take(&mut quoted.value),
            _ => return self.unsupported(span, "this kind of literal"),
        };
        if text.contains('\0') {
            return self.unsupported(span, "a string with a NUL character");
        }
        value.value = if text.contains('\\') || text.contains("''") {
            Value::EscapedStringLiteral(text)
        } else {
            Value::SingleQuotedString(text)
        };
    }

    #[recursive::recursive]
    pub(super) fn function(&mut self, function: &mut Function) {
        let span = anchor::name(&function.name);
        let Function {
            name,
            uses_odbc_syntax,
            parameters,
            args,
            within_group,
            filter,
            null_treatment: _,
            over,
        } = function;
        if *uses_odbc_syntax {
            self.unsupported(span, "ODBC escapes");
        }
        if !matches!(parameters, FunctionArguments::None) {
            self.unsupported(span, "parametric functions");
        }
        self.function_name(name, span);
        match args {
            FunctionArguments::None => {}
            FunctionArguments::Subquery(query) => self.query(query),
            FunctionArguments::List(FunctionArgumentList {
                duplicate_treatment: _,
                args,
                clauses,
            }) => {
                for arg in args.iter_mut() {
                    self.function_arg(arg);
                }
                for clause in clauses.iter_mut() {
                    match clause {
                        FunctionArgumentClause::IgnoreOrRespectNulls(_)
                        | FunctionArgumentClause::Separator(_)
                        | FunctionArgumentClause::JsonNullClause(_)
                        | FunctionArgumentClause::JsonReturningClause(_) => {}
                        FunctionArgumentClause::Where(expr)
                        | FunctionArgumentClause::Limit(expr)
                        | FunctionArgumentClause::Having(sqlparser::ast::HavingBound(_, expr)) => {
                            self.expr(expr);
                        }
                        FunctionArgumentClause::OrderBy(items) => {
                            for item in items.iter_mut() {
                                self.order_by_expr(item);
                            }
                        }
                        FunctionArgumentClause::OnOverflow(overflow) => {
                            if let ListAggOnOverflow::Truncate {
                                filler: Some(filler),
                                ..
                            } = overflow
                            {
                                self.expr(filler);
                            }
                        }
                    }
                }
            }
        }
        for item in within_group.iter_mut() {
            self.order_by_expr(item);
        }
        if let Some(filter) = filter {
            self.expr(filter);
        }
        match over {
            Some(WindowType::WindowSpec(spec)) => self.window_spec(spec),
            Some(WindowType::NamedWindow(_)) | None => {}
        }
    }

    pub(super) fn function_arg(&mut self, arg: &mut FunctionArg) {
        let (value, name) = match arg {
            FunctionArg::Named { arg, .. } => (arg, None),
            FunctionArg::ExprNamed { name, arg, .. } => (arg, Some(name)),
            FunctionArg::Unnamed(arg) => (arg, None),
        };
        if let Some(name) = name {
            self.expr(name);
        }
        match value {
            FunctionArgExpr::Expr(expr) => self.expr(expr),
            FunctionArgExpr::QualifiedWildcard(_) | FunctionArgExpr::Wildcard => {}
            FunctionArgExpr::WildcardWithOptions(options) => {
                let span = options.wildcard_token.0.span;
                self.wildcard_options(options, span);
            }
        }
    }

    /// Whether the function `name` may be called.
    pub(super) fn function_name(&mut self, name: &ObjectName, span: Span) {
        let shown = name.to_string();
        let Some(parts) = policy::name_parts(name) else {
            return self.unsupported(span, "this function name");
        };
        let Some(last) = parts.last() else {
            return self.unsupported(span, "this function name");
        };
        if matches!(self.rules.functions, Functions::AllowList(_)) && parts.len() > 1 {
            return self.report(
                Problem::Function,
                span,
                format!("`{shown}` names a schema"),
                "call functions by their name alone",
            );
        }
        let folded = Name::of(last);
        self.function_allowed(folded.as_str(), span);
    }

    /// Whether the function with the folded name `name` may be called.
    pub(super) fn function_allowed(&mut self, name: &str, span: Span) {
        match self.rules.functions {
            Functions::DenyList => {
                if let Some(why) = policy::denied_function(name) {
                    self.report(
                        Problem::Function,
                        span,
                        format!("`{name}` {why}, which tenant SQL may not do"),
                        "",
                    );
                }
            }
            Functions::AllowList(allow) => {
                if allow.allows_function(name) {
                    return;
                }
                let message = match policy::denied_function(name) {
                    Some(why) => format!("`{name}` {why}, which analytics queries may not do"),
                    None => format!("the function `{name}` is not allowed in analytics queries"),
                };
                self.report(
                    Problem::Function,
                    span,
                    message,
                    "use the allowed functions, or ask for this one to be allowed",
                );
            }
        }
    }

    pub(super) fn data_type(&mut self, data_type: &DataType, span: Span) {
        if let Some((problem, message)) = self.type_problem(data_type) {
            self.report(problem, span, message, "");
        }
    }

    fn type_problem(&self, data_type: &DataType) -> Option<(Problem, String)> {
        let strict = matches!(self.rules.functions, Functions::AllowList(_));
        policy::type_problem(data_type, strict)
            .map(|why| (Problem::Type, format!("the type `{data_type}` {why}")))
    }
}
