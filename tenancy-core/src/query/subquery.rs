//! Subqueries: `SELECT <column> FROM <table> WHERE <filter>` and
//! `SELECT 1 FROM <table> WHERE <filter>`, scoped when rendered.

use core::fmt;
use core::marker::PhantomData;

use crate::meta::TableMeta;
use crate::query::filter::Node;

/// A one-column subquery for [`Column::in_subquery`](crate::Column::in_subquery),
/// made by [`Column::subquery`](crate::Column::subquery). `V` is the type of
/// the selected column, so only columns of the same type can be compared with it.
///
/// It carries no tenant: when its table is tenant-scoped, the statement that
/// embeds it adds `"<table>"."<tenant column>" = $n` to its `WHERE`, bound to
/// that statement's tenant. In a statement built with
/// [`CrossTenant`](crate::CrossTenant) it gets no tenant predicate at all:
/// correlate it with the outer table (`eq_col`) if it must stay within the
/// outer row's tenant.
pub struct Subquery<V> {
    node: SubqueryNode,
    _marker: PhantomData<fn() -> V>,
}

impl<V> Subquery<V> {
    pub(crate) fn new(node: SubqueryNode) -> Self {
        Subquery {
            node,
            _marker: PhantomData,
        }
    }

    pub(crate) fn into_node(self) -> SubqueryNode {
        self.node
    }
}

impl<V> Clone for Subquery<V> {
    fn clone(&self) -> Self {
        Subquery::new(self.node.clone())
    }
}

impl<V> fmt::Debug for Subquery<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

/// A subquery with its type erased, as stored in a filter tree.
#[derive(Clone, Debug)]
pub(crate) struct SubqueryNode {
    /// The table in its `FROM`.
    pub(crate) table: &'static TableMeta,
    /// The selected column; `None` selects the constant `1` (for `EXISTS`).
    pub(crate) column: Option<&'static str>,
    /// The user's filter, without the tenant predicate.
    pub(crate) filter: Box<Node>,
}

impl SubqueryNode {
    pub(crate) fn column(table: &'static TableMeta, column: &'static str, filter: Node) -> Self {
        SubqueryNode {
            table,
            column: Some(column),
            filter: Box::new(filter),
        }
    }

    pub(crate) fn exists(table: &'static TableMeta, filter: Node) -> Self {
        SubqueryNode {
            table,
            column: None,
            filter: Box::new(filter),
        }
    }
}
