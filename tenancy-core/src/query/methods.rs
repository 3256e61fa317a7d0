//! The methods of columns, expressions and aggregates: comparisons into
//! filters, functions, aggregates, aliases and orderings.
//!
//! [`Column`], [`Expr`] and [`Aggregate`] share these methods; each is
//! written once here and the `expression_methods!` macro gives it to the
//! three types, so a column and an expression of the same type can be used
//! alike. The tenant column has none of them: its predicate comes from the
//! witness.

use crate::column::Column;
use crate::column_type::{Bind, ColumnType, Comparable, Numeric, Ordered, TextColumn};
use crate::ident::Identifier;
use crate::meta::Table;
use crate::query::aggregate::{AggFunc, Aggregate};

use crate::query::expr::sealed::IntoNode;
use crate::query::expr::{AsExpr, Call, Expr, ExprNode, value_node};
use crate::query::filter::{CompareOp, Filter, Node};
use crate::query::order::{Aliased, Ordering};
use crate::query::subquery::Subquery;

/// Gives the methods in the block to `Column<T, V>` (for every table `T`),
/// `Expr<V>` and `Aggregate<V>`, under the block's bounds on `V`.
macro_rules! expression_methods {
    (where [$($bounds:tt)*] { $($items:tt)* }) => {
        impl<T: Table, V> Column<T, V> where $($bounds)* { $($items)* }
        impl<V> Expr<V> where $($bounds)* { $($items)* }
        impl<V> Aggregate<V> where $($bounds)* { $($items)* }
    };
}

/// Gives the methods in the block to `Column<T, V>` and `Expr<V>`: those
/// that would nest an aggregate in an aggregate are not given to
/// `Aggregate<V>`.
macro_rules! row_expression_methods {
    (where [$($bounds:tt)*] { $($items:tt)* }) => {
        impl<T: Table, V> Column<T, V> where $($bounds)* { $($items)* }
        impl<V> Expr<V> where $($bounds)* { $($items)* }
    };
}

fn compare<V: ColumnType>(left: ExprNode, op: CompareOp, right: impl AsExpr<V>) -> Filter {
    Filter(Node::Compare {
        left,
        op,
        right: right.lower_as(),
    })
}

fn in_list<V: ColumnType, I>(expr: ExprNode, values: I, negated: bool) -> Filter
where
    I: IntoIterator,
    I::Item: Into<V::Compare>,
{
    Filter(Node::In {
        expr,
        values: values
            .into_iter()
            .map(|value| value_node(V::SQL_TYPE, value.into().into_value()))
            .collect(),
        negated,
    })
}

fn call<V>(call: Call, arguments: Vec<ExprNode>) -> Expr<V> {
    Expr::new(ExprNode::Call(call, arguments))
}

