//! Writing expressions, aggregates, window functions and orderings.

use sea_query::Value;

use crate::BuildError;
use crate::ddl::sql_type;
use crate::meta::SqlType;
use crate::query::aggregate::AggregateNode;
use crate::query::expr::ExprNode;
use crate::query::order::{Nulls, OrderNode, OrderTarget};
use crate::query::render::{Clause, Renderer};
use crate::query::select::{Form, SelectQuery};
use crate::query::window::{WindowCall, WindowNode};
use crate::statement::Dialect;

/// The current time on SQLite, in the form sqlx writes a
/// `DateTime<Utc>` (RFC 3339, UTC), so that it compares with stored
/// timestamps as text compares.
const SQLITE_NOW: &str = "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')";

/// What an ordering's alias may name.
#[derive(Clone, Copy)]
pub(crate) enum OrderNames {
    /// The aliases of the innermost level's projection.
    Projection,
    /// None: a window's ordering.
    Window,
}

impl<'q> Renderer<'_, 'q> {
    /// An expression, as an operand of a comparison or a whole item:
    /// arithmetic binds tighter than any comparison, so it needs no
    /// parentheses there.
    pub(crate) fn operand(&mut self, expr: &'q ExprNode) -> Result<(), BuildError> {
        self.expr(expr)
    }

    /// An expression written in `clause`.
    pub(crate) fn expr_in(&mut self, clause: Clause, expr: &'q ExprNode) -> Result<(), BuildError> {
        let previous = self.set_clause(clause);
        let written = self.expr(expr);
        self.restore_place(previous);
        written
    }

    pub(crate) fn expr(&mut self, expr: &'q ExprNode) -> Result<(), BuildError> {
        match expr {
            ExprNode::Column(column) => self.column(column),
            ExprNode::Value(value) => self.w.bind(value),
            ExprNode::Binary(binary) => {
                self.arithmetic_operand(&binary.left)?;
                self.w.keyword(binary.op.sql());
                match &binary.right {
                    #[cfg(feature = "json")]
                    ExprNode::Value(key)
                        if matches!(
                            binary.op,
                            crate::query::expr::ArithOp::JsonGet
                                | crate::query::expr::ArithOp::JsonGetText
                        ) =>
                    {
                        self.w.bind_json_key(key)
                    }
                    right => self.arithmetic_operand(right),
                }
            }
            ExprNode::Negate(operand) => {
                // Parenthesised always: `- -x` would start a comment.
                self.w.keyword("-(");
                self.expr(operand)?;
                self.w.keyword(")");
                Ok(())
            }
            ExprNode::Call(call, arguments) => {
                self.w.keyword(call.sql());
                self.list(arguments)?;
                self.w.keyword(")");
                Ok(())
            }
            ExprNode::Now => {
                self.w.keyword(match self.dialect() {
                    Dialect::Postgres => "CURRENT_TIMESTAMP",
                    Dialect::Sqlite => SQLITE_NOW,
                });
                Ok(())
            }
            ExprNode::Cast(operand, to) => {
                self.w.keyword("CAST(");
                self.expr(operand)?;
                self.w.keyword(" AS ");
                self.type_name(*to)?;
                self.w.keyword(")");
                Ok(())
            }
            ExprNode::Case(case) => {
                self.w.keyword("CASE");
                for (condition, then) in &case.branches {
                    self.w.keyword(" WHEN ");
                    self.filter(condition)?;
                    self.w.keyword(" THEN ");
                    self.expr(then)?;
                }
                if let Some(otherwise) = &case.otherwise {
                    self.w.keyword(" ELSE ");
                    self.expr(otherwise)?;
                }
                self.w.keyword(" END");
                Ok(())
            }
            ExprNode::Aggregate(aggregate) => self.aggregate(aggregate),
            ExprNode::Window(window) => self.window(window),
            ExprNode::Scalar(query) => {
                self.w.keyword("(");
                self.subquery(query)?;
                self.w.keyword(")");
                Ok(())
            }
            ExprNode::Excluded { table, column } => match self.excluded {
                Some(upsert) if core::ptr::eq(upsert, *table) => {
                    self.w.column("excluded", column);
                    Ok(())
                }
                _ => Err(BuildError::ExcludedOutsideUpsert {
                    table: table.name,
                    column,
                }),
            },
        }
    }

    /// An operand of arithmetic: parenthesised when it is arithmetic
    /// itself, so the tree's grouping is the SQL's.
    fn arithmetic_operand(&mut self, expr: &'q ExprNode) -> Result<(), BuildError> {
        if matches!(expr, ExprNode::Binary(_)) {
            self.w.keyword("(");
            self.expr(expr)?;
            self.w.keyword(")");
            Ok(())
        } else {
            self.expr(expr)
        }
    }

    /// `a, b, ...`.
    pub(crate) fn list(&mut self, exprs: &'q [ExprNode]) -> Result<(), BuildError> {
        for (index, expr) in exprs.iter().enumerate() {
            if index > 0 {
                self.w.keyword(", ");
            }
            self.expr(expr)?;
        }
        Ok(())
    }

    /// A type name the library knows, in the statement's dialect.
    fn type_name(&mut self, to: SqlType) -> Result<(), BuildError> {
        if let (SqlType::Enum(enum_type), Dialect::Postgres) = (to, self.dialect()) {
            self.w.enum_type(enum_type);
            return Ok(());
        }
        match sql_type(to, self.dialect()) {
            Some(name) if !matches!(to, SqlType::Custom(_)) => {
                self.w.keyword(name);
                Ok(())
            }
            None if matches!(to, SqlType::Interval | SqlType::Cidr) => {
                Err(BuildError::UnsupportedInDialect {
                    construct: "an `interval` or `cidr` value",
                    dialect: self.dialect(),
                    hint: "SQLite has no such type; keep this table on PostgreSQL",
                })
            }
            _ => Err(BuildError::UnsupportedCast { sql_type: to }),
        }
    }

    /// A subquery at the position of an expression or filter: a select of
    /// its own level, which sees (and may correlate with) the levels
    /// around it, and whose clauses are its own.
    pub(crate) fn subquery(&mut self, query: &'q SelectQuery) -> Result<(), BuildError> {
        let previous = self.set_clause(Clause::Projection);
        let written = self.select(query, Form::Rows, false);
        self.restore_place(previous);
        written
    }

    fn aggregate(&mut self, aggregate: &'q AggregateNode) -> Result<(), BuildError> {
        let allowed = !self.place.in_aggregate
            && (self.place.in_window
                || matches!(
                    self.place.clause,
                    Clause::Projection | Clause::Having | Clause::OrderBy
                ));
        if !allowed {
            return Err(self.misplaced("an aggregate"));
        }
        self.mark_aggregated();
        let cast = aggregate
            .postgres_cast
            .filter(|_| self.dialect() == Dialect::Postgres);
        if cast.is_some() {
            self.w.keyword("CAST(");
        }
        let previous = self.place;
        self.place.in_aggregate = true;
        let written = self.aggregate_call(aggregate);
        self.place = previous;
        written?;
        if let Some(to) = cast {
            self.w.keyword(" AS ");
            self.type_name(to)?;
            self.w.keyword(")");
        }
        Ok(())
    }

    /// `FUNC([DISTINCT] <argument> | *)`.
    fn aggregate_call(&mut self, aggregate: &'q AggregateNode) -> Result<(), BuildError> {
        self.w.keyword(aggregate.function.sql());
        if aggregate.distinct {
            self.w.keyword("DISTINCT ");
        }
        match &aggregate.argument {
            Some(argument) => self.expr(argument)?,
            None => self.w.keyword("*"),
        }
        self.w.keyword(")");
        Ok(())
    }

    fn window(&mut self, window: &'q WindowNode) -> Result<(), BuildError> {
        let allowed = !self.place.in_window
            && !self.place.in_aggregate
            && matches!(self.place.clause, Clause::Projection | Clause::OrderBy);
        if !allowed {
            return Err(self.misplaced("a window function"));
        }
        self.mark_aggregated();
        let previous = self.place;
        self.place.in_window = true;
        let written = self.window_call(window);
        self.place = previous;
        written
    }

    fn window_call(&mut self, window: &'q WindowNode) -> Result<(), BuildError> {
        let cast = match &window.call {
            WindowCall::Aggregate(aggregate) => aggregate
                .postgres_cast
                .filter(|_| self.dialect() == Dialect::Postgres),
            _ => None,
        };
        if cast.is_some() {
            self.w.keyword("CAST(");
        }
        match &window.call {
            WindowCall::RowNumber => self.w.keyword("ROW_NUMBER()"),
            WindowCall::Rank => self.w.keyword("RANK()"),
            WindowCall::DenseRank => self.w.keyword("DENSE_RANK()"),
            WindowCall::Lag(value, offset) => self.offset_call("LAG(", value, *offset)?,
            WindowCall::Lead(value, offset) => self.offset_call("LEAD(", value, *offset)?,
            WindowCall::Aggregate(aggregate) => self.aggregate_call(aggregate)?,
        }
        self.w.keyword(" OVER (");
        let spec = &window.window;
        if !spec.partition.is_empty() {
            self.w.keyword("PARTITION BY ");
            self.list(&spec.partition)?;
        }
        if !spec.order.is_empty() {
            if !spec.partition.is_empty() {
                self.w.keyword(" ");
            }
            self.w.keyword("ORDER BY ");
            self.orderings(&spec.order, OrderNames::Window)?;
        }
        self.w.keyword(")");
        if let Some(to) = cast {
            self.w.keyword(" AS ");
            self.type_name(to)?;
            self.w.keyword(")");
        }
        Ok(())
    }

    /// `LAG(value)` or `LAG(value, $n)`.
    fn offset_call(
        &mut self,
        function: &'static str,
        value: &'q ExprNode,
        offset: i32,
    ) -> Result<(), BuildError> {
        self.w.keyword(function);
        self.expr(value)?;
        if offset != 1 {
            self.w.keyword(", ");
            self.w.bind(&Value::Int(Some(offset)))?;
        }
        self.w.keyword(")");
        Ok(())
    }

    /// `a ASC, b DESC NULLS LAST, ...`.
    pub(crate) fn orderings(
        &mut self,
        orderings: &'q [OrderNode],
        names: OrderNames,
    ) -> Result<(), BuildError> {
        for (index, ordering) in orderings.iter().enumerate() {
            if index > 0 {
                self.w.keyword(", ");
            }
            match (&ordering.target, names) {
                (OrderTarget::Expr(expr), _) => self.expr(expr)?,
                (OrderTarget::Alias(alias), OrderNames::Projection)
                    if self
                        .outputs()
                        .iter()
                        .any(|item| item.alias.as_ref() == Some(alias)) =>
                {
                    self.w.identifier(alias.as_str());
                }
                (OrderTarget::Alias(alias), _) => {
                    return Err(BuildError::UnknownAlias {
                        alias: alias.as_str().to_owned(),
                    });
                }
            }
            self.direction(ordering);
        }
        Ok(())
    }

    /// ` ASC|DESC [NULLS FIRST|LAST]`.
    pub(crate) fn direction(&mut self, ordering: &OrderNode) {
        self.w
            .keyword(if ordering.descending { " DESC" } else { " ASC" });
        match ordering.nulls {
            Some(Nulls::First) => self.w.keyword(" NULLS FIRST"),
            Some(Nulls::Last) => self.w.keyword(" NULLS LAST"),
            None => {}
        }
    }

    fn misplaced(&self, function: &'static str) -> BuildError {
        let clause = if self.place.in_aggregate {
            "another aggregate"
        } else if self.place.in_window {
            "another window function"
        } else {
            self.place.clause.name()
        };
        BuildError::MisplacedAggregate { function, clause }
    }
}
