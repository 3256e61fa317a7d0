//! The SQL types of a select's columns, so that the members of a union
//! (and the anchor and member of a recursive CTE) are checked to agree.
//!
//! A type that cannot be told (a column whose field type has a verbatim
//! `sql_type`, which the database compares itself) is not compared.

use sea_query::Value;

use crate::BuildError;
use crate::meta::{SqlType, TableMeta};
use crate::query::compound::{CompoundQuery, SetOp};
use crate::query::cte::CteDef;
#[cfg(feature = "json")]
use crate::query::expr::ArithOp;
use crate::query::expr::{Call, ExprNode};
use crate::query::render::Renderer;
use crate::query::select::{SelectQuery, all_columns};
use crate::query::source::Source;
use crate::query::window::WindowCall;

/// How deep CTEs that read CTEs are followed.
const MAX_DEPTH: usize = 16;

impl Renderer<'_, '_> {
    /// Refuses a union whose members differ in number or types of columns.
    pub(crate) fn check_members_agree(&self, compound: &CompoundQuery) -> Result<(), BuildError> {
        let first = self.column_types(&compound.first, 0);
        for (index, (_, member)) in compound.rest.iter().enumerate() {
            let types = self.column_types(member, 0);
            if types.len() != first.len() {
                return Err(BuildError::UnionMismatch {
                    difference: format!(
                        "member {} has {} columns, the first {}",
                        index + 1,
                        types.len(),
                        first.len()
                    ),
                });
            }
            for (position, (theirs, ours)) in types.iter().zip(&first).enumerate() {
                if let (Some(theirs), Some(ours)) = (theirs, ours)
                    && theirs != ours
                {
                    return Err(BuildError::UnionMismatch {
                        difference: format!(
                            "column {position} of member {} is {theirs:?}, of the first {ours:?}",
                            index + 1
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Refuses a `SELECT DISTINCT` or a `UNION` that compares rows with a
    /// `json` column, which PostgreSQL has no equality for. What has a type
    /// the builder cannot tell is left to the database.
    pub(crate) fn check_rows_comparable(
        &self,
        select: &SelectQuery,
        construct: &'static str,
        instead: &'static str,
    ) -> Result<(), BuildError> {
        let types = self.column_types(select, 0);
        match types.iter().position(|ty| *ty == Some(SqlType::Json)) {
            Some(position) => Err(BuildError::JsonRowsCompared {
                construct,
                position,
                instead,
            }),
            None => Ok(()),
        }
    }

    /// Refuses a `UNION` (not `UNION ALL`) any of whose members projects a
    /// `json` column ([`check_rows_comparable`](Self::check_rows_comparable)).
    pub(crate) fn check_union_comparable(
        &self,
        compound: &CompoundQuery,
    ) -> Result<(), BuildError> {
        if compound.rest.iter().all(|(op, _)| *op == SetOp::UnionAll) {
            return Ok(());
        }
        core::iter::once(&compound.first)
            .chain(compound.rest.iter().map(|(_, member)| member))
            .try_for_each(|member| self.check_rows_comparable(member, "UNION", "`UNION ALL`"))
    }

    /// The types of a select's columns, `None` where it cannot be told.
    fn column_types(&self, select: &SelectQuery, depth: usize) -> Vec<Option<SqlType>> {
        if select.projection.is_empty() {
            return match &select.from {
                Source::Table { table, .. } => all_columns(table)
                    .map(|column| column_type(table, column))
                    .collect(),
                Source::Cte(cte) => self
                    .cte_def(cte.name().as_str(), cte.def())
                    .and_then(CteDef::head)
                    .filter(|_| depth < MAX_DEPTH)
                    .map_or_else(Vec::new, |head| self.column_types(head, depth + 1)),
            };
        }
        select
            .projection
            .iter()
            .map(|item| self.expr_type(select, &item.expr, depth))
            .collect()
    }

    fn expr_type(&self, select: &SelectQuery, expr: &ExprNode, depth: usize) -> Option<SqlType> {
        match expr {
            ExprNode::Column(column) => {
                let name = column.qualifier.as_str();
                let source = core::iter::once(&select.from)
                    .chain(select.joins.iter().map(|join| &join.source))
                    .find(|source| source.name() == name)?;
                match source {
                    Source::Table { table, .. } => column_type(table, column.column.as_str()),
                    Source::Cte(cte) => {
                        let head = self.cte_def(name, cte.def())?.head()?;
                        if depth >= MAX_DEPTH {
                            return None;
                        }
                        let position = head
                            .projection
                            .iter()
                            .position(|item| item.output_name() == Some(column.column.as_str()))?;
                        self.column_types(head, depth + 1).get(position).copied()?
                    }
                }
            }
            ExprNode::Value(value) => value_type(value),
            #[cfg(feature = "json")]
            ExprNode::Binary(binary) if binary.op == ArithOp::JsonGetText => Some(SqlType::Text),
            ExprNode::Binary(binary) => self.expr_type(select, &binary.left, depth),
            ExprNode::Negate(operand) => self.expr_type(select, operand, depth),
            ExprNode::Call(Call::Lower | Call::Upper, _) => Some(SqlType::Text),
            ExprNode::Call(Call::Coalesce | Call::NullIf, arguments) => {
                self.expr_type(select, arguments.first()?, depth)
            }
            ExprNode::Now => Some(SqlType::TimestampTz),
            ExprNode::Cast(_, to) => Some(*to),
            ExprNode::Case(case) => {
                let (_, then) = case.branches.first()?;
                self.expr_type(select, then, depth)
            }
            ExprNode::Aggregate(aggregate) => self.aggregate_type(select, aggregate, depth),
            ExprNode::Window(window) => match &window.call {
                WindowCall::RowNumber | WindowCall::Rank | WindowCall::DenseRank => {
                    Some(SqlType::BigInt)
                }
                WindowCall::Lag(value, _) | WindowCall::Lead(value, _) => {
                    self.expr_type(select, value, depth)
                }
                WindowCall::Aggregate(aggregate) => self.aggregate_type(select, aggregate, depth),
            },
            ExprNode::Scalar(query) => self
                .column_types(query, depth + 1)
                .first()
                .copied()
                .flatten(),
            ExprNode::Excluded { table, column } => column_type(table, column),
        }
    }

    fn aggregate_type(
        &self,
        select: &SelectQuery,
        aggregate: &crate::query::aggregate::AggregateNode,
        depth: usize,
    ) -> Option<SqlType> {
        use crate::query::aggregate::AggFunc;
        match aggregate.function {
            AggFunc::Count => Some(SqlType::BigInt),
            // The promised result type where it is cast; else the sum of
            // a type is that type (SQLite), which the cast flags say.
            AggFunc::Sum | AggFunc::Avg => aggregate.postgres_cast.or_else(|| {
                let argument = self.expr_type(select, aggregate.argument.as_ref()?, depth)?;
                Some(match (aggregate.function, argument) {
                    (_, SqlType::Numeric) => SqlType::Numeric,
                    (AggFunc::Avg, _) => SqlType::Double,
                    (_, SqlType::SmallInt | SqlType::Integer) => SqlType::BigInt,
                    (_, other) => other,
                })
            }),
            AggFunc::Min | AggFunc::Max => {
                self.expr_type(select, aggregate.argument.as_ref()?, depth)
            }
        }
    }

    /// The CTE a source names: the declared one, or its own definition.
    fn cte_def<'d>(&'d self, name: &str, own: &'d CteDef) -> Option<&'d CteDef> {
        if own.body.is_some() {
            Some(own)
        } else {
            self.declared_cte(name)
        }
    }
}

/// The SQL type of a table's column (the tenant column included).
fn column_type(table: &TableMeta, column: &str) -> Option<SqlType> {
    let sql_type = match table.tenant {
        Some(tenant) if tenant.name == column => tenant.sql_type,
        _ => table.column(column)?.sql_type,
    };
    match sql_type {
        // A verbatim `json` is `json` all the same.
        SqlType::Custom(name) if name.trim().eq_ignore_ascii_case("json") => Some(SqlType::Json),
        SqlType::Custom(_) => None,
        known => Some(known),
    }
}

/// The SQL type a bound value has.
fn value_type(value: &Value) -> Option<SqlType> {
    Some(match value {
        Value::Bool(_) => SqlType::Boolean,
        Value::SmallInt(_) => SqlType::SmallInt,
        Value::Int(_) => SqlType::Integer,
        Value::BigInt(_) | Value::BigUnsigned(_) => SqlType::BigInt,
        Value::Float(_) => SqlType::Real,
        Value::Double(_) => SqlType::Double,
        Value::String(_) => SqlType::Text,
        Value::Bytes(_) => SqlType::Bytes,
        #[cfg(feature = "uuid")]
        Value::Uuid(_) => SqlType::Uuid,
        #[cfg(feature = "chrono")]
        Value::ChronoDate(_) => SqlType::Date,
        #[cfg(feature = "chrono")]
        Value::ChronoDateTime(_) => SqlType::Timestamp,
        #[cfg(feature = "chrono")]
        Value::ChronoDateTimeUtc(_) => SqlType::TimestampTz,
        #[cfg(feature = "decimal")]
        Value::Decimal(_) => SqlType::Numeric,
        #[cfg(feature = "json")]
        Value::Json(_) => SqlType::Jsonb,
        #[cfg(feature = "ipnetwork")]
        Value::IpNetwork(_) => SqlType::Inet,
        #[cfg(feature = "array")]
        Value::Array(sea_query::ArrayType::String, _) => SqlType::TextArray,
        #[cfg(feature = "array")]
        Value::Array(sea_query::ArrayType::BigInt, _) => SqlType::BigIntArray,
        _ => return None,
    })
}