// Comparisons, which take a value, a column or an expression of the same
// base type: `Order::TOTAL.gt(100)`, `Order::TOTAL.gt(Order::PAID)`,
// `Order::TOTAL.gt(Order::PAID * 2)`.
expression_methods! {
    where [V: ColumnType] {
        /// `self = other`.
        pub fn eq(self, other: impl AsExpr<V>) -> Filter
        where
            V::Compare: Comparable,
        {
            compare(self.into_node(), CompareOp::Eq, other)
        }

        /// `self <> other`.
        pub fn ne(self, other: impl AsExpr<V>) -> Filter
        where
            V::Compare: Comparable,
        {
            compare(self.into_node(), CompareOp::Ne, other)
        }

        /// `self < other`.
        pub fn lt(self, other: impl AsExpr<V>) -> Filter
        where
            V::Compare: Comparable,
        {
            compare(self.into_node(), CompareOp::Lt, other)
        }

        /// `self <= other`.
        pub fn lte(self, other: impl AsExpr<V>) -> Filter
        where
            V::Compare: Comparable,
        {
            compare(self.into_node(), CompareOp::Lte, other)
        }

        /// `self > other`.
        pub fn gt(self, other: impl AsExpr<V>) -> Filter
        where
            V::Compare: Comparable,
        {
            compare(self.into_node(), CompareOp::Gt, other)
        }

        /// `self >= other`.
        pub fn gte(self, other: impl AsExpr<V>) -> Filter
        where
            V::Compare: Comparable,
        {
            compare(self.into_node(), CompareOp::Gte, other)
        }

        /// `self IN (values...)`, each value bound. With no values it is
        /// false for every row, NULL included, written as `(self IS NULL AND
        /// self IS NOT NULL)`: a constant `FALSE` would be folded with the
        /// tenant predicate beside it, and Citus could not route the
        /// statement by its tenant.
        pub fn is_in<I>(self, values: I) -> Filter
        where
            V::Compare: Comparable,
            I: IntoIterator,
            I::Item: Into<V::Compare>,
        {
            in_list::<V, I>(self.into_node(), values, false)
        }

        /// `self NOT IN (values...)`; with no values, true for every row,
        /// written as `(self IS NULL OR self IS NOT NULL)`.
        pub fn is_not_in<I>(self, values: I) -> Filter
        where
            V::Compare: Comparable,
            I: IntoIterator,
            I::Item: Into<V::Compare>,
        {
            in_list::<V, I>(self.into_node(), values, true)
        }

        /// `self BETWEEN low AND high` (both ends included).
        pub fn between(self, low: impl AsExpr<V>, high: impl AsExpr<V>) -> Filter
        where
            V::Compare: Comparable,
        {
            Filter(Node::Between {
                expr: self.into_node(),
                low: low.lower_as(),
                high: high.lower_as(),
            })
        }

        /// `self IN (subquery)`.
        ///
        /// ```
        /// # include!("../../docs/doctest_setup.rs");
        /// # fn main() -> Result<(), tenancy_core::BuildError> {
        /// use tenancy_core::{BuildStatement, Select, TenantId};
        ///
        /// let tenant = TenantId::<i64>::from_verified(7);
        /// let vip = Customer::ID.subquery(Customer::NAME.like("VIP %"));
        /// let sql = Select::<Order>::scoped(&tenant)
        ///     .filter(Order::CUSTOMER_ID.in_subquery(vip))
        ///     .to_postgres()?
        ///     .into_parts()
        ///     .0;
        /// assert!(sql.ends_with(
        ///     r#"WHERE "orders"."tenant_id" = $1 AND "orders"."customer_id" IN (SELECT "customers"."id" FROM "public"."customers" WHERE "customers"."tenant_id" = $2 AND "customers"."name" LIKE $3)"#
        /// ));
        /// # Ok(())
        /// # }
        /// ```
        pub fn in_subquery<W: ColumnType<Compare = V::Compare>>(self, subquery: Subquery<W>) -> Filter
        where
            V::Compare: Comparable,
        {
            Filter(Node::in_subquery(self.into_node(), subquery, false))
        }

        /// `self NOT IN (subquery)`.
        pub fn not_in_subquery<W: ColumnType<Compare = V::Compare>>(
            self,
            subquery: Subquery<W>,
        ) -> Filter
        where
            V::Compare: Comparable,
        {
            Filter(Node::in_subquery(self.into_node(), subquery, true))
        }

        /// `NULLIF(self, other)`: NULL where `self` equals `other`, else
        /// `self`.
        pub fn nullif(self, other: impl AsExpr<V>) -> Expr<V::Nullable>
        where
            V::Compare: Comparable,
        {
            call(Call::NullIf, vec![self.into_node(), other.lower_as()])
        }
    }
}

// Functions and casts, for every column type.
expression_methods! {
    where [V: ColumnType] {
        /// `COALESCE(self, other)`: `other` where `self` is NULL. The result
        /// is NULL only if both may be, so a nullable column coalesced with
        /// a value is not nullable.
        ///
        /// ```
        /// # include!("../../docs/doctest_setup.rs");
        /// # fn main() {
        /// use tenancy_core::Expr;
        ///
        /// let region: Expr<String> = Customer::REGION.coalesce("unknown");
        /// # let _ = region;
        /// # }
        /// ```
        pub fn coalesce<R: AsExpr<V>>(self, other: R) -> Expr<V::Coalesce<R::Type>> {
            call(Call::Coalesce, vec![self.into_node(), other.lower_as()])
        }

        /// `CAST(self AS <B's SQL type>)`: the type name is the library's
        /// own for `B` in the statement's dialect, never text of the
        /// caller's. NULL stays NULL; a value the database cannot convert
        /// (`'abc'` to an integer) is an error from the database.
        ///
        /// ```
        /// # include!("../../docs/doctest_setup.rs");
        /// # fn main() -> Result<(), tenancy_core::BuildError> {
        /// use tenancy_core::{BuildStatement, TenantId};
        ///
        /// let tenant = TenantId::<i64>::from_verified(7);
        /// let statement = Order::select(&tenant)
        ///     .column((Order::TOTAL.cast::<f64>() / 100.0).alias(tenancy_core::ident!("euros")))
        ///     .to_postgres()?;
        /// assert!(statement.sql().starts_with(
        ///     r#"SELECT CAST("orders"."total" AS DOUBLE PRECISION) / $1 AS "euros""#
        /// ));
        /// # Ok(())
        /// # }
        /// ```
        pub fn cast<B: ColumnType<Compare = B> + Bind>(self) -> Expr<V::Rebase<B>> {
            Expr::new(ExprNode::Cast(Box::new(self.into_node()), B::SQL_TYPE))
        }
    }
}

