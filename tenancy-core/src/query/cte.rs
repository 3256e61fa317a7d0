//! Common table expressions: `WITH "name" AS (<select>)`, and
//! `WITH RECURSIVE` over a tenant table.

use core::fmt;
use std::sync::Arc;

use crate::column::Column;
use crate::ident::Identifier;
use crate::meta::Table;
use crate::query::compound::{CompoundQuery, IntoQuery, QueryNode, SetOp};
use crate::query::expr::{ColumnNode, Expr, ExprNode};
use crate::query::order::Aliased;
use crate::query::select::{Select, SelectQuery};
use crate::query::source::Source;

/// A common table expression: a named select (or union) that a statement
/// reads like a table, `WITH "<name>" AS (<body>)`.
///
/// The body is a statement built for a tenant like any other, and every
/// table reference in it is scoped; a statement that reads the CTE must be
/// for the same tenant, or building it fails with
/// [`BuildError::MixedScopes`](crate::BuildError::MixedScopes). A
/// statement reads it through [`select`](Cte::select) (`FROM` the CTE) or
/// [`Select::join_with`](crate::Select::join_with), declares it with
/// [`Select::with`](crate::Select::with) (`select` declares it for you), and
/// reads its columns with [`col`](Cte::col).
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, Cte, JoinKind, TenantId, ident};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let revenue = Order::TOTAL.sum().alias(ident!("revenue"));
/// let per_customer = Cte::new(
///     ident!("per_customer"),
///     Order::select(&tenant)
///         .columns((Order::CUSTOMER_ID, revenue.clone()))
///         .group_by(Order::CUSTOMER_ID),
/// );
/// let statement = Customer::select(&tenant)
///     .with(&per_customer)
///     .join_with(JoinKind::Inner, &per_customer, per_customer.col(Order::CUSTOMER_ID).eq(Customer::ID))
///     .columns((Customer::NAME, per_customer.col(&revenue)))
///     .to_postgres()?;
/// assert_eq!(
///     statement.sql(),
///     r#"WITH "per_customer" AS (SELECT "orders"."customer_id", CAST(SUM("orders"."total") AS BIGINT) AS "revenue" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 GROUP BY "orders"."customer_id") SELECT "customers"."name", "per_customer"."revenue" FROM "public"."customers" INNER JOIN "per_customer" ON "per_customer"."customer_id" = "customers"."id" WHERE "customers"."tenant_id" = $2"#
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Cte {
    def: Arc<CteDef>,
}

/// A CTE's name and body.
#[derive(Debug)]
pub struct CteDef {
    pub(crate) name: Identifier,
    /// `None` for the reference a recursive CTE's member makes to the CTE
    /// it belongs to.
    pub(crate) body: Option<QueryNode>,
    pub(crate) recursive: bool,
}

impl Cte {
    /// `"<name>" AS (<body>)`; the body is a [`Select`] or a
    /// [`Union`](crate::Union), each built for a tenant.
    pub fn new(name: Identifier, body: impl IntoQuery) -> Cte {
        Cte {
            def: Arc::new(CteDef {
                name,
                body: Some(body.into_query()),
                recursive: false,
            }),
        }
    }

