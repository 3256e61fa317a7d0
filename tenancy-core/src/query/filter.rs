//! Filters: an owned predicate tree of our own.
//!
//! A filter names columns and values but no tenant. It is written only when
//! the statement that holds it is built, so every subquery inside it is
//! scoped with the tenant of that statement.

use core::ops::Not;

use sea_query::Value;

use crate::column::{AnyColumn, Column, ColumnRef};
use crate::meta::{ColumnType, Table};
use crate::query::subquery::{Subquery, SubqueryNode};

/// A predicate for `WHERE` and `ON` clauses, built from typed columns.
///
/// Filters are plain values: combine them with [`and`](Filter::and),
/// [`or`](Filter::or), [`not`](Filter::not) (or `!`), [`Filter::all`] and
/// [`Filter::any`], keep them in variables, pass them around. Whatever they
/// contain, the builder places the tenant predicate *beside* them, as a
/// separate top-level `AND` conjunct, so no filter can widen a statement
/// beyond its tenant.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, Filter, Select, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let open = Order::STATUS.eq("open").or(Order::STATUS.eq("pending"));
/// let sql = Select::<Order>::scoped(&tenant)
///     .filter(open.and(!Order::TOTAL.lt(100)))
///     .to_postgres()?
///     .into_parts()
///     .0;
/// assert!(sql.ends_with(
///     r#"WHERE "orders"."tenant_id" = $1 AND (("orders"."status" = $2 OR "orders"."status" = $3) AND (NOT "orders"."total" < $4))"#
/// ));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a filter does nothing until it is passed to a statement"]
pub struct Filter(pub(crate) Node);

/// The filter tree. Every column is resolved to its table; every value is
/// bound when rendered, never inlined.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Compare {
        column: ColumnRef,
        op: CompareOp,
        value: Value,
    },
    ColumnsEqual {
        left: ColumnRef,
        right: ColumnRef,
    },
    In {
        column: ColumnRef,
        values: Vec<Value>,
        negated: bool,
    },
    Between {
        column: ColumnRef,
        low: Value,
        high: Value,
    },
    Like {
        column: ColumnRef,
        pattern: Value,
        negated: bool,
    },
    Null {
        column: ColumnRef,
        negated: bool,
    },
    InSubquery {
        column: ColumnRef,
        subquery: SubqueryNode,
        negated: bool,
    },
    Exists {
        subquery: SubqueryNode,
        negated: bool,
    },
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Filter {
    /// True when every filter is: `a AND b AND ...`. With no filters, it is
    /// `TRUE`.
    ///
    /// ```
    /// # include!("../../docs/doctest_setup.rs");
    /// # fn main() {
    /// use tenancy_core::Filter;
    ///
    /// let filter = Filter::all([Order::STATUS.eq("open"), Order::TOTAL.gte(100)]);
    /// # let _ = filter;
    /// # }
    /// ```
    pub fn all(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Filter(Node::All(filters.into_iter().map(|f| f.0).collect()))
    }

    /// True when any filter is: `a OR b OR ...`. With no filters, it is
    /// `FALSE`.
    pub fn any(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Filter(Node::Any(filters.into_iter().map(|f| f.0).collect()))
    }

    /// `EXISTS (SELECT 1 FROM <U> WHERE <filter>)`. When `U` is
    /// tenant-scoped, the subquery is scoped with the tenant of the statement
    /// that embeds it. Correlate it with the outer table through
    /// [`Column::eq_col`].
    ///
    /// ```
    /// # include!("../../docs/doctest_setup.rs");
    /// # fn main() -> Result<(), tenancy_core::BuildError> {
    /// use tenancy_core::{BuildStatement, Filter, Select, TenantId};
    ///
    /// let tenant = TenantId::<i64>::from_verified(7);
    /// let has_orders = Filter::exists::<Order>(Order::CUSTOMER_ID.eq_col(Customer::ID));
    /// let sql = Select::<Customer>::scoped(&tenant).filter(has_orders).to_postgres()?.into_parts().0;
    /// assert!(sql.ends_with(
    ///     r#"WHERE "customers"."tenant_id" = $1 AND EXISTS(SELECT 1 FROM "public"."orders" WHERE "orders"."tenant_id" = $2 AND "orders"."customer_id" = "customers"."id")"#
    /// ));
    /// # Ok(())
    /// # }
    /// ```
    pub fn exists<U: Table>(filter: Filter) -> Filter {
        Filter(Node::Exists {
            subquery: SubqueryNode::exists(U::meta(), filter.0),
            negated: false,
        })
    }

    /// `NOT EXISTS (SELECT 1 FROM <U> WHERE <filter>)`, scoped like
    /// [`Filter::exists`].
    pub fn not_exists<U: Table>(filter: Filter) -> Filter {
        Filter(Node::Exists {
            subquery: SubqueryNode::exists(U::meta(), filter.0),
            negated: true,
        })
    }

    /// `self AND other`.
    pub fn and(self, other: Filter) -> Filter {
        Filter(match self.0 {
            Node::All(mut nodes) => {
                nodes.push(other.0);
                Node::All(nodes)
            }
            node => Node::All(vec![node, other.0]),
        })
    }

    /// `self OR other`.
    pub fn or(self, other: Filter) -> Filter {
        Filter(match self.0 {
            Node::Any(mut nodes) => {
                nodes.push(other.0);
                Node::Any(nodes)
            }
            node => Node::Any(vec![node, other.0]),
        })
    }

    /// `NOT self`; also written `!filter`.
    #[allow(clippy::should_implement_trait)] // it is implemented, too; this form chains
    pub fn not(self) -> Filter {
        Filter(Node::Not(Box::new(self.0)))
    }
}

