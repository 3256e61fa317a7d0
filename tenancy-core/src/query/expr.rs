//! Typed expressions: arithmetic, functions, `CASE`, casts, scalar
//! subqueries, and the operand traits that say where a value, a column or
//! an expression may stand.
//!
//! An [`Expr<V>`] is typed by the Rust type `V` its value decodes into, so
//! `Order::TOTAL + 1` (a `BIGINT` column plus an integer) is an `Expr<i64>`
//! and `Order::STATUS + 1` does not compile. Like filters, expressions are
//! owned, type-erased trees underneath ([`ExprNode`]); they name columns
//! and bind values, never SQL text.

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Add, Div, Mul, Neg, Rem, Sub};

use sea_query::Value;

use crate::column::{Column, TenantColumn};
use crate::column_type::{Bind, ColumnType, Comparable, Numeric};
use crate::ident::Identifier;
use crate::meta::{SqlType, Table, TableMeta};
use crate::query::aggregate::{Aggregate, AggregateNode};
use crate::query::filter::Node;
use crate::query::select::SelectQuery;
use crate::query::window::WindowNode;

/// An SQL expression whose value decodes into `V`: a column, a bound
/// value, arithmetic, a function, `CASE`, a cast, a window function or a
/// scalar subquery.
///
/// Made from columns (`Order::TOTAL * 2`, `Order::NOTE.coalesce("")`), by
/// the functions in [`functions`](crate::functions), and by aggregates
/// (`Order::TOTAL.sum().over(..)`). It has the methods of a column:
/// comparisons into [`Filter`](crate::Filter)s, arithmetic, aggregates,
/// [`alias`](Expr::alias), [`asc`](Expr::asc)/[`desc`](Expr::desc). Every
/// value in it is a bound parameter, every name comes from metadata or an
/// [`Identifier`]; no API takes SQL text.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, Expr, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let doubled: Expr<i64> = Order::TOTAL * 2;
/// let statement = Order::update(&tenant)
///     .set(Order::TOTAL, doubled)
///     .filter(Order::TOTAL.lt(Order::TOTAL - 10 + 100))
///     .to_postgres()?;
/// assert_eq!(
///     statement.sql(),
///     r#"UPDATE "public"."orders" SET "total" = "orders"."total" * $1 WHERE "orders"."tenant_id" = $2 AND "orders"."total" < ("orders"."total" - $3) + $4"#
/// );
/// # Ok(())
/// # }
/// ```
#[must_use = "an expression does nothing until it is used in a statement"]
pub struct Expr<V> {
    pub(crate) node: ExprNode,
    _type: PhantomData<fn() -> V>,
}

impl<V> Expr<V> {
    pub(crate) fn new(node: ExprNode) -> Self {
        Expr {
            node,
            _type: PhantomData,
        }
    }
}

/// A column as an expression, for code that holds columns and expressions
/// alike: `let total: Expr<i64> = Order::TOTAL.into();`.
impl<T: Table, V> From<Column<T, V>> for Expr<V> {
    fn from(column: Column<T, V>) -> Self {
        Expr::new(column.into_node())
    }
}

impl<V> Clone for Expr<V> {
    fn clone(&self) -> Self {
        Expr::new(self.node.clone())
    }
}

impl<V> fmt::Debug for Expr<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

/// An expression with its type erased, as the writer walks it.
#[derive(Clone, Debug)]
pub enum ExprNode {
    /// `"<qualifier>"."<column>"`.
    Column(ColumnNode),
    /// A bound parameter.
    Value(Value),
    /// `<left> <op> <right>`.
    Binary(Box<BinaryNode>),
    /// `-(<operand>)`.
    Negate(Box<ExprNode>),
    /// `<function>(<arguments>)`.
    Call(Call, Vec<ExprNode>),
    /// The current timestamp (the transaction's, on PostgreSQL).
    Now,
    /// `CAST(<operand> AS <type>)`, the type named by the library.
    Cast(Box<ExprNode>, SqlType),
    /// `CASE WHEN .. THEN .. ELSE .. END`.
    Case(Box<CaseNode>),
    /// An aggregate: `COUNT(*)`, `SUM(..)`, ...
    Aggregate(Box<AggregateNode>),
    /// A window function call with its `OVER (..)`.
    Window(Box<WindowNode>),
    /// `(SELECT ..)`, one row and one column.
    Scalar(Box<SelectQuery>),
    /// `"excluded"."<column>"`: the row an upsert proposed.
    Excluded {
        /// The table inserted into.
        table: &'static TableMeta,
        /// The column.
        column: &'static str,
    },
}

/// A column of a table, an alias or a CTE.
#[derive(Clone, Debug)]
pub struct ColumnNode {
    /// The name of the table reference: the table's name, its alias, or a
    /// CTE's name.
    pub(crate) qualifier: Identifier,
    /// The column's name there.
    pub(crate) column: Identifier,
}