    /// `"<name>" AS (<anchor> UNION ALL <member>)`, declared `WITH
    /// RECURSIVE`: the anchor's rows, then the member's for the rows found
    /// so far, until it finds none. `member` is given the CTE to join its
    /// table to (it must read the CTE exactly once, in its FROM list).
    ///
    /// Both are selects built for the tenant, so the anchor and every step
    /// of the recursion carry the tenant predicate: a hierarchy never
    /// wanders into another tenant's rows, even through a parent id that
    /// names one. Their projections must agree in number and type of
    /// columns ([`BuildError::UnionMismatch`](crate::BuildError::UnionMismatch)).
    /// `UNION ALL` keeps every row, so a cycle in the data recurses until
    /// the database's limits stop it: add a depth column and a bound on it
    /// where the data can have cycles.
    ///
    /// ```
    /// # include!("../../docs/doctest_setup.rs");
    /// # fn main() -> Result<(), tenancy_core::BuildError> {
    /// use tenancy_core::{BuildStatement, Cte, JoinKind, TenantId, ident};
    ///
    /// let tenant = TenantId::<i64>::from_verified(7);
    /// // Customer 1 and every customer it referred, directly or not.
    /// let referred = Cte::recursive(
    ///     ident!("referred"),
    ///     Customer::select(&tenant).columns((Customer::ID, Customer::NAME)).filter(Customer::ID.eq(1)),
    ///     |referred| {
    ///         Customer::select(&tenant)
    ///             .columns((Customer::ID, Customer::NAME))
    ///             .join_with(JoinKind::Inner, referred, Customer::REFERRED_BY.eq(referred.col(Customer::ID)))
    ///     },
    /// );
    /// let statement = referred.select().to_sqlite()?;
    /// assert_eq!(
    ///     statement.sql(),
    ///     r#"WITH RECURSIVE "referred" AS (SELECT "customers"."id", "customers"."name" FROM "main"."customers" WHERE "customers"."tenant_id" = ? AND "customers"."id" = ? UNION ALL SELECT "customers"."id", "customers"."name" FROM "main"."customers" INNER JOIN "referred" ON "customers"."referred_by" = "referred"."id" WHERE "customers"."tenant_id" = ?) SELECT "referred"."id", "referred"."name" FROM "referred""#
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn recursive<A, M>(
        name: Identifier,
        anchor: Select<A>,
        member: impl FnOnce(&Cte) -> Select<M>,
    ) -> Cte {
        let reference = Cte {
            def: Arc::new(CteDef {
                name: name.clone(),
                body: None,
                recursive: true,
            }),
        };
        let member = member(&reference).into_select_query();
        let body = CompoundQuery::new(anchor.into_select_query(), SetOp::UnionAll, member);
        Cte {
            def: Arc::new(CteDef {
                name,
                body: Some(QueryNode::Compound(Box::new(body))),
                recursive: true,
            }),
        }
    }

    /// The CTE's name.
    #[must_use]
    pub fn name(&self) -> &Identifier {
        &self.def.name
    }

    /// A column of the CTE: `"<name>"."<output>"`, where the output is a
    /// column the body projects (read as `Order::TOTAL`) or an alias of
    /// its projection (read as `&revenue`). Building fails with
    /// [`BuildError::UnknownColumn`](crate::BuildError::UnknownColumn) if the
    /// body has no such output.
    pub fn col<V>(&self, output: impl CteColumn<V>) -> Expr<V> {
        Expr::new(ExprNode::Column(ColumnNode {
            qualifier: self.def.name.clone(),
            column: output.output_name(),
        }))
    }

    /// `WITH "<name>" AS (..) SELECT <every output> FROM "<name>"`: a select
    /// of the CTE's rows, for the tenant its body was built for. Project,
    /// filter, join, group and order it like any select.
    pub fn select(&self) -> Select<Cte> {
        Select::from_cte(self)
    }

    pub(crate) fn def(&self) -> &CteDef {
        &self.def
    }

    pub(crate) fn source(&self) -> Source {
        Source::Cte(self.clone())
    }

    /// Whether both name the same definition.
    pub(crate) fn same(&self, other: &Cte) -> bool {
        Arc::ptr_eq(&self.def, &other.def)
    }
}

impl fmt::Debug for Cte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cte")
            .field("name", &self.def.name)
            .field("recursive", &self.def.recursive)
            .finish_non_exhaustive()
    }
}

impl CteDef {
    /// The first select of the body, whose projection names the outputs.
    pub(crate) fn head(&self) -> Option<&SelectQuery> {
        self.body.as_ref().map(QueryNode::head)
    }
}

mod sealed {
    use crate::ident::Identifier;

    /// Names an output of a CTE.
    pub trait OutputName {
        /// The output's name.
        fn output_name(self) -> Identifier;
    }
}

/// An output of a CTE's body, for [`Cte::col`]: a column it projects, or
/// an alias of its projection.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not name an output of a CTE",
    label = "expected a column such as `Order::TOTAL`, or `&aliased` for an aliased projection"
)]
pub trait CteColumn<V>: sealed::OutputName {}

impl<T: Table, V> sealed::OutputName for Column<T, V> {
    fn output_name(self) -> Identifier {
        Identifier::from_metadata(self.name())
    }
}
impl<T: Table, V> CteColumn<V> for Column<T, V> {}

impl<V> sealed::OutputName for &Aliased<V> {
    fn output_name(self) -> Identifier {
        self.alias.clone()
    }
}
impl<V> CteColumn<V> for &Aliased<V> {}
