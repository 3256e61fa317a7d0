//! Window functions: `ROW_NUMBER()`, `RANK()`, `DENSE_RANK()`, `LAG`,
//! `LEAD` and aggregates, each `OVER (PARTITION BY .. ORDER BY ..)`.

use core::fmt;
use core::marker::PhantomData;

use crate::query::aggregate::AggregateNode;
use crate::query::expr::{Expr, ExprNode};
use crate::query::lists::{ExprList, OrderingList};
use crate::query::order::OrderNode;

/// The window of a window function: `OVER (PARTITION BY .. ORDER BY ..)`.
/// Without a partition, the window spans every row of the select; without
/// an ordering, every row of the partition is a peer of every other.
///
/// Window functions belong in the projection and `ORDER BY`; anywhere else
/// building the statement fails with
/// [`BuildError::MisplacedAggregate`](crate::BuildError::MisplacedAggregate).
/// To filter on one (the top 3 per customer), project it in a
/// [`Cte`](crate::Cte) and filter the CTE's rows.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::functions::rank;
/// use tenancy_core::{BuildStatement, TenantId, Window, ident};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let by_total = Window::new()
///     .partition_by(Order::CUSTOMER_ID)
///     .order_by((Order::TOTAL.desc(), Order::ID.asc()));
/// let statement = Order::select(&tenant)
///     .columns((Order::ID, rank().over(by_total).alias(ident!("place"))))
///     .to_postgres()?;
/// assert!(statement.sql().starts_with(
///     r#"SELECT "orders"."id", RANK() OVER (PARTITION BY "orders"."customer_id" ORDER BY "orders"."total" DESC, "orders"."id" ASC) AS "place""#
/// ));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a window does nothing until a window function is computed over it"]
pub struct Window {
    pub(crate) partition: Vec<ExprNode>,
    pub(crate) order: Vec<OrderNode>,
}

impl Window {
    /// The window of every row: `OVER ()`.
    pub fn new() -> Self {
        Window::default()
    }

    /// `PARTITION BY <expressions>`: a column, an expression, or a tuple of
    /// them; repeated calls add to the list.
    pub fn partition_by(mut self, expressions: impl ExprList) -> Self {
        expressions.push_exprs(&mut self.partition);
        self
    }

    /// `ORDER BY <orderings>` inside the window: one [`Ordering`](crate::Ordering)
    /// (`Order::TOTAL.desc()`) or a tuple of them; repeated calls add to the
    /// list.
    pub fn order_by(mut self, orderings: impl OrderingList) -> Self {
        orderings.push_orderings(&mut self.order);
        self
    }
}

/// A function that exists only over a window (`RANK()`, `LAG(..)`, ...),
/// made by the functions in [`functions`](crate::functions). It becomes an
/// expression with [`over`](WindowFunction::over).
#[must_use = "a window function becomes an expression with `.over(window)`"]
pub struct WindowFunction<V> {
    call: WindowCall,
    _type: PhantomData<fn() -> V>,
}

impl<V> WindowFunction<V> {
    pub(crate) fn new(call: WindowCall) -> Self {
        WindowFunction {
            call,
            _type: PhantomData,
        }
    }

    /// `<function> OVER (<window>)`.
    pub fn over(self, window: Window) -> Expr<V> {
        Expr::new(ExprNode::Window(Box::new(WindowNode {
            call: self.call,
            window,
        })))
    }
}

impl<V> Clone for WindowFunction<V> {
    fn clone(&self) -> Self {
        WindowFunction::new(self.call.clone())
    }
}

impl<V> fmt::Debug for WindowFunction<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.call.fmt(f)
    }
}

/// A window function call and its window.
#[derive(Clone, Debug)]
pub struct WindowNode {
    pub(crate) call: WindowCall,
    pub(crate) window: Window,
}

/// What is computed over the window.
#[derive(Clone, Debug)]
pub enum WindowCall {
    /// `ROW_NUMBER()`
    RowNumber,
    /// `RANK()`
    Rank,
    /// `DENSE_RANK()`
    DenseRank,
    /// `LAG(value[, offset])`, `offset` bound; 1 is written without it.
    Lag(ExprNode, i32),
    /// `LEAD(value[, offset])`.
    Lead(ExprNode, i32),
    /// An aggregate over the window.
    Aggregate(AggregateNode),
}