impl ColumnNode {
    pub(crate) fn of_table(table: &'static TableMeta, column: &'static str) -> Self {
        ColumnNode {
            qualifier: Identifier::from_metadata(table.name),
            column: Identifier::from_metadata(column),
        }
    }
}

/// `<left> <op> <right>`.
#[derive(Clone, Debug)]
pub struct BinaryNode {
    pub(crate) left: ExprNode,
    pub(crate) op: ArithOp,
    pub(crate) right: ExprNode,
}

/// An arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `->` of JSON: a member, as JSON (not arithmetic; it shares the
    /// parenthesising of binary operators).
    #[cfg(feature = "json")]
    JsonGet,
    /// `->>` of JSON: a member, as text.
    #[cfg(feature = "json")]
    JsonGetText,
}

impl ArithOp {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            ArithOp::Add => " + ",
            ArithOp::Sub => " - ",
            ArithOp::Mul => " * ",
            ArithOp::Div => " / ",
            ArithOp::Rem => " % ",
            #[cfg(feature = "json")]
            ArithOp::JsonGet => " -> ",
            #[cfg(feature = "json")]
            ArithOp::JsonGetText => " ->> ",
        }
    }
}

/// A scalar function the builder writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// `COALESCE(a, b)`
    Coalesce,
    /// `NULLIF(a, b)`
    NullIf,
    /// `lower(a)`
    Lower,
    /// `upper(a)`
    Upper,
}

impl Call {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Call::Coalesce => "COALESCE(",
            Call::NullIf => "NULLIF(",
            Call::Lower => "lower(",
            Call::Upper => "upper(",
        }
    }
}

/// `CASE WHEN <filter> THEN <expr> ... [ELSE <expr>] END`.
#[derive(Clone, Debug)]
pub struct CaseNode {
    pub(crate) branches: Vec<(Node, ExprNode)>,
    pub(crate) otherwise: Option<ExprNode>,
}

pub(crate) mod sealed {
    use super::ExprNode;

    /// Lowers an operand to its node.
    pub trait IntoNode {
        /// The node.
        fn into_node(self) -> ExprNode;
    }

    /// Lowers an operand where an expression of type `V` is expected:
    /// values are converted to `V`'s base type first, so they bind as it.
    pub trait LowerAs<V> {
        /// The node.
        fn lower_as(self) -> ExprNode;
    }

    /// Lowers the value assigned to a column of type `V`.
    pub trait AssignAs<V> {
        /// The node.
        fn assign_as(self) -> ExprNode;
    }
}

use sealed::{AssignAs, IntoNode, LowerAs};

/// A column, tenant column, expression or aggregate: what may be projected,
/// grouped by, partitioned by and ordered by. Values are not: bind one
/// with [`value`](crate::functions::value) to project it.
///
/// Sealed: only the library's column and expression types implement it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a column or an expression",
    label = "expected a column constant such as `Order::STATUS`, or an expression made from columns",
    note = "a value is projected with `tenancy_core::functions::value(..)`"
)]
pub trait Operand: IntoNode {}

/// An [`Operand`] the database can sort and match for equality: what
/// [`Select::group_by`](crate::Select::group_by),
/// [`Select::distinct_on`](crate::Select::distinct_on),
/// [`Window::partition_by`](crate::Window::partition_by) and
/// `order_by_asc`/`order_by_desc` take. A column, expression or aggregate
/// of a [`Comparable`] type, and the tenant column.
///
/// Not a `json` column ([`PlainJson`](crate::PlainJson)) nor an
/// expression of type `json` (`->` of one): PostgreSQL has no equality or
/// order for `json`, and a statement that groups or sorts by one fails
/// there. A member taken as text (`->>`, `.get_text(..)`) and `jsonb`
/// documents are orderable. Nor a column whose field type has a verbatim
/// `#[tenancy(sql_type = "..")]`: the builder cannot tell whether that type
/// has an order.
///
/// Sealed: only the library's column and expression types implement it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sorted, grouped or partitioned by",
    label = "expected a column or expression whose type has an equality and an order",
    note = "a `json` column or `->` member has none: use a member as text (`.get_text(\"key\")`, `->>`), or store the document as `jsonb`"
)]
pub trait Orderable: Operand {}

impl<T: Table, W> Orderable for Column<T, W>
where
    W: ColumnType,
    W::Compare: Comparable,
{
}
impl<W> Orderable for Expr<W>
where
    W: ColumnType,
    W::Compare: Comparable,
{
}
impl<W> Orderable for Aggregate<W>
where
    W: ColumnType,
    W::Compare: Comparable,
{
}
impl<T: Table> Orderable for TenantColumn<T> {}

