//! `UNION` and `UNION ALL` of selects, and the query bodies that CTEs and
//! statements are made of.

use core::fmt;
use core::marker::PhantomData;

use crate::BuildError;
use crate::ident::Identifier;
use crate::query::cte::Cte;
use crate::query::lists::OrderingList;
use crate::query::order::OrderNode;
use crate::query::render::Renderer;
use crate::query::scope::combine;
use crate::query::select::{Select, SelectQuery, row_count};
use crate::statement::{BuildStatement, Dialect, Statement, StatementScope, sealed};

/// `<select> UNION [ALL] <select> ...`, made by [`Select::union`] and
/// [`Select::union_all`].
///
/// Every member is a select built for a tenant (or on global tables only),
/// each of its table references scoped, and the union is for that tenant;
/// building fails with
/// [`BuildError::MixedScopes`](crate::BuildError::MixedScopes) if members
/// are built for different tenants, and with
/// [`BuildError::UnionMismatch`](crate::BuildError::UnionMismatch) if their
/// projections differ in number or type of columns. Rows decode by the
/// first member's column names. `ORDER BY`, `LIMIT` and `OFFSET` apply to
/// the whole union; members cannot have them.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let names = Customer::select(&tenant)
///     .column(Customer::NAME)
///     .union(Plan::select().column(Plan::NAME))
///     .order_by(Customer::NAME.asc())
///     .to_postgres()?;
/// assert_eq!(
///     names.sql(),
///     r#"SELECT "customers"."name" FROM "public"."customers" WHERE "customers"."tenant_id" = $1 UNION SELECT "plans"."name" FROM "public"."plans" ORDER BY "name" ASC"#
/// );
/// # Ok(())
/// # }
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Union<T> {
    query: CompoundQuery,
    _table: PhantomData<fn() -> T>,
}

/// A set operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// `UNION`: distinct rows.
    Union,
    /// `UNION ALL`: every row.
    UnionAll,
}

/// A union with its type erased.
#[derive(Clone, Debug)]
pub struct CompoundQuery {
    /// The scope of its members, combined.
    scope: Option<StatementScope>,
    pub(crate) with: Vec<Cte>,
    pub(crate) first: SelectQuery,
    pub(crate) rest: Vec<(SetOp, SelectQuery)>,
    pub(crate) order: Vec<OrderNode>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
}

/// A query body: a select or a union.
#[derive(Clone, Debug)]
pub enum QueryNode {
    /// A select.
    Select(Box<SelectQuery>),
    /// A union.
    Compound(Box<CompoundQuery>),
}

impl QueryNode {
    /// The first select, whose projection names the rows' columns.
    pub(crate) fn head(&self) -> &SelectQuery {
        match self {
            QueryNode::Select(select) => select,
            QueryNode::Compound(compound) => &compound.first,
        }
    }

    /// Whom the query was built for.
    pub(crate) fn scope(&self) -> Option<StatementScope> {
        match self {
            QueryNode::Select(select) => select.scope,
            QueryNode::Compound(compound) => compound.scope,
        }
    }
}

impl CompoundQuery {
    pub(crate) fn new(first: SelectQuery, op: SetOp, second: SelectQuery) -> Self {
        let mut compound = CompoundQuery {
            scope: first.scope,
            with: Vec::new(),
            first,
            rest: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
        };
        compound.hoist_with_of_first();
        compound.push(op, second);
        compound
    }

    /// A member's `WITH` is the union's: SQLite accepts `WITH` only before
    /// the whole compound.
    fn hoist_with_of_first(&mut self) {
        let with = core::mem::take(&mut self.first.with);
        self.add_with(with);
    }

    fn push(&mut self, op: SetOp, mut member: SelectQuery) {
        self.scope = combine(self.scope, member.scope);
        let with = core::mem::take(&mut member.with);
        self.add_with(with);
        self.rest.push((op, member));
    }

    fn add_with(&mut self, with: Vec<Cte>) {
        for cte in with {
            if !self.with.iter().any(|known| known.same(&cte)) {
                self.with.push(cte);
            }
        }
    }

    fn build(&self, dialect: Dialect, schema: &Identifier) -> Result<Statement, BuildError> {
        let scope = self.scope.unwrap_or(StatementScope::Global);
        let mut r = Renderer::new(dialect, schema, scope, self.first.main_table());
        r.compound(self)?;
        Ok(r.finish())
    }
}

impl<T> Select<T> {
    /// `<self> UNION <other>`: the distinct rows of both.
    pub fn union<U>(self, other: Select<U>) -> Union<T> {
        Union::new(self, SetOp::Union, other)
    }

    /// `<self> UNION ALL <other>`: every row of both.
    pub fn union_all<U>(self, other: Select<U>) -> Union<T> {
        Union::new(self, SetOp::UnionAll, other)
    }
}

impl<T> Union<T> {
    fn new<U>(first: Select<T>, op: SetOp, second: Select<U>) -> Self {
        Union {
            query: CompoundQuery::new(first.into_select_query(), op, second.into_select_query()),
            _table: PhantomData,
        }
    }

    /// `... UNION <other>`.
    pub fn union<U>(mut self, other: Select<U>) -> Self {
        self.query.push(SetOp::Union, other.into_select_query());
        self
    }

    /// `... UNION ALL <other>`.
    pub fn union_all<U>(mut self, other: Select<U>) -> Self {
        self.query.push(SetOp::UnionAll, other.into_select_query());
        self
    }

    /// `ORDER BY <orderings>` of the whole union, by the first member's
    /// column names: order by a projected column (written by its name,
    /// `"total"`) or an alias (`revenue.desc()`); repeated calls add keys.
    pub fn order_by(mut self, orderings: impl OrderingList) -> Self {
        orderings.push_orderings(&mut self.query.order);
        self
    }

    /// `LIMIT limit` (bound), capped at `i64::MAX`.
    pub fn limit(mut self, limit: u64) -> Self {
        self.query.limit = Some(row_count(limit));
        self
    }

    /// `OFFSET offset` (bound), capped at `i64::MAX`; on SQLite, with
    /// `LIMIT i64::MAX` when there is no limit.
    pub fn offset(mut self, offset: u64) -> Self {
        self.query.offset = Some(row_count(offset));
        self
    }
}

impl<T> sealed::Sealed for Union<T> {}

impl<T> BuildStatement for Union<T> {
    fn scope(&self) -> StatementScope {
        self.query.scope.unwrap_or(StatementScope::Global)
    }

    fn build_in(&self, dialect: Dialect, schema: &Identifier) -> Result<Statement, BuildError> {
        self.query.build(dialect, schema)
    }
}

impl<T> Clone for Union<T> {
    fn clone(&self) -> Self {
        Union {
            query: self.query.clone(),
            _table: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Union<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Union").field(&self.query).finish()
    }
}

mod query_sealed {
    use super::QueryNode;

    /// Lowers a query body.
    pub trait Lower {
        /// The body.
        fn into_query(self) -> QueryNode;
    }
}

/// A query body for [`Cte::new`]: a [`Select`] or a [`Union`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a query",
    label = "expected a `Select` or a `Union` built for a tenant"
)]
pub trait IntoQuery: query_sealed::Lower {}

impl<T> query_sealed::Lower for Select<T> {
    fn into_query(self) -> QueryNode {
        QueryNode::Select(Box::new(self.into_select_query()))
    }
}
impl<T> IntoQuery for Select<T> {}

impl<T> query_sealed::Lower for Union<T> {
    fn into_query(self) -> QueryNode {
        QueryNode::Compound(Box::new(self.query))
    }
}
impl<T> IntoQuery for Union<T> {}
