//! Filters: an owned predicate tree of our own.
//!
//! A filter names columns, expressions and values but no tenant. It is
//! written only when the statement that holds it is built, so every
//! subquery inside it is scoped with the tenant of that statement.

use core::ops::Not;

use sea_query::Value;

use crate::meta::Table;
use crate::query::expr::ExprNode;
use crate::query::select::SelectQuery;
use crate::query::subquery::Subquery;

/// A predicate for `WHERE`, `ON` and `HAVING` clauses and `CASE WHEN`,
/// built from typed columns and expressions.
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

/// The filter tree. Every column is resolved to its table reference; every
/// value is bound when rendered, never inlined.
#[derive(Clone, Debug)]
pub enum Node {
    /// `<left> <op> <right>`.
    Compare {
        /// The left operand.
        left: ExprNode,
        /// The comparison.
        op: CompareOp,
        /// The right operand.
        right: ExprNode,
    },
    /// `<expr> [NOT] IN (<values>)`.
    In {
        /// The tested expression.
        expr: ExprNode,
        /// The bound values (each cast where its type needs it).
        values: Vec<ExprNode>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `<expr> BETWEEN <low> AND <high>`.
    Between {
        /// The tested expression.
        expr: ExprNode,
        /// The low end, included.
        low: ExprNode,
        /// The high end, included.
        high: ExprNode,
    },
    /// `<expr> [NOT] LIKE <pattern>`.
    Like {
        /// The tested expression.
        expr: ExprNode,
        /// The bound pattern.
        pattern: Value,
        /// `NOT LIKE`.
        negated: bool,
    },
    /// `<expr> IS [NOT] NULL`.
    Null {
        /// The tested expression.
        expr: ExprNode,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `<expr> [NOT] IN (<subquery>)`.
    InSubquery {
        /// The tested expression.
        expr: ExprNode,
        /// The one-column subquery.
        subquery: Box<SelectQuery>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `[NOT] EXISTS(<subquery>)`.
    Exists {
        /// The subquery.
        subquery: Box<SelectQuery>,
        /// `NOT EXISTS`.
        negated: bool,
    },
    /// `a AND b AND ...`.
    All(Vec<Node>),
    /// `a OR b OR ...`.
    Any(Vec<Node>),
    /// `NOT a`.
    Not(Box<Node>),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `@>` of `jsonb`: the left document contains the right one.
    JsonContains,
    /// `?` of `jsonb`: the right key is a member of the left object.
    JsonHasKey,
    /// `<<` of `inet`: strictly within the right network.
    Within,
    /// `<<=` of `inet`: within the right network or equal to it.
    WithinOrEqual,
    /// `>>` of `inet`: strictly contains the right address or network.
    Encloses,
    /// `>>=` of `inet`: contains the right address or network, or equals it.
    EnclosesOrEqual,
    /// `@>` of arrays: the left array holds every element of the right one.
    ArrayContains,
    /// `<left> = ANY(<right>)`: the right array has the left element.
    EqAny,
}

impl CompareOp {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            CompareOp::Eq => " = ",
            CompareOp::Ne => " <> ",
            CompareOp::Lt => " < ",
            CompareOp::Lte => " <= ",
            CompareOp::Gt => " > ",
            CompareOp::Gte => " >= ",
            CompareOp::JsonContains | CompareOp::ArrayContains => " @> ",
            CompareOp::JsonHasKey => " ? ",
            CompareOp::Within => " << ",
            CompareOp::WithinOrEqual => " <<= ",
            CompareOp::Encloses => " >> ",
            CompareOp::EnclosesOrEqual => " >>= ",
            CompareOp::EqAny => " = ANY(",
        }
    }

    /// The operator's name where only PostgreSQL has it.
    pub(crate) fn postgres_only(self) -> Option<&'static str> {
        match self {
            CompareOp::Eq
            | CompareOp::Ne
            | CompareOp::Lt
            | CompareOp::Lte
            | CompareOp::Gt
            | CompareOp::Gte => None,
            CompareOp::JsonContains => Some("the JSON operator `@>`"),
            CompareOp::JsonHasKey => Some("the JSON operator `?`"),
            CompareOp::Within
            | CompareOp::WithinOrEqual
            | CompareOp::Encloses
            | CompareOp::EnclosesOrEqual => Some("a network containment operator"),
            CompareOp::ArrayContains => Some("the array operator `@>`"),
            CompareOp::EqAny => Some("`= ANY(array)`"),
        }
    }
}

impl Filter {
    /// True when every filter is: `a AND b AND ...`. With no filters, it is
    /// true for every row; in a `WHERE` or `ON` it is written as `(t.tenant
    /// IS NULL OR t.tenant IS NOT NULL)` on the tenant column of the first
    /// tenant-scoped table there, so that its negation is no constant
    /// `FALSE` either (see [`Filter::any`]), elsewhere as `TRUE`.
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
    /// false for every row (and its negation true, NULLs included).
    ///
    /// In a `WHERE` or `ON` an empty `any` is written as `(t.tenant IS NULL
    /// AND t.tenant IS NOT NULL)` on the tenant column of the first
    /// tenant-scoped table there, as an empty `is_in`
    /// list is: PostgreSQL folds a constant `FALSE` together with the tenant
    /// predicate beside it, and Citus then refuses the statement (an outer
    /// join's `ON`, a correlated `NOT EXISTS`) rather than route it to the
    /// tenant's worker. In a `HAVING` or a `CASE WHEN` it is `FALSE`.
    ///
    /// ```
    /// # include!("../../docs/doctest_setup.rs");
    /// # fn main() -> Result<(), tenancy_core::BuildError> {
    /// use tenancy_core::{BuildStatement, Filter, Select, TenantId};
    ///
    /// let tenant = TenantId::<i64>::from_verified(7);
    /// let statuses: Vec<Filter> = Vec::new();
    /// let sql = Select::<Order>::scoped(&tenant)
    ///     .filter(Filter::any(statuses))
    ///     .to_postgres()?
    ///     .into_parts()
    ///     .0;
    /// assert!(sql.ends_with(
    ///     r#"WHERE "orders"."tenant_id" = $1 AND ("orders"."tenant_id" IS NULL AND "orders"."tenant_id" IS NOT NULL)"#
    /// ));
    /// # Ok(())
    /// # }
    /// ```
    pub fn any(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Filter(Node::Any(filters.into_iter().map(|f| f.0).collect()))
    }

    /// `EXISTS (SELECT 1 FROM <U> WHERE <filter>)`. When `U` is
    /// tenant-scoped, the subquery is scoped with the tenant of the statement
    /// that embeds it. Correlate it with the outer table through
    /// [`Column::eq_col`](crate::Column::eq_col) or any comparison of
    /// columns.
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
            subquery: Box::new(SelectQuery::exists_probe(U::meta(), filter.0)),
            negated: false,
        })
    }

    /// `NOT EXISTS (SELECT 1 FROM <U> WHERE <filter>)`, scoped like
    /// [`Filter::exists`].
    pub fn not_exists<U: Table>(filter: Filter) -> Filter {
        Filter(Node::Exists {
            subquery: Box::new(SelectQuery::exists_probe(U::meta(), filter.0)),
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

impl Node {
    pub(crate) fn in_subquery<V>(expr: ExprNode, subquery: Subquery<V>, negated: bool) -> Node {
        Node::InSubquery {
            expr,
            subquery: subquery.into_query(),
            negated,
        }
    }
}