/// A value, column, expression or aggregate that has a type of its own:
/// the first branch of [`case_when`](crate::functions::case_when) and
/// [`value`](crate::functions::value) take one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value or an expression",
    label = "expected a value, a column, or an expression",
    note = "values are integers, floats, booleans, strings, bytes, UUIDs and dates; columns are the constants of `#[tenant_scoped]` and `#[global_table]` structs"
)]
pub trait IntoExpr: IntoNode {
    /// The type of its value.
    type Type: ColumnType;
}

/// An operand where an expression of type `V` is expected: a value that
/// converts into `V`'s base type (bound as a parameter), or a column,
/// expression or aggregate of the same base type, nullable or not.
/// `Type` is its own type, from which the result's nullability follows.
///
/// Sealed: values, columns and expressions of the library only.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot stand where an expression of type `{V}` is expected",
    label = "expected a value, column or expression of type `{V}`",
    note = "operands of a comparison, of arithmetic, of `COALESCE` and of `CASE` must have the same base type; convert one with `.cast::<T>()` if that is what you mean"
)]
pub trait AsExpr<V: ColumnType>: LowerAs<V> {
    /// The operand's own type.
    type Type: ColumnType<Compare = V::Compare>;
}

/// What a column of type `V` may be set to, in an UPDATE, an INSERT or an
/// upsert's `DO UPDATE`: a value that converts into `V` (bound as a
/// parameter), or a column or expression of the same base type that is
/// nullable only if `V` is.
#[diagnostic::on_unimplemented(
    message = "a column of type `{V}` cannot be set to `{Self}`",
    label = "expected a value or expression of type `{V}`",
    note = "a NOT NULL column can only be set to an expression that cannot be NULL: `.coalesce(..)` gives it a default"
)]
pub trait Assign<V: ColumnType>: AssignAs<V> {}

// ---- values -----------------------------------------------------------

/// A bound value of a column of `sql_type`: the placeholder alone, or cast
/// to the column's type where the value binds as another: an enum by the
/// type's checked name (PostgreSQL compares no enum with text), `json`,
/// `cidr` and `interval` (bound as `jsonb`, `inet` and text).
pub(crate) fn value_node(sql_type: SqlType, value: Value) -> ExprNode {
    match sql_type {
        SqlType::Enum(_) | SqlType::Json | SqlType::Cidr | SqlType::Interval => {
            ExprNode::Cast(Box::new(ExprNode::Value(value)), sql_type)
        }
        _ => ExprNode::Value(value),
    }
}

impl<X: Bind> IntoNode for X {
    fn into_node(self) -> ExprNode {
        value_node(<X::Type as ColumnType>::SQL_TYPE, self.bind_value())
    }
}

impl<X: Bind> IntoExpr for X {
    type Type = X::Type;
}

impl<V: ColumnType, X: Bind + Into<V::Compare>> LowerAs<V> for X {
    fn lower_as(self) -> ExprNode {
        value_node(V::SQL_TYPE, self.into().into_value())
    }
}

impl<V: ColumnType, X: Bind + Into<V::Compare>> AsExpr<V> for X {
    type Type = V::Compare;
}

impl<V: ColumnType, X: Bind + Into<V>> AssignAs<V> for X {
    fn assign_as(self) -> ExprNode {
        value_node(V::SQL_TYPE, self.into().into_value())
    }
}

impl<V: ColumnType, X: Bind + Into<V>> Assign<V> for X {}

// ---- columns, expressions and aggregates --------------------------------

/// The operand traits for a column-like type `$ty` with value type `W`.
macro_rules! operand_impls {
    ($([$($generics:tt)*] $ty:ty;)*) => {$(
        impl<$($generics)*> IntoExpr for $ty
        where
            W: ColumnType,
        {
            type Type = W;
        }

        impl<V, $($generics)*> LowerAs<V> for $ty {
            fn lower_as(self) -> ExprNode {
                self.into_node()
            }
        }

        #[diagnostic::do_not_recommend]
        impl<V: ColumnType, $($generics)*> AsExpr<V> for $ty
        where
            W: ColumnType<Compare = V::Compare>,
        {
            type Type = W;
        }

        impl<V, $($generics)*> AssignAs<V> for $ty {
            fn assign_as(self) -> ExprNode {
                self.into_node()
            }
        }

        #[diagnostic::do_not_recommend]
        impl<V, $($generics)*> Assign<V> for $ty
        where
            W: ColumnType<Compare = V::Compare>,
            V: ColumnType<Or<W> = V>,
        {
        }
    )*};
}

operand_impls! {
    [T: Table, W] Column<T, W>;
    [W] Expr<W>;
    [W] Aggregate<W>;
}

