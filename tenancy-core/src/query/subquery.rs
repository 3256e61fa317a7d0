//! One-column subqueries, for `IN (..)`, scoped when rendered.

use core::fmt;
use core::marker::PhantomData;

use crate::meta::TableMeta;
use crate::query::expr::ExprNode;
use crate::query::filter::Node;
use crate::query::select::SelectQuery;

/// A one-column subquery for [`Column::in_subquery`](crate::Column::in_subquery),
/// made by [`Column::subquery`](crate::Column::subquery) or
/// [`Select::subquery`](crate::Select::subquery). `V` is the type of the
/// selected column, so only columns of the same type can be compared with it.
///
/// One made by [`Column::subquery`](crate::Column::subquery) carries no
/// tenant: when its table is tenant-scoped, the statement that embeds it
/// adds `"<table>"."<tenant column>" = $n` to its `WHERE`, bound to that
/// statement's tenant. One made from a [`Select`](crate::Select) was built
/// for a tenant, and building the statement that embeds it fails unless
/// that statement is for the same tenant. In a statement built with
/// [`CrossTenant`](crate::CrossTenant) it gets no tenant predicate at all:
/// correlate it with the outer table (`eq_col`) if it must stay within the
/// outer row's tenant.
pub struct Subquery<V> {
    query: Box<SelectQuery>,
    _marker: PhantomData<fn() -> V>,
}

impl<V> Subquery<V> {
    pub(crate) fn new(query: SelectQuery) -> Self {
        Subquery {
            query: Box::new(query),
            _marker: PhantomData,
        }
    }

    /// `SELECT <column> FROM <table> WHERE <filter>`, scoped by the
    /// statement that embeds it.
    pub(crate) fn column(table: &'static TableMeta, column: ExprNode, filter: Node) -> Self {
        Subquery::new(SelectQuery::probe(table, Some(column), filter))
    }

    pub(crate) fn into_query(self) -> Box<SelectQuery> {
        self.query
    }
}

impl<V> Clone for Subquery<V> {
    fn clone(&self) -> Self {
        Subquery {
            query: self.query.clone(),
            _marker: PhantomData,
        }
    }
}

impl<V> fmt::Debug for Subquery<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.query.fmt(f)
    }
}
