//! proptest strategies for statement plans.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::{
    Conflict, Cte, Filter, InsertSource, Join, Joined, Query, Select, SetOp, Source, Statement,
};

fn join() -> impl Strategy<Value = Join> {
    prop_oneof![
        3 => Just(Join::Inner),
        3 => Just(Join::Left),
        1 => Just(Join::Right),
        1 => Just(Join::Full),
        1 => Just(Join::Cross),
        1 => Just(Join::Comma),
    ]
}

fn set_op() -> impl Strategy<Value = SetOp> {
    prop_oneof![
        Just(SetOp::Union),
        Just(SetOp::UnionAll),
        Just(SetOp::Intersect),
        Just(SetOp::Except)
    ]
}

/// A `FROM` source; derived tables nest queries up to `depth`.
fn source(depth: u32) -> BoxedStrategy<Source> {
    if depth == 0 {
        return prop_oneof![4 => Just(Source::Table), 1 => (0usize..3).prop_map(Source::Cte)]
            .boxed();
    }
    prop_oneof![
        5 => Just(Source::Table),
        1 => (0usize..3).prop_map(Source::Cte),
        2 => (query(depth - 1), any::<bool>())
            .prop_map(|(query, lateral)| Source::Derived { query: Box::new(query), lateral }),
    ]
    .boxed()
}

fn filter(depth: u32) -> BoxedStrategy<Filter> {
    let leaf = any::<u8>().prop_map(Filter::Leaf);
    if depth == 0 {
        return leaf.boxed();
    }
    let inner = query(depth - 1).prop_map(Box::new);
    prop_oneof![
        4 => leaf,
        1 => vec(filter(depth - 1), 0..3).prop_map(Filter::Any),
        1 => inner.clone().prop_map(Filter::Exists),
        1 => inner.clone().prop_map(Filter::In),
        1 => inner.prop_map(Filter::Scalar),
    ]
    .boxed()
}

pub fn select(depth: u32) -> BoxedStrategy<Select> {
    let joined = (join(), source(depth), any::<bool>()).prop_map(|(join, source, in_on)| Joined {
        join,
        source,
        in_on,
    });
    let projected = if depth == 0 {
        Just(None).boxed()
    } else {
        option::weighted(0.2, query(depth - 1).prop_map(Box::new)).boxed()
    };
    (
        source(depth),
        vec(joined, 0..3),
        vec(filter(depth), 0..3),
        projected,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(base, joins, filters, projected, grouped, shape)| Select {
            base,
            joins,
            filters,
            projected,
            grouped,
            shape,
        })
        .boxed()
}

pub fn query(depth: u32) -> BoxedStrategy<Query> {
    let select = select(depth).prop_map(Query::Select);
    if depth == 0 {
        return select.boxed();
    }
    prop_oneof![
        4 => select,
        1 => (query(depth - 1), set_op(), query(depth - 1))
            .prop_map(|(left, op, right)| Query::SetOp(Box::new(left), op, Box::new(right))),
    ]
    .boxed()
}

fn cte() -> impl Strategy<Value = Cte> {
    prop_oneof![3 => query(1).prop_map(Cte::Plain), 1 => Just(Cte::Tree)]
}

fn from_list() -> impl Strategy<Value = Vec<Source>> {
    vec(source(1), 0..3)
}

pub fn statement() -> impl Strategy<Value = Statement> {
    let filters = || vec(filter(1), 0..3);
    prop_oneof![
        6 => (vec(cte(), 0..3), query(2)).prop_map(|(ctes, query)| Statement::Query { ctes, query }),
        2 => (from_list(), filters(), any::<u64>())
            .prop_map(|(from, filters, shape)| Statement::Update { from, filters, shape }),
        2 => (from_list(), filters(), any::<u64>())
            .prop_map(|(using, filters, shape)| Statement::Delete { using, filters, shape }),
        2 => (
            prop_oneof![(0u8..3).prop_map(InsertSource::Values), select(1).prop_map(InsertSource::Select)],
            option::of(prop_oneof![Just(Conflict::Target), Just(Conflict::Where)]),
        )
            .prop_map(|(source, conflict)| Statement::Insert { source, conflict }),
    ]
}

/// A query as a tenant might write one: `WITH` queries, joins of every
/// kind, derived and `LATERAL` tables, subqueries and set operations.
pub fn ad_hoc_query() -> impl Strategy<Value = Statement> {
    (vec(cte(), 0..3), query(2)).prop_map(|(ctes, query)| Statement::Query { ctes, query })
}
