//! Functions that make expressions: `COUNT(*)`, bound values, the current
//! time, `CASE`, and the functions that exist only over a window.
//!
//! Aggregates of a column or an expression are its methods
//! (`Order::TOTAL.sum()`); scalar functions too (`.coalesce(..)`,
//! `.nullif(..)`, `.lower()`, `.upper()`, `.cast::<T>()`).

use crate::column_type::{Bind, ColumnType};
use crate::query::aggregate::{AggFunc, Aggregate, AggregateNode};
#[cfg(feature = "chrono")]
use crate::query::expr::ExprNode;
use crate::query::expr::sealed::IntoNode;
use crate::query::expr::{Case, Expr, IntoExpr};
use crate::query::filter::Filter;
use crate::query::window::{WindowCall, WindowFunction};

/// `COUNT(*)`: the rows of the group (or of the select), as an `i64`.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::functions::count_all;
/// use tenancy_core::{BuildStatement, TenantId, ident};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Order::select(&tenant)
///     .columns((Order::CUSTOMER_ID, count_all().alias(ident!("orders"))))
///     .group_by(Order::CUSTOMER_ID)
///     .having(count_all().gt(1))
///     .to_postgres()?;
/// assert_eq!(
///     statement.sql(),
///     r#"SELECT "orders"."customer_id", COUNT(*) AS "orders" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 GROUP BY "orders"."customer_id" HAVING COUNT(*) > $2"#
/// );
/// # Ok(())
/// # }
/// ```
pub fn count_all() -> Aggregate<i64> {
    Aggregate::from_node(AggregateNode {
        function: AggFunc::Count,
        argument: None,
        distinct: false,
        postgres_cast: None,
    })
}

/// A bound value as an expression, of the value's column type: to project
/// a constant (`value(0_i64).alias(..)`, the depth of a recursive CTE's
/// anchor), or to start arithmetic from one. The value is a parameter,
/// never text in the statement.
pub fn value<X: Bind>(value: X) -> Expr<X::Type> {
    Expr::new(value.into_node())
}

/// The current timestamp, as a `DateTime<Utc>` (feature `chrono`).
///
/// On PostgreSQL it is `CURRENT_TIMESTAMP`, the start of the transaction
/// (the same in every statement of it). On SQLite it is the time of the
/// statement, written as sqlx writes a `DateTime<Utc>` (RFC 3339 in UTC,
/// `2025-01-31T08:00:00.123+00:00`), so that it compares with the
/// timestamps the library stores as their text compares.
#[cfg(feature = "chrono")]
pub fn now() -> Expr<chrono::DateTime<chrono::Utc>> {
    Expr::new(ExprNode::Now)
}

/// `CASE WHEN <condition> THEN <then> ...`: add branches with
/// [`when`](Case::when), end with [`otherwise`](Case::otherwise) (`ELSE`)
/// or [`end`](Case::end) (NULL when no branch matches). Every branch has
/// the type of the first.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::functions::case_when;
/// use tenancy_core::{BuildStatement, TenantId, ident};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let size = case_when(Order::TOTAL.gte(10_000), "large")
///     .when(Order::TOTAL.gte(1_000), "medium")
///     .otherwise("small");
/// let statement = Order::select(&tenant)
///     .columns((Order::ID, size.alias(ident!("size"))))
///     .to_sqlite()?;
/// assert!(statement.sql().starts_with(
///     r#"SELECT "orders"."id", CASE WHEN "orders"."total" >= ? THEN ? WHEN "orders"."total" >= ? THEN ? ELSE ? END AS "size""#
/// ));
/// # Ok(())
/// # }
/// ```
pub fn case_when<E: IntoExpr>(condition: Filter, then: E) -> Case<E::Type> {
    Case::first(condition.0, then.into_node())
}

/// `ROW_NUMBER()`: the row's position in its window's ordering, from 1,
/// no two rows alike.
pub fn row_number() -> WindowFunction<i64> {
    WindowFunction::new(WindowCall::RowNumber)
}

/// `RANK()`: the row's rank in its window's ordering, from 1; peers share
/// a rank and leave a gap after them (1, 1, 3).
pub fn rank() -> WindowFunction<i64> {
    WindowFunction::new(WindowCall::Rank)
}

/// `DENSE_RANK()`: like [`rank`], without gaps (1, 1, 2).
pub fn dense_rank() -> WindowFunction<i64> {
    WindowFunction::new(WindowCall::DenseRank)
}

/// `LAG(value)`: `value` in the row before this one in the window's
/// ordering; NULL for the first row.
pub fn lag<E: IntoExpr>(value: E) -> WindowFunction<<E::Type as ColumnType>::Nullable> {
    lag_by(value, 1)
}

/// `LAG(value, offset)`: `value` in the row `offset` rows before this
/// one (the offset is bound); NULL where there is none.
pub fn lag_by<E: IntoExpr>(
    value: E,
    offset: u16,
) -> WindowFunction<<E::Type as ColumnType>::Nullable> {
    WindowFunction::new(WindowCall::Lag(value.into_node(), i32::from(offset)))
}

/// `LEAD(value)`: `value` in the row after this one in the window's
/// ordering; NULL for the last row.
pub fn lead<E: IntoExpr>(value: E) -> WindowFunction<<E::Type as ColumnType>::Nullable> {
    lead_by(value, 1)
}

/// `LEAD(value, offset)`: `value` in the row `offset` rows after this one.
pub fn lead_by<E: IntoExpr>(
    value: E,
    offset: u16,
) -> WindowFunction<<E::Type as ColumnType>::Nullable> {
    WindowFunction::new(WindowCall::Lead(value.into_node(), i32::from(offset)))
}