// Tests and names, for columns of any type (those read through
// `#[tenancy(sql_type = "..")]` included).
expression_methods! {
    where [] {
        /// `self IS NULL`.
        pub fn is_null(self) -> Filter {
            Filter(Node::Null {
                expr: self.into_node(),
                negated: false,
            })
        }

        /// `self IS NOT NULL`.
        pub fn is_not_null(self) -> Filter {
            Filter(Node::Null {
                expr: self.into_node(),
                negated: true,
            })
        }

        /// `self AS "<alias>"`, for a projection: rows decode by the alias
        /// into `FromRow` structs, and the alias can be ordered by
        /// ([`Aliased::desc`]) and read from a CTE ([`Cte::col`](crate::Cte::col)).
        /// The alias is an [`Identifier`]: checked when the program is
        /// compiled with [`ident!`](crate::ident!), or at run time with
        /// [`Identifier::new`].
        pub fn alias(self, alias: Identifier) -> Aliased<V> {
            Aliased::new(self.into_node(), alias)
        }

    }
}

// Orderings, for columns and expressions whose type has an order: not
// `json`, nor a column of a verbatim `sql_type`. The bounds are on the
// methods, so that ordering a `json` column says why.
expression_methods! {
    where [] {
        /// `self ASC`, for `ORDER BY` and windows.
        pub fn asc(self) -> Ordering
        where
            V: ColumnType,
            V::Compare: Comparable,
        {
            Ordering::of(self.into_node(), false)
        }

        /// `self DESC`, for `ORDER BY` and windows.
        pub fn desc(self) -> Ordering
        where
            V: ColumnType,
            V::Compare: Comparable,
        {
            Ordering::of(self.into_node(), true)
        }
    }
}

// Text. The bounds are on the methods, so that calling one on a column of
// another type says why instead of that the method exists elsewhere.
expression_methods! {
    where [] {
        /// `self LIKE pattern`; the pattern is bound, `%` and `_` are wildcards.
        pub fn like(self, pattern: impl Into<String>) -> Filter
        where
            V: TextColumn,
        {
            Filter(Node::Like {
                expr: self.into_node(),
                pattern: pattern.into().into(),
                negated: false,
            })
        }

        /// `self NOT LIKE pattern`.
        pub fn not_like(self, pattern: impl Into<String>) -> Filter
        where
            V: TextColumn,
        {
            Filter(Node::Like {
                expr: self.into_node(),
                pattern: pattern.into().into(),
                negated: true,
            })
        }

        /// `lower(self)`.
        pub fn lower(self) -> Expr<V>
        where
            V: TextColumn,
        {
            call(Call::Lower, vec![self.into_node()])
        }

        /// `upper(self)`.
        pub fn upper(self) -> Expr<V>
        where
            V: TextColumn,
        {
            call(Call::Upper, vec![self.into_node()])
        }
    }
}

// Aggregates of a column or a row expression.
row_expression_methods! {
    where [] {
        /// `COUNT(self)`: the rows where `self` is not NULL.
        pub fn count(self) -> Aggregate<i64> {
            Aggregate::of(AggFunc::Count, self.into_node(), false, None)
        }

        /// `COUNT(DISTINCT self)`: the distinct values of `self`, NULL not
        /// counted. Not of a `json` value, which has no equality.
        pub fn count_distinct(self) -> Aggregate<i64>
        where
            V: ColumnType,
            V::Compare: Comparable,
        {
            Aggregate::of(AggFunc::Count, self.into_node(), true, None)
        }
    }
}

