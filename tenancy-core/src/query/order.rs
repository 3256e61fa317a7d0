//! Orderings and aliases: `ORDER BY <expr> DESC NULLS LAST`, and
//! `<expr> AS "alias"` in a projection, which can be ordered by name.

use core::fmt;
use core::marker::PhantomData;

use crate::column_type::{ColumnType, Comparable};
use crate::ident::Identifier;
use crate::query::expr::ExprNode;

/// One key of an `ORDER BY` (of a select, a union or a window): an
/// expression or an alias, ascending or descending, with NULLs first or
/// last. Made by the `asc()` and `desc()` methods of columns,
/// expressions, aggregates and [`Aliased`] projections.
///
/// Without [`nulls_first`](Ordering::nulls_first) or
/// [`nulls_last`](Ordering::nulls_last), each database puts NULLs where it
/// does by default, which differs: PostgreSQL sorts them as larger than
/// every value, SQLite as smaller.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Customer::select(&tenant)
///     .order_by((Customer::REGION.asc().nulls_last(), Customer::ID.desc()))
///     .to_sqlite()?;
/// assert!(statement.sql().ends_with(
///     r#"ORDER BY "customers"."region" ASC NULLS LAST, "customers"."id" DESC"#
/// ));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "an ordering does nothing until it is passed to `order_by`"]
pub struct Ordering {
    pub(crate) node: OrderNode,
}

/// An ordering with its type erased.
#[derive(Clone, Debug)]
pub struct OrderNode {
    pub(crate) target: OrderTarget,
    pub(crate) descending: bool,
    pub(crate) nulls: Option<Nulls>,
}

/// What an ordering sorts by.
#[derive(Clone, Debug)]
pub enum OrderTarget {
    /// An expression.
    Expr(ExprNode),
    /// An alias of the projection (`ORDER BY "revenue"`).
    Alias(Identifier),
}

/// Where NULLs sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nulls {
    /// `NULLS FIRST`
    First,
    /// `NULLS LAST`
    Last,
}

impl Ordering {
    pub(crate) fn of(expr: ExprNode, descending: bool) -> Self {
        Ordering {
            node: OrderNode {
                target: OrderTarget::Expr(expr),
                descending,
                nulls: None,
            },
        }
    }

    /// `NULLS FIRST`.
    pub fn nulls_first(mut self) -> Self {
        self.node.nulls = Some(Nulls::First);
        self
    }

    /// `NULLS LAST`.
    pub fn nulls_last(mut self) -> Self {
        self.node.nulls = Some(Nulls::Last);
        self
    }
}

/// A projected expression with a name: `<expr> AS "<alias>"`, made by the
/// `alias(..)` method of columns and expressions.
///
/// Rows decode by the alias, so a projection of aliases fills a `FromRow`
/// struct of your own (a dashboard row) whatever the tables it reads. The
/// alias also names the column for [`Ordering`]s ([`desc`](Aliased::desc):
/// `ORDER BY "revenue" DESC`, which is checked to name an alias of the
/// projection) and for a [`Cte`](crate::Cte)'s readers.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::functions::count_all;
/// use tenancy_core::{BuildStatement, TenantId, ident};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let order_count = count_all().alias(ident!("order_count"));
/// let statement = Order::select(&tenant)
///     .columns((Order::STATUS, order_count.clone()))
///     .group_by(Order::STATUS)
///     .order_by(order_count.desc())
///     .to_postgres()?;
/// assert_eq!(
///     statement.sql(),
///     r#"SELECT "orders"."status", COUNT(*) AS "order_count" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 GROUP BY "orders"."status" ORDER BY "order_count" DESC"#
/// );
/// # Ok(())
/// # }
/// ```
#[must_use = "an aliased expression does nothing until it is projected"]
pub struct Aliased<V> {
    pub(crate) expr: ExprNode,
    pub(crate) alias: Identifier,
    _type: PhantomData<fn() -> V>,
}

impl<V> Aliased<V> {
    pub(crate) fn new(expr: ExprNode, alias: Identifier) -> Self {
        Aliased {
            expr,
            alias,
            _type: PhantomData,
        }
    }

    /// The alias.
    #[must_use]
    pub fn name(&self) -> &Identifier {
        &self.alias
    }

    /// `"<alias>" ASC`. Not of a `json` value, which has no order.
    pub fn asc(&self) -> Ordering
    where
        V: ColumnType,
        V::Compare: Comparable,
    {
        self.ordering(false)
    }

    /// `"<alias>" DESC`.
    pub fn desc(&self) -> Ordering
    where
        V: ColumnType,
        V::Compare: Comparable,
    {
        self.ordering(true)
    }

    fn ordering(&self, descending: bool) -> Ordering {
        Ordering {
            node: OrderNode {
                target: OrderTarget::Alias(self.alias.clone()),
                descending,
                nulls: None,
            },
        }
    }
}

impl<V> Clone for Aliased<V> {
    fn clone(&self) -> Self {
        Aliased::new(self.expr.clone(), self.alias.clone())
    }
}

impl<V> fmt::Debug for Aliased<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aliased")
            .field("expr", &self.expr)
            .field("alias", &self.alias)
            .finish()
    }
}
