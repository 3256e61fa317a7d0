//! proptest strategies for statement plans.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{Index, select, subsequence};
use proptest::strategy::Union;

use super::plans::{
    Cmp, Col, FilterPlan, JoinPlan, Leaf, SelectPlan, Shape, Tbl, Value, WriteKind, WritePlan,
};

/// Filter values: small numbers and short words without digits, so no value
/// can be mistaken for a tenant key (all above 10^9).
fn number() -> impl Strategy<Value = i64> {
    0i64..1000
}

fn word() -> impl Strategy<Value = String> {
    "[a-z%_]{0,6}"
}

fn cmp() -> impl Strategy<Value = Cmp> {
    prop_oneof![
        Just(Cmp::Eq),
        Just(Cmp::Ne),
        Just(Cmp::Lt),
        Just(Cmp::Lte),
        Just(Cmp::Gt),
        Just(Cmp::Gte)
    ]
}

fn leaf() -> impl Strategy<Value = Leaf> {
    prop_oneof![
        (cmp(), number()).prop_map(|(cmp, n)| Leaf::Int(cmp, n)),
        (cmp(), word()).prop_map(|(cmp, s)| Leaf::Text(cmp, s)),
        (cmp(), word()).prop_map(|(cmp, s)| Leaf::Opt(cmp, s)),
        (vec(number(), 0..4), any::<bool>())
            .prop_map(|(values, negated)| Leaf::IntIn(values, negated)),
        (vec(word(), 0..4), any::<bool>())
            .prop_map(|(values, negated)| Leaf::TextIn(values, negated)),
        (number(), number()).prop_map(|(low, high)| Leaf::Between(low, high)),
        (word(), any::<bool>()).prop_map(|(pattern, negated)| Leaf::Like(pattern, negated)),
        any::<bool>().prop_map(Leaf::Null),
    ]
}

/// A filter over the `visible` tables: `depth` levels of AND/OR/NOT, and
/// subqueries on `candidates` nested up to `nesting` deep (each may refer to
/// the tables around it, for correlation).
pub fn filter(
    visible: Vec<Tbl>,
    candidates: Vec<Tbl>,
    depth: u32,
    nesting: u32,
) -> BoxedStrategy<FilterPlan> {
    let leaf =
        (select(visible.clone()), leaf()).prop_map(|(table, test)| FilterPlan::Leaf(table, test));
    let link = (select(visible.clone()), select(visible.clone()))
        .prop_map(|(a, b)| FilterPlan::Link(a, b));
    let mut options: Vec<(u32, BoxedStrategy<FilterPlan>)> =
        vec![(6, leaf.boxed()), (1, link.boxed())];

    if depth > 0 {
        let inner = filter(visible.clone(), candidates.clone(), depth - 1, nesting);
        options.push((
            2,
            vec(inner.clone(), 0..4).prop_map(FilterPlan::All).boxed(),
        ));
        options.push((
            2,
            vec(inner.clone(), 0..4).prop_map(FilterPlan::Any).boxed(),
        ));
        options.push((1, inner.prop_map(|f| FilterPlan::Not(Box::new(f))).boxed()));
    }

    if nesting > 0 {
        let subquery = select(candidates.clone())
            .prop_flat_map(move |inner| {
                let mut inside = visible.clone();
                inside.push(inner);
                (
                    Just(inner),
                    select(visible.clone()),
                    filter(inside, candidates.clone(), 1, nesting - 1),
                    any::<bool>(),
                    any::<bool>(),
                )
            })
            .prop_map(|(inner, outer, filter, exists, negated)| {
                let filter = Box::new(filter);
                if exists {
                    FilterPlan::Exists {
                        inner,
                        filter,
                        negated,
                    }
                } else {
                    FilterPlan::InSubquery {
                        outer,
                        inner,
                        filter,
                        negated,
                    }
                }
            });
        options.push((3, subquery.boxed()));
    }
    Union::new_weighted(options).boxed()
}

fn col() -> impl Strategy<Value = Col> {
    prop_oneof![Just(Col::Int), Just(Col::Text), Just(Col::Opt)]
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![4 => Just(Shape::Rows), 1 => Just(Shape::Count), 1 => Just(Shape::Exists)]
}