row_expression_methods! {
    where [] {
        /// `SUM(self)`, NULL when there are no rows (or only NULLs).
        ///
        /// The result type is the type's [`Numeric::Sum`]: `i64` for
        /// integers. PostgreSQL sums a `BIGINT` into a `numeric`, so there
        /// the builder writes `CAST(SUM(..) AS BIGINT)`: a sum beyond the
        /// range of `i64` is an error, not a wrong number.
        // `S` is `Numeric::Sum`, named in a bound rather than projected in the
        // signature, so that summing text says that text is not numeric.
        pub fn sum<S>(self) -> Aggregate<Option<S>>
        where
            V: ColumnType,
            V::Compare: Numeric<Sum = S>,
            S: ColumnType<Compare = S>,
        {
            let cast = <V::Compare as Numeric>::CAST_SUM.then_some(S::SQL_TYPE);
            Aggregate::of(AggFunc::Sum, self.into_node(), false, cast)
        }

        /// `AVG(self)`, NULL when there are no rows: an `f64` for every
        /// numeric type (PostgreSQL's `numeric` average of integers is cast
        /// to `DOUBLE PRECISION`).
        pub fn avg<A>(self) -> Aggregate<Option<A>>
        where
            V: ColumnType,
            V::Compare: Numeric<Avg = A>,
            A: ColumnType<Compare = A>,
        {
            let cast = <V::Compare as Numeric>::CAST_AVG.then_some(A::SQL_TYPE);
            Aggregate::of(AggFunc::Avg, self.into_node(), false, cast)
        }

        /// `MIN(self)`, NULL when there are no rows.
        pub fn min(self) -> Aggregate<V::Nullable>
        where
            V: ColumnType,
            V::Compare: Ordered,
        {
            Aggregate::of(AggFunc::Min, self.into_node(), false, None)
        }

        /// `MAX(self)`, NULL when there are no rows.
        pub fn max(self) -> Aggregate<V::Nullable>
        where
            V: ColumnType,
            V::Compare: Ordered,
        {
            Aggregate::of(AggFunc::Max, self.into_node(), false, None)
        }
    }
}

/// Aggregates refuse to be aggregated, with a message that says so. Without
/// these, `count_all().max()` would resolve to `Ord::max` and rustc would
/// report that an aggregate "is not an iterator". Written out, not
/// generated, so the error drags no macro along.
#[doc(hidden)]
impl<V> Aggregate<V> {
    pub fn count(self) -> Aggregate<i64>
    where
        Self: refused::AggregateOfAggregate,
    {
        refused::AggregateOfAggregate::refuse(self)
    }

    pub fn count_distinct(self) -> Aggregate<i64>
    where
        Self: refused::AggregateOfAggregate,
    {
        refused::AggregateOfAggregate::refuse(self)
    }

    pub fn sum(self) -> Aggregate<i64>
    where
        Self: refused::AggregateOfAggregate,
    {
        refused::AggregateOfAggregate::refuse(self)
    }

    pub fn avg(self) -> Aggregate<i64>
    where
        Self: refused::AggregateOfAggregate,
    {
        refused::AggregateOfAggregate::refuse(self)
    }

    pub fn min(self) -> Aggregate<i64>
    where
        Self: refused::AggregateOfAggregate,
    {
        refused::AggregateOfAggregate::refuse(self)
    }

    pub fn max(self) -> Aggregate<i64>
    where
        Self: refused::AggregateOfAggregate,
    {
        refused::AggregateOfAggregate::refuse(self)
    }
}

mod refused {
    /// Never implemented: SQL has no aggregate of an aggregate.
    #[diagnostic::on_unimplemented(
        message = "an aggregate cannot be aggregated",
        label = "this is an aggregate already",
        note = "SQL has no aggregate of an aggregate: aggregate the column or expression itself, or compute over the aggregates' rows with `.over(window)` or in a CTE"
    )]
    pub trait AggregateOfAggregate {
        fn refuse(self) -> crate::query::aggregate::Aggregate<i64>;
    }
}

/// What only a column of a table has.
impl<T: Table, V: ColumnType> Column<T, V>
where
    V::Compare: Comparable,
{
    /// `column = other_column`, for join conditions and correlated
    /// subqueries: the same as [`eq`](Column::eq) with a column. The
    /// columns may differ in nullability but not in type.
    ///
    /// ```
    /// # include!("../../docs/doctest_setup.rs");
    /// # fn main() {
    /// let on = Customer::ID.eq_col(Order::CUSTOMER_ID);
    /// # let _ = on;
    /// # }
    /// ```
    pub fn eq_col<U: Table, W: ColumnType<Compare = V::Compare>>(
        self,
        other: Column<U, W>,
    ) -> Filter {
        self.eq(other)
    }
}

/// What only a column of a table has.
impl<T: Table, V: ColumnType> Column<T, V> {
    /// `SELECT column FROM <its table> WHERE filter`, for
    /// [`in_subquery`](Column::in_subquery). When the table is tenant-scoped,
    /// the subquery is scoped with the tenant of the statement that embeds it.
    pub fn subquery(self, filter: Filter) -> Subquery<V> {
        Subquery::column(T::meta(), self.into_node(), filter.0)
    }

    /// `"excluded"."<column>"`: the value the conflicting row of an upsert
    /// proposed, for [`DoUpdate::set`](crate::DoUpdate::set). Anywhere else,
    /// building the statement fails with [`BuildError::ExcludedOutsideUpsert`](crate::BuildError::ExcludedOutsideUpsert).
    pub fn excluded(self) -> Expr<V> {
        Expr::new(ExprNode::Excluded {
            table: T::meta(),
            column: self.name(),
        })
    }
}

mod postgres_types;