impl Not for Filter {
    type Output = Filter;

    fn not(self) -> Filter {
        Filter::not(self)
    }
}

/// Text columns, which alone have `LIKE`.
pub trait TextColumn: ColumnType + sealed::Sealed {}
impl TextColumn for String {}
impl TextColumn for Option<String> {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for String {}
    impl Sealed for Option<String> {}
}

fn bind<V: ColumnType>(value: impl Into<V::Compare>) -> Value {
    value.into().into()
}

/// Filters on a column. The tenant column ([`TenantColumn`](crate::TenantColumn))
/// has none of these: its predicate is added by the builder, from the witness.
impl<T: Table, V: ColumnType> Column<T, V> {
    fn compare(self, op: CompareOp, value: Value) -> Filter {
        Filter(Node::Compare {
            column: self.column_ref(),
            op,
            value,
        })
    }

    /// `column = value`.
    pub fn eq(self, value: impl Into<V::Compare>) -> Filter {
        self.compare(CompareOp::Eq, bind::<V>(value))
    }

    /// `column <> value`.
    pub fn ne(self, value: impl Into<V::Compare>) -> Filter {
        self.compare(CompareOp::Ne, bind::<V>(value))
    }

    /// `column < value`.
    pub fn lt(self, value: impl Into<V::Compare>) -> Filter {
        self.compare(CompareOp::Lt, bind::<V>(value))
    }

    /// `column <= value`.
    pub fn lte(self, value: impl Into<V::Compare>) -> Filter {
        self.compare(CompareOp::Lte, bind::<V>(value))
    }

    /// `column > value`.
    pub fn gt(self, value: impl Into<V::Compare>) -> Filter {
        self.compare(CompareOp::Gt, bind::<V>(value))
    }

    /// `column >= value`.
    pub fn gte(self, value: impl Into<V::Compare>) -> Filter {
        self.compare(CompareOp::Gte, bind::<V>(value))
    }

    /// `column IN (values...)`; with no values, `FALSE`.
    pub fn is_in<I>(self, values: I) -> Filter
    where
        I: IntoIterator,
        I::Item: Into<V::Compare>,
    {
        self.in_list(values, false)
    }

    /// `column NOT IN (values...)`; with no values, `TRUE`.
    pub fn is_not_in<I>(self, values: I) -> Filter
    where
        I: IntoIterator,
        I::Item: Into<V::Compare>,
    {
        self.in_list(values, true)
    }

    fn in_list<I>(self, values: I, negated: bool) -> Filter
    where
        I: IntoIterator,
        I::Item: Into<V::Compare>,
    {
        Filter(Node::In {
            column: self.column_ref(),
            values: values.into_iter().map(bind::<V>).collect(),
            negated,
        })
    }

    /// `column BETWEEN low AND high` (both ends included).
    pub fn between(self, low: impl Into<V::Compare>, high: impl Into<V::Compare>) -> Filter {
        Filter(Node::Between {
            column: self.column_ref(),
            low: bind::<V>(low),
            high: bind::<V>(high),
        })
    }

    /// `column IS NULL`.
    pub fn is_null(self) -> Filter {
        self.null_check(false)
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(self) -> Filter {
        self.null_check(true)
    }

    fn null_check(self, negated: bool) -> Filter {
        Filter(Node::Null {
            column: self.column_ref(),
            negated,
        })
    }

    /// `column = other_column`, for join conditions and correlated
    /// subqueries. The columns may differ in nullability but not in type.
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
        Filter(Node::ColumnsEqual {
            left: self.column_ref(),
            right: other.column_ref(),
        })
    }

    /// `column IN (subquery)`.
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
    pub fn in_subquery<W: ColumnType<Compare = V::Compare>>(self, subquery: Subquery<W>) -> Filter {
        self.subquery_check(subquery, false)
    }

    /// `column NOT IN (subquery)`.
    pub fn not_in_subquery<W: ColumnType<Compare = V::Compare>>(
        self,
        subquery: Subquery<W>,
    ) -> Filter {
        self.subquery_check(subquery, true)
    }

    fn subquery_check<W>(self, subquery: Subquery<W>, negated: bool) -> Filter {
        Filter(Node::InSubquery {
            column: self.column_ref(),
            subquery: subquery.into_node(),
            negated,
        })
    }

    /// `SELECT column FROM <its table> WHERE filter`, for
    /// [`in_subquery`](Column::in_subquery). When the table is tenant-scoped,
    /// the subquery is scoped with the tenant of the statement that embeds it.
    pub fn subquery(self, filter: Filter) -> Subquery<V> {
        Subquery::new(SubqueryNode::column(T::meta(), self.name(), filter.0))
    }
}

/// Pattern matching, for text columns only.
impl<T: Table, V: TextColumn> Column<T, V> {
    /// `column LIKE pattern`; the pattern is bound, `%` and `_` are wildcards.
    pub fn like(self, pattern: impl Into<String>) -> Filter {
        self.like_check(pattern.into(), false)
    }

    /// `column NOT LIKE pattern`.
    pub fn not_like(self, pattern: impl Into<String>) -> Filter {
        self.like_check(pattern.into(), true)
    }

    fn like_check(self, pattern: String, negated: bool) -> Filter {
        Filter(Node::Like {
            column: self.column_ref(),
            pattern: pattern.into(),
            negated,
        })
    }
}