/// A select on one of `bases`, joined with up to three distinct tables of
/// `joinable`, with subqueries on `candidates`.
pub fn select_plan(
    bases: Vec<Tbl>,
    joinable: Vec<Tbl>,
    candidates: Vec<Tbl>,
) -> BoxedStrategy<SelectPlan> {
    select(bases)
        .prop_flat_map(move |base| {
            let others: Vec<Tbl> = joinable
                .iter()
                .copied()
                .filter(|table| *table != base)
                .collect();
            let most = others.len().min(3);
            (
                Just(base),
                Just(others).prop_shuffle(),
                0..=most,
                vec(any::<bool>(), 3),
                vec(any::<Index>(), 3),
            )
        })
        .prop_flat_map(move |(base, others, count, lefts, links)| {
            let mut visible = vec![base];
            let mut joins = Vec::new();
            for (position, table) in others[..count].iter().copied().enumerate() {
                let link_to = *links[position].get(&visible);
                visible.push(table);
                let left = lefts[position];
                let extra =
                    option::weighted(0.3, filter(visible.clone(), candidates.clone(), 1, 1));
                joins.push(extra.prop_map(move |extra| {
                    let link = FilterPlan::Link(table, link_to);
                    JoinPlan {
                        table,
                        left,
                        on: match extra {
                            Some(extra) => FilterPlan::All(vec![link, extra]),
                            None => link,
                        },
                    }
                }));
            }
            let projection = prop_oneof![
                2 => Just(Vec::new()),
                1 => vec((select(visible.clone()), col()), 1..4),
            ];
            (
                Just(base),
                joins,
                vec(filter(visible.clone(), candidates.clone(), 2, 3), 0..3),
                projection,
                vec((select(visible), col(), any::<bool>()), 0..3),
                option::of(0u64..500),
                option::of(0u64..500),
                shape(),
            )
        })
        .prop_map(
            |(base, joins, filters, projection, order, limit, offset, shape)| SelectPlan {
                base,
                joins,
                filters,
                projection,
                order,
                limit,
                offset,
                shape,
            },
        )
        .boxed()
}

fn value(column: Col) -> BoxedStrategy<Value> {
    match column {
        Col::Int => number().prop_map(Value::Int).boxed(),
        Col::Text => word().prop_map(Value::Text).boxed(),
        Col::Opt => option::of(word()).prop_map(Value::Opt).boxed(),
    }
}

/// One value per column, in a shuffled order (rows may set columns in any order).
fn row(columns: Vec<Col>) -> BoxedStrategy<Vec<Value>> {
    columns
        .into_iter()
        .map(value)
        .collect::<Vec<_>>()
        .prop_shuffle()
        .boxed()
}

fn columns() -> impl Strategy<Value = Vec<Col>> {
    subsequence(vec![Col::Int, Col::Text, Col::Opt], 1..=3)
}

fn update() -> impl Strategy<Value = WriteKind> {
    columns()
        .prop_flat_map(row)
        .prop_map(|sets| WriteKind::Update { sets })
}

fn insert() -> impl Strategy<Value = WriteKind> {
    (columns(), 1usize..4, 0u8..3).prop_flat_map(|(columns, rows, conflict)| {
        vec(row(columns), rows).prop_map(move |rows| WriteKind::Insert { rows, conflict })
    })
}

/// An UPDATE, DELETE or (when `inserts`) INSERT on one of `bases`, with
/// filters whose subqueries use `candidates`.
pub fn write_plan(
    bases: Vec<Tbl>,
    candidates: Vec<Tbl>,
    inserts: bool,
) -> BoxedStrategy<WritePlan> {
    let kind = if inserts {
        prop_oneof![2 => update(), 1 => Just(WriteKind::Delete), 2 => insert()].boxed()
    } else {
        prop_oneof![update(), Just(WriteKind::Delete)].boxed()
    };
    (select(bases), kind, any::<bool>())
        .prop_flat_map(move |(base, kind, returning)| {
            let filters = match kind {
                WriteKind::Insert { .. } => Just(Vec::new()).boxed(),
                _ => vec(filter(vec![base], candidates.clone(), 2, 3), 0..3).boxed(),
            };
            (Just(base), Just(kind), filters, Just(returning))
        })
        .prop_map(|(base, kind, filters, returning)| WritePlan {
            base,
            kind,
            filters,
            returning,
        })
        .boxed()
}