impl<T: Table, W> Operand for Column<T, W> {}
impl<W> Operand for Expr<W> {}
impl<W> Operand for Aggregate<W> {}

impl<T: Table, W> IntoNode for Column<T, W> {
    fn into_node(self) -> ExprNode {
        ExprNode::Column(ColumnNode::of_table(T::meta(), self.name()))
    }
}

impl<W> IntoNode for Expr<W> {
    fn into_node(self) -> ExprNode {
        self.node
    }
}

/// The tenant column can be projected, grouped and ordered by (across
/// tenants, `GROUP BY tenant_id` is how usage per tenant is counted), but
/// it is not an operand of comparisons or arithmetic: its predicate comes
/// from the witness.
impl<T: Table> IntoNode for TenantColumn<T> {
    fn into_node(self) -> ExprNode {
        ExprNode::Column(ColumnNode::of_table(T::meta(), self.name()))
    }
}

impl<T: Table> Operand for TenantColumn<T> {}

// ---- arithmetic -------------------------------------------------------------

/// `+ - * / %` and unary `-` on numeric columns and expressions. The result
/// is NULL when either operand may be; integer division truncates, and
/// dividing by zero is an error on PostgreSQL and NULL on SQLite.
macro_rules! arithmetic {
    ($([$($generics:tt)*] $ty:ty;)*) => {$(
        arithmetic!(@op [$($generics)*] $ty, Add, add, Add);
        arithmetic!(@op [$($generics)*] $ty, Sub, sub, Sub);
        arithmetic!(@op [$($generics)*] $ty, Mul, mul, Mul);
        arithmetic!(@op [$($generics)*] $ty, Div, div, Div);
        arithmetic!(@op [$($generics)*] $ty, Rem, rem, Rem);

        impl<$($generics)*> Neg for $ty
        where
            V: ColumnType,
            V::Compare: Numeric,
        {
            type Output = Expr<V>;

            fn neg(self) -> Expr<V> {
                Expr::new(ExprNode::Negate(Box::new(self.into_node())))
            }
        }
    )*};
    (@op [$($generics:tt)*] $ty:ty, $trait:ident, $method:ident, $op:ident) => {
        impl<R, $($generics)*> $trait<R> for $ty
        where
            V: ColumnType,
            V::Compare: Numeric,
            R: AsExpr<V>,
        {
            type Output = Expr<V::Or<R::Type>>;

            fn $method(self, right: R) -> Self::Output {
                binary(self.into_node(), ArithOp::$op, right.lower_as())
            }
        }
    };
}

arithmetic! {
    [T: Table, V] Column<T, V>;
    [V] Expr<V>;
    [V] Aggregate<V>;
}

fn binary<V>(left: ExprNode, op: ArithOp, right: ExprNode) -> Expr<V> {
    Expr::new(ExprNode::Binary(Box::new(BinaryNode { left, op, right })))
}

// ---- CASE -------------------------------------------------------------------

/// `CASE WHEN .. THEN .. END` being built: made by
/// [`case_when`](crate::functions::case_when), ended by
/// [`otherwise`](Case::otherwise) (with `ELSE`) or [`end`](Case::end)
/// (without, so NULL when no branch matches).
#[must_use = "a CASE becomes an expression with `.otherwise(..)` or `.end()`"]
pub struct Case<V> {
    node: CaseNode,
    _type: PhantomData<fn() -> V>,
}

impl<V: ColumnType> Case<V> {
    pub(crate) fn first(condition: Node, then: ExprNode) -> Self {
        Case {
            node: CaseNode {
                branches: vec![(condition, then)],
                otherwise: None,
            },
            _type: PhantomData,
        }
    }

    /// Another `WHEN <condition> THEN <then>`, tried after the earlier ones.
    pub fn when<R: AsExpr<V>>(mut self, condition: crate::Filter, then: R) -> Case<V::Or<R::Type>> {
        self.node.branches.push((condition.0, then.lower_as()));
        Case {
            node: self.node,
            _type: PhantomData,
        }
    }

    /// `ELSE <otherwise> END`: the value when no branch matches.
    pub fn otherwise<R: AsExpr<V>>(mut self, otherwise: R) -> Expr<V::Or<R::Type>> {
        self.node.otherwise = Some(otherwise.lower_as());
        Expr::new(ExprNode::Case(Box::new(self.node)))
    }

    /// `END` without `ELSE`: NULL when no branch matches.
    pub fn end(self) -> Expr<V::Nullable> {
        Expr::new(ExprNode::Case(Box::new(self.node)))
    }
}

impl<V> Clone for Case<V> {
    fn clone(&self) -> Self {
        Case {
            node: self.node.clone(),
            _type: PhantomData,
        }
    }
}

impl<V> fmt::Debug for Case<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}
