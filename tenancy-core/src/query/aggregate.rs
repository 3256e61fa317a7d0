//! Aggregates: `COUNT(*)`, `COUNT([DISTINCT] ..)`, `SUM`, `AVG`, `MIN` and
//! `MAX`, in a projection, `HAVING` or `ORDER BY`, or as window functions
//! with [`over`](Aggregate::over).

use core::fmt;
use core::marker::PhantomData;

use crate::meta::SqlType;
use crate::query::expr::{Expr, ExprNode};
use crate::query::window::{Window, WindowCall, WindowNode};

/// An aggregate over the rows of a group (or of the whole select, without
/// `GROUP BY`), whose value decodes into `V`.
///
/// Made by [`count_all`](crate::functions::count_all) and the aggregate
/// methods of columns and expressions ([`sum`](crate::Column::sum),
/// [`avg`](crate::Column::avg), [`min`](crate::Column::min),
/// [`max`](crate::Column::max), [`count`](crate::Column::count),
/// [`count_distinct`](crate::Column::count_distinct)). It has the methods
/// of an expression, so `HAVING COUNT(*) > 1` is
/// `.having(count_all().gt(1))`, and [`over`](Aggregate::over) makes it a
/// window function.
///
/// Aggregates belong in the projection, `HAVING` and `ORDER BY`: in a
/// `WHERE`, `ON`, `GROUP BY`, `SET` or `VALUES`, or inside another
/// aggregate, building the statement fails with
/// [`BuildError::MisplacedAggregate`](crate::BuildError::MisplacedAggregate).
#[must_use = "an aggregate does nothing until it is used in a statement"]
pub struct Aggregate<V> {
    node: AggregateNode,
    _type: PhantomData<fn() -> V>,
}

/// An aggregate with its type erased.
#[derive(Clone, Debug)]
pub struct AggregateNode {
    pub(crate) function: AggFunc,
    /// `None` is `*`.
    pub(crate) argument: Option<ExprNode>,
    pub(crate) distinct: bool,
    /// On PostgreSQL, the type its result is cast to, where PostgreSQL's
    /// own result type (`numeric`) is not the one the API promises.
    pub(crate) postgres_cast: Option<SqlType>,
}

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFunc {
    /// `COUNT`
    Count,
    /// `SUM`
    Sum,
    /// `AVG`
    Avg,
    /// `MIN`
    Min,
    /// `MAX`
    Max,
}

impl AggFunc {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            AggFunc::Count => "COUNT(",
            AggFunc::Sum => "SUM(",
            AggFunc::Avg => "AVG(",
            AggFunc::Min => "MIN(",
            AggFunc::Max => "MAX(",
        }
    }
}

impl<V> Aggregate<V> {
    pub(crate) fn of(
        function: AggFunc,
        argument: ExprNode,
        distinct: bool,
        postgres_cast: Option<SqlType>,
    ) -> Self {
        Aggregate::from_node(AggregateNode {
            function,
            argument: Some(argument),
            distinct,
            postgres_cast,
        })
    }

    pub(crate) fn from_node(node: AggregateNode) -> Self {
        Aggregate {
            node,
            _type: PhantomData,
        }
    }

    /// `<aggregate> OVER (<window>)`: the aggregate over the window's rows
    /// of each row (a running total, a share of a partition), one result
    /// per row instead of one per group.
    ///
    /// ```
    /// # include!("../../docs/doctest_setup.rs");
    /// # fn main() -> Result<(), tenancy_core::BuildError> {
    /// use tenancy_core::{BuildStatement, TenantId, Window, ident};
    ///
    /// let tenant = TenantId::<i64>::from_verified(7);
    /// let running = Order::TOTAL
    ///     .sum()
    ///     .over(Window::new().partition_by(Order::CUSTOMER_ID).order_by(Order::ID.asc()));
    /// let statement = Order::select(&tenant)
    ///     .columns((Order::ID, running.alias(ident!("running_total"))))
    ///     .to_sqlite()?;
    /// assert_eq!(
    ///     statement.sql(),
    ///     r#"SELECT "orders"."id", SUM("orders"."total") OVER (PARTITION BY "orders"."customer_id" ORDER BY "orders"."id" ASC) AS "running_total" FROM "main"."orders" WHERE "orders"."tenant_id" = ?"#
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn over(self, window: Window) -> Expr<V> {
        Expr::new(ExprNode::Window(Box::new(WindowNode {
            call: WindowCall::Aggregate(self.node),
            window,
        })))
    }
}

impl<V> Clone for Aggregate<V> {
    fn clone(&self) -> Self {
        Aggregate::from_node(self.node.clone())
    }
}

impl<V> fmt::Debug for Aggregate<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

impl<W> crate::query::expr::sealed::IntoNode for Aggregate<W> {
    fn into_node(self) -> ExprNode {
        ExprNode::Aggregate(Box::new(self.node))
    }
}
