//! proptest strategies for statement plans.
//!
//! Plans only name references that are in scope where they are used (an
//! `ON` sees the references before it and its own, a subquery those around
//! it and its own), so every plan builds; what each statement may contain
//! (CTEs, row locks, `DISTINCT ON`, outer joins) is chosen by [`Tables`].

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::Union;
use tenancy_core::JoinKind;

use super::plans::{
    AggPlan, ArithPlan, Cmp, Col, ConflictPlan, CtePlan, DistinctPlan, FilterPlan, IntExpr,
    ItemPlan, JoinPlan, Leaf, LockPlan, MemberPlan, OrderPlan, Ref, ReturningPlan, ScalarPlan,
    SelectPlan, Shape, Target, Tbl, TextExpr, UnionPlan, Value, WindowFn, WindowPlan, WriteKind,
    WritePlan,
};

/// What a statement may read and contain.
#[derive(Clone, Debug)]
pub struct Tables {
    /// The tables a statement may be on.
    pub bases: Vec<Tbl>,
    /// The tables it may join (and read in an UPDATE's FROM).
    pub joinable: Vec<Tbl>,
    /// The tables of `IN` and `EXISTS` subqueries (made without a witness).
    pub candidates: Vec<Tbl>,
    /// The tables of scalar subqueries, CTE bodies and union members
    /// (selects of the statement's own scope).
    pub selects: Vec<Tbl>,
    /// Whether it may declare CTEs.
    pub ctes: bool,
    /// Whether it may lock rows.
    pub locks: bool,
    /// Whether it may use PostgreSQL's `DISTINCT ON` and `DELETE .. USING`.
    pub postgres_only: bool,
    /// Whether its unaliased joins may be right and full ones (a global
    /// table is joined right or full only under an alias).
    pub outer_joins: bool,
}

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

fn leaf() -> BoxedStrategy<Leaf> {
    let plain = prop_oneof![
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
    ];
    #[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
    return prop_oneof![4 => plain, 1 => typed_leaf().prop_map(Leaf::Typed)].boxed();
    #[cfg(not(all(feature = "json", feature = "ipnetwork", feature = "array")))]
    plain.boxed()
}

/// The operators of JSON, network and array columns.
#[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
fn typed_leaf() -> impl Strategy<Value = super::plans::TypedLeaf> {
    use super::plans::TypedLeaf;
    prop_oneof![
        (word(), word(), word()).prop_map(|(k, m, v)| TypedLeaf::JsonPath(k, m, v)),
        (word(), word()).prop_map(|(k, v)| TypedLeaf::JsonText(k, v)),
        (word(), number()).prop_map(|(k, n)| TypedLeaf::JsonContains(k, n)),
        word().prop_map(TypedLeaf::JsonHasKey),
        (8u8..=32, any::<bool>()).prop_map(|(p, e)| TypedLeaf::Within(p, e)),
        (any::<u8>(), any::<bool>()).prop_map(|(h, e)| TypedLeaf::Encloses(h, e)),
        word().prop_map(TypedLeaf::ArrayHas),
        vec(word(), 0..3).prop_map(TypedLeaf::ArrayContains),
    ]
}

/// Where a filter or an expression is written: the references in scope,
/// and the tables its subqueries may read.
#[derive(Clone, Debug)]
pub struct Env {
    pub visible: Vec<Ref>,
    pub candidates: Vec<Tbl>,
    pub selects: Vec<Tbl>,
}

impl Env {
    fn plain(visible: Vec<Ref>) -> Env {
        Env {
            visible,
            candidates: Vec::new(),
            selects: Vec::new(),
        }
    }

    fn with(&self, reference: Ref) -> Env {
        let mut env = self.clone();
        env.visible.push(reference);
        env
    }
}

/// A filter in `env`: `depth` levels of AND/OR/NOT, and subqueries nested
/// up to `nesting` deep (each may refer to the references around it, for
/// correlation).
pub fn filter(env: Env, depth: u32, nesting: u32) -> BoxedStrategy<FilterPlan> {
    let visible = env.visible.clone();
    let leaf = (select(visible.clone()), leaf())
        .prop_map(|(reference, test)| FilterPlan::Leaf(reference, test));
    let link = (select(visible.clone()), select(visible.clone()))
        .prop_map(|(a, b)| FilterPlan::Link(a, b));
    let operands = depth.min(1);
    let comparison = (
        cmp(),
        int_expr(env.clone(), operands),
        int_expr(env.clone(), operands),
    )
        .prop_map(|(cmp, a, b)| FilterPlan::Compare(cmp, a, b));
    let mut options: Vec<(u32, BoxedStrategy<FilterPlan>)> = vec![
        (6, leaf.boxed()),
        (1, link.boxed()),
        (2, comparison.boxed()),
    ];

    if depth > 0 {
        let inner = filter(env.clone(), depth - 1, nesting);
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

    if nesting > 0 && !env.candidates.is_empty() {
        let subquery = select(env.candidates.clone())
            .prop_flat_map(move |inner| {
                let inside = env.with(Ref::table(inner));
                (
                    Just(inner),
                    select(env.visible.clone()),
                    filter(inside, 1, nesting - 1),
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

fn arith() -> impl Strategy<Value = ArithPlan> {
    prop_oneof![
        Just(ArithPlan::Add),
        Just(ArithPlan::Sub),
        Just(ArithPlan::Mul),
        Just(ArithPlan::Div),
        Just(ArithPlan::Rem)
    ]
}

/// An `i64` expression in `env`; with no reference in scope, one of values
/// and scalar subqueries only.
pub fn int_expr(env: Env, depth: u32) -> BoxedStrategy<IntExpr> {
    let mut options: Vec<(u32, BoxedStrategy<IntExpr>)> =
        vec![(3, number().prop_map(IntExpr::Value).boxed())];
    if !env.visible.is_empty() {
        options.push((
            5,
            select(env.visible.clone()).prop_map(IntExpr::Col).boxed(),
        ));
    }
    if !env.selects.is_empty() {
        options.push((
            1,
            scalar(env.clone())
                .prop_map(|plan| IntExpr::Scalar(Box::new(plan)))
                .boxed(),
        ));
    }
    if depth > 0 {
        let inner = int_expr(env.clone(), depth - 1);
        options.push((
            3,
            (arith(), inner.clone(), inner.clone())
                .prop_map(|(op, a, b)| IntExpr::Arith(op, Box::new(a), Box::new(b)))
                .boxed(),
        ));
        options.push((
            1,
            inner
                .clone()
                .prop_map(|a| IntExpr::Neg(Box::new(a)))
                .boxed(),
        ));
        options.push((
            1,
            (inner.clone(), number())
                .prop_map(|(a, n)| IntExpr::NullIf(Box::new(a), n))
                .boxed(),
        ));
        options.push((
            1,
            inner
                .clone()
                .prop_map(|a| IntExpr::Cast(Box::new(a)))
                .boxed(),
        ));
        if !env.visible.is_empty() {
            options.push((
                1,
                (
                    filter(Env::plain(env.visible.clone()), 0, 0),
                    inner.clone(),
                    inner,
                )
                    .prop_map(|(c, a, b)| IntExpr::Case(Box::new(c), Box::new(a), Box::new(b)))
                    .boxed(),
            ));
        }
    }
    Union::new_weighted(options).boxed()
}

/// A scalar subquery: a table of `env.selects`, perhaps aliased, perhaps
/// correlated with the references around it.
fn scalar(env: Env) -> BoxedStrategy<ScalarPlan> {
    (select(env.selects.clone()), option::of(0u8..3))
        .prop_flat_map(move |(table, alias)| {
            let inside = Env::plain(env.visible.clone()).with(Ref::Table(table, alias));
            (
                Just(table),
                Just(alias),
                option::weighted(0.7, filter(inside, 1, 0)),
            )
        })
        .prop_map(|(table, alias, filter)| ScalarPlan {
            table,
            alias,
            filter,
        })
        .boxed()
}

/// A `String` expression in `env`.
pub fn text_expr(env: Env, depth: u32) -> BoxedStrategy<TextExpr> {
    let mut options: Vec<(u32, BoxedStrategy<TextExpr>)> =
        vec![(2, word().prop_map(TextExpr::Value).boxed())];
    if !env.visible.is_empty() {
        let visible = env.visible.clone();
        options.push((4, select(visible.clone()).prop_map(TextExpr::Col).boxed()));
        options.push((
            2,
            (select(visible), word())
                .prop_map(|(reference, s)| TextExpr::Opt(reference, s))
                .boxed(),
        ));
    }
    if depth > 0 {
        let inner = text_expr(env.clone(), depth - 1);
        options.push((
            1,
            inner
                .clone()
                .prop_map(|a| TextExpr::Lower(Box::new(a)))
                .boxed(),
        ));
        options.push((
            1,
            inner
                .clone()
                .prop_map(|a| TextExpr::Upper(Box::new(a)))
                .boxed(),
        ));
        if !env.visible.is_empty() {
            options.push((
                1,
                (
                    filter(Env::plain(env.visible.clone()), 0, 0),
                    inner.clone(),
                    inner,
                )
                    .prop_map(|(c, a, b)| TextExpr::Case(Box::new(c), Box::new(a), Box::new(b)))
                    .boxed(),
            ));
        }
    }
    Union::new_weighted(options).boxed()
}

fn col() -> impl Strategy<Value = Col> {
    prop_oneof![Just(Col::Int), Just(Col::Text), Just(Col::Opt)]
}

fn aggregate(env: Env) -> BoxedStrategy<AggPlan> {
    let visible = env.visible.clone();
    prop_oneof![
        2 => Just(AggPlan::CountAll),
        1 => select(visible.clone()).prop_map(AggPlan::Count),
        1 => select(visible.clone()).prop_map(AggPlan::CountDistinct),
        2 => int_expr(env.clone(), 1).prop_map(AggPlan::Sum),
        1 => select(visible.clone()).prop_map(AggPlan::Avg),
        1 => select(visible).prop_map(AggPlan::Min),
        1 => text_expr(env, 1).prop_map(AggPlan::Max),
    ]
    .boxed()
}

fn window(visible: Vec<Ref>) -> BoxedStrategy<WindowPlan> {
    let function = prop_oneof![
        Just(WindowFn::RowNumber),
        Just(WindowFn::Rank),
        Just(WindowFn::DenseRank),
        select(visible.clone()).prop_map(WindowFn::Lag),
        select(visible.clone()).prop_map(WindowFn::Lead),
        select(visible.clone()).prop_map(WindowFn::Sum),
    ];
    (
        function,
        vec(select(visible.clone()), 0..3),
        vec((select(visible), any::<bool>()), 0..3),
    )
        .prop_map(|(function, partition, order)| WindowPlan {
            function,
            partition,
            order,
        })
        .boxed()
}

/// How a select's rows are made: plain, grouped (aggregates, `GROUP BY`,
/// `HAVING`), or with window functions.
#[derive(Clone, Copy, Debug)]
enum Rows {
    Plain,
    Grouped,
    Windowed,
}

fn projection(env: Env, rows: Rows) -> BoxedStrategy<Vec<(ItemPlan, bool)>> {
    let visible = env.visible.clone();
    let column = (select(visible.clone()), col()).prop_map(|(r, c)| ItemPlan::Column(r, c));
    let mut items: Vec<(u32, BoxedStrategy<ItemPlan>)> = vec![
        (4, column.boxed()),
        (2, int_expr(env.clone(), 2).prop_map(ItemPlan::Int).boxed()),
        (
            2,
            text_expr(env.clone(), 1).prop_map(ItemPlan::Text).boxed(),
        ),
    ];
    match rows {
        Rows::Plain => {}
        Rows::Grouped => items.push((4, aggregate(env).prop_map(ItemPlan::Agg).boxed())),
        Rows::Windowed => items.push((6, window(visible).prop_map(ItemPlan::Window).boxed())),
    }
    let list = vec((Union::new_weighted(items), any::<bool>()), 1..5);
    match rows {
        Rows::Plain => prop_oneof![2 => Just(Vec::new()), 3 => list].boxed(),
        _ => list.boxed(),
    }
}

fn orderings(
    env: Env,
    projection: &[(ItemPlan, bool)],
    grouped: bool,
) -> BoxedStrategy<Vec<OrderPlan>> {
    let visible = env.visible.clone();
    let column = (
        select(visible),
        col(),
        any::<bool>(),
        option::of(any::<bool>()),
    )
        .prop_map(|(r, c, d, n)| OrderPlan::Column(r, c, d, n));
    let mut options: Vec<(u32, BoxedStrategy<OrderPlan>)> = vec![(3, column.boxed())];
    let aliased: Vec<usize> = projection
        .iter()
        .enumerate()
        .filter(|(_, (_, aliased))| *aliased)
        .map(|(position, _)| position)
        .collect();
    if !aliased.is_empty() {
        options.push((
            2,
            (select(aliased), any::<bool>())
                .prop_map(|(p, d)| OrderPlan::Alias(p, d))
                .boxed(),
        ));
    }
    if grouped {
        options.push((
            1,
            (aggregate(Env::plain(env.visible)), any::<bool>())
                .prop_map(|(a, d)| OrderPlan::Aggregate(a, d))
                .boxed(),
        ));
    }
    vec(Union::new_weighted(options), 0..3).boxed()
}

fn lock() -> impl Strategy<Value = LockPlan> {
    prop_oneof![
        Just(LockPlan::Update),
        Just(LockPlan::Share),
        Just(LockPlan::UpdateSkipLocked),
        Just(LockPlan::UpdateNoWait),
        Just(LockPlan::ShareSkipLocked),
    ]
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![4 => Just(Shape::Rows), 1 => Just(Shape::Count), 1 => Just(Shape::Exists)]
}

fn join_kind(outer: bool) -> BoxedStrategy<JoinKind> {
    if outer {
        prop_oneof![
            3 => Just(JoinKind::Inner),
            3 => Just(JoinKind::Left),
            1 => Just(JoinKind::Right),
            1 => Just(JoinKind::Full),
        ]
        .boxed()
    } else {
        prop_oneof![Just(JoinKind::Inner), Just(JoinKind::Left)].boxed()
    }
}

/// A member of a union or a CTE's body: a select on a base with a join or
/// none, projecting `(i, t, o)`. A `first` member is on one of
/// `tables.bases`, so that the union (or CTE) is for the statement's scope.
fn member(tables: Tables, first: bool) -> BoxedStrategy<MemberPlan> {
    let bases = if first {
        tables.bases.clone()
    } else {
        tables.selects.clone()
    };
    select(bases)
        .prop_flat_map(move |base| {
            // A global base joins global tables only.
            let joinable: Vec<Tbl> = tables
                .joinable
                .iter()
                .copied()
                .filter(|table| *table != base && (base.is_scoped() || !table.is_scoped()))
                .collect();
            let joins = if joinable.is_empty() {
                Just(Vec::new()).boxed()
            } else {
                vec((select(joinable), join_kind(false)), 0..2).boxed()
            };
            (
                Just(base),
                joins,
                Just(tables.candidates.clone()),
                Just(tables.selects.clone()),
            )
        })
        .prop_flat_map(|(base, joins, candidates, selects)| {
            let mut visible = vec![Ref::table(base)];
            let mut planned = Vec::new();
            for (table, kind) in joins {
                let on = FilterPlan::Link(Ref::table(table), visible[0]);
                visible.push(Ref::table(table));
                planned.push((table, kind, on));
            }
            let env = Env {
                visible,
                candidates,
                selects,
            };
            (
                Just(base),
                Just(planned),
                vec(filter(env.clone(), 1, 1), 0..2),
                int_expr(env.clone(), 1),
                text_expr(env, 1),
            )
        })
        .prop_map(|(base, joins, filters, int, text)| MemberPlan {
            base,
            joins,
            filters,
            int,
            text,
        })
        .boxed()
}

fn cte(tables: Tables) -> BoxedStrategy<CtePlan> {
    let plain = (
        member(tables.clone(), true),
        vec((any::<bool>(), member(tables.clone(), false)), 0..2),
    )
        .prop_map(|(first, mut rest)| {
            rest.insert(0, (false, first));
            CtePlan::Plain(rest)
        });
    let recursive = select(tables.bases.clone()).prop_flat_map(|table| {
        let anchor = Env::plain(vec![Ref::table(table)]);
        let step = Env::plain(vec![Ref::table(table), Ref::Cte(0)]);
        (
            Just(table),
            option::of(filter(anchor, 1, 0)),
            option::of(filter(step, 1, 0)),
        )
            .prop_map(|(table, anchor, step)| CtePlan::Recursive {
                table,
                anchor,
                step,
            })
    });
    prop_oneof![2 => plain, 1 => recursive].boxed()
}

/// A select on one of `tables.bases` (or a CTE), joined with up to three
/// references (tables of `tables.joinable` under their name or an alias,
/// the same table twice under two names, CTEs), with subqueries,
/// expressions, aggregates, window functions, orderings and locks.
pub fn select_plan(tables: Tables) -> BoxedStrategy<SelectPlan> {
    let ctes = if tables.ctes {
        vec(cte(tables.clone()), 0..3).boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (ctes, Just(tables))
        .prop_flat_map(|(ctes, tables)| {
            let mut bases: Vec<Ref> = tables
                .bases
                .iter()
                .flat_map(|table| [Ref::Table(*table, None), Ref::Table(*table, Some(0))])
                .collect();
            // A CTE's reference of its own recursion is `c<n>` too, so a
            // select of a recursive CTE names it once.
            bases.extend((0..ctes.len() as u8).map(Ref::Cte));
            (Just(ctes), select(bases), Just(tables))
        })
        .prop_flat_map(|(ctes, base, tables)| {
            let mut targets: Vec<Target> = tables
                .joinable
                .iter()
                .flat_map(|table| {
                    [
                        Target::Table(*table, None),
                        Target::Table(*table, Some(1)),
                        Target::Table(*table, Some(2)),
                    ]
                })
                .collect();
            targets.extend((0..ctes.len() as u8).map(Target::Cte));
            let base_is_cte = matches!(base, Ref::Cte(_));
            let base_is_global = matches!(base, Ref::Table(table, _) if !table.is_scoped());
            let outer = tables.outer_joins;
            // Targets a join may take after `base`: names must differ, a
            // select of a CTE joins aliased tables and CTEs only, a global
            // base joins global tables without an alias only, and right and
            // full joins of a table under its own name need a scoped one.
            let usable = move |target: &Target| -> bool {
                let reference = target.reference();
                if reference.name() == base.name() {
                    return false;
                }
                match *target {
                    Target::Table(table, None) => {
                        !base_is_cte && (!base_is_global || !table.is_scoped())
                    }
                    Target::Table(_, Some(_)) => true,
                    Target::Cte(_) => true,
                }
            };
            let targets: Vec<Target> = targets.into_iter().filter(|t| usable(t)).collect();
            let joins = if targets.is_empty() {
                Just(Vec::new()).boxed()
            } else {
                vec((select(targets), join_kind(outer)), 0..4).boxed()
            };
            (Just(ctes), Just(base), joins, Just(tables))
        })
        .prop_flat_map(|(ctes, base, joins, tables)| {
            // Keep joins whose reference names are new, and whose kind the
            // target allows.
            let mut visible = vec![base];
            let mut planned = Vec::new();
            for (target, kind) in joins {
                let reference = target.reference();
                if visible.iter().any(|known| known.name() == reference.name()) {
                    continue;
                }
                let kind = match target {
                    Target::Table(table, None) if !table.is_scoped() => match kind {
                        JoinKind::Right | JoinKind::Full => JoinKind::Left,
                        kind => kind,
                    },
                    _ => kind,
                };
                let link_to = visible[planned.len() % visible.len()];
                visible.push(reference);
                planned.push((target, kind, visible.clone(), link_to));
            }
            let env = Env {
                visible: visible.clone(),
                candidates: tables.candidates.clone(),
                selects: tables.selects.clone(),
            };
            let joins: Vec<BoxedStrategy<JoinPlan>> = planned
                .into_iter()
                .map(|(target, kind, seen, link_to)| {
                    let env = Env {
                        visible: seen,
                        candidates: tables.candidates.clone(),
                        selects: tables.selects.clone(),
                    };
                    option::weighted(0.3, filter(env, 1, 1))
                        .prop_map(move |extra| {
                            let link = FilterPlan::Link(target.reference(), link_to);
                            JoinPlan {
                                target,
                                kind,
                                on: match extra {
                                    Some(extra) => FilterPlan::All(vec![link, extra]),
                                    None => link,
                                },
                            }
                        })
                        .boxed()
                })
                .collect();
            let rows = prop_oneof![
                3 => Just(Rows::Plain),
                2 => Just(Rows::Grouped),
                2 => Just(Rows::Windowed),
            ];
            (
                Just(ctes),
                Just(base),
                joins,
                vec(filter(env.clone(), 2, 3), 0..3),
                rows,
                Just(env),
                Just(tables),
            )
        })
        .prop_flat_map(|(ctes, base, joins, filters, rows, env, tables)| {
            let grouped = matches!(rows, Rows::Grouped);
            (
                Just((ctes, base, joins, filters, rows)),
                projection(env.clone(), rows),
                Just(env),
                Just(tables),
                Just(grouped),
            )
        })
        .prop_flat_map(|(head, projection, env, tables, grouped)| {
            let visible = env.visible.clone();
            let group_by = if grouped {
                vec((select(visible.clone()), col()), 0..3).boxed()
            } else {
                Just(Vec::new()).boxed()
            };
            let having = if grouped {
                vec(
                    (aggregate(Env::plain(visible.clone())), cmp(), number()),
                    0..3,
                )
                .boxed()
            } else {
                Just(Vec::new()).boxed()
            };
            let distinct = if tables.postgres_only {
                prop_oneof![
                    6 => Just(DistinctPlan::No),
                    1 => Just(DistinctPlan::Rows),
                    1 => vec(select(visible.clone()), 1..3).prop_map(DistinctPlan::On),
                ]
                .boxed()
            } else {
                prop_oneof![6 => Just(DistinctPlan::No), 1 => Just(DistinctPlan::Rows)].boxed()
            };
            (
                Just(head),
                orderings(env, &projection, grouped),
                Just(projection),
                group_by,
                having,
                distinct,
                (option::of(0u64..500), option::of(0u64..500)),
                (option::weighted(0.3, lock()), shape(), Just(tables.locks)),
            )
        })
        .prop_map(
            |(
                (ctes, base, joins, filters, rows),
                order,
                projection,
                group_by,
                having,
                distinct,
                (limit, offset),
                (lock, shape, locks),
            )| {
                let plain = matches!(rows, Rows::Plain) && matches!(distinct, DistinctPlan::No);
                let lock = if locks && plain && matches!(shape, Shape::Rows) {
                    lock
                } else {
                    None
                };
                SelectPlan {
                    ctes,
                    base,
                    joins,
                    filters,
                    projection,
                    group_by,
                    having,
                    distinct,
                    order,
                    limit,
                    offset,
                    lock,
                    shape,
                }
            },
        )
        .boxed()
}

/// A union of two or three members over `tables.selects`, ordered by its
/// columns.
pub fn union_plan(tables: Tables) -> BoxedStrategy<UnionPlan> {
    (
        member(tables.clone(), true),
        vec((any::<bool>(), member(tables, false)), 1..3),
        vec((any::<bool>(), any::<bool>()), 0..3),
        option::of(0u64..100),
    )
        .prop_map(|(first, rest, order, limit)| UnionPlan {
            first,
            rest,
            order,
            limit,
        })
        .boxed()
}

fn value_of(column: Col, env: Env, inserting: bool) -> BoxedStrategy<Value> {
    let default = if inserting { 1 } else { 0 };
    match column {
        Col::Int => prop_oneof![
            3 => number().prop_map(Value::Int),
            2 => int_expr(env, 2).prop_map(Value::IntExpr),
            default => Just(Value::Default(Col::Int)),
        ]
        .boxed(),
        Col::Text => prop_oneof![
            3 => word().prop_map(Value::Text),
            2 => text_expr(env, 1).prop_map(Value::TextExpr),
            default => Just(Value::Default(Col::Text)),
        ]
        .boxed(),
        Col::Opt => prop_oneof![
            3 => option::of(word()).prop_map(Value::Opt),
            default => Just(Value::Default(Col::Opt)),
        ]
        .boxed(),
    }
}

/// One value per column, in a shuffled order (rows may set columns in any order).
fn row(columns: Vec<Col>, env: Env, inserting: bool) -> BoxedStrategy<Vec<Value>> {
    columns
        .into_iter()
        .map(|column| value_of(column, env.clone(), inserting))
        .collect::<Vec<_>>()
        .prop_shuffle()
        .boxed()
}

fn columns() -> impl Strategy<Value = Vec<Col>> {
    subsequence(vec![Col::Int, Col::Text, Col::Opt], 1..=3)
}

fn returning(env: Env) -> BoxedStrategy<ReturningPlan> {
    let visible = env.visible.clone();
    let item = prop_oneof![
        (select(visible), col()).prop_map(|(r, c)| ItemPlan::Column(r, c)),
        int_expr(env.clone(), 1).prop_map(ItemPlan::Int),
        text_expr(env, 1).prop_map(ItemPlan::Text),
    ];
    prop_oneof![
        3 => Just(ReturningPlan::Nothing),
        1 => Just(ReturningPlan::All),
        2 => vec(item, 1..4).prop_map(ReturningPlan::Items),
    ]
    .boxed()
}

/// The tables an UPDATE's FROM or a DELETE's USING reads beside `base`:
/// under their name (not the base's) or an alias, each named once.
fn sources(base: Tbl, joinable: Vec<Tbl>) -> BoxedStrategy<Vec<(Tbl, Option<u8>)>> {
    let options: Vec<(Tbl, Option<u8>)> = joinable
        .into_iter()
        .flat_map(|table| [(table, None), (table, Some(1))])
        .filter(|(table, alias)| alias.is_some() || *table != base)
        .collect();
    if options.is_empty() {
        return Just(Vec::new()).boxed();
    }
    vec(select(options), 0..3)
        .prop_map(|picked| {
            let mut names: Vec<&'static str> = Vec::new();
            let mut kept = Vec::new();
            for (table, alias) in picked {
                let name = Ref::Table(table, alias).name();
                if !names.contains(&name) {
                    names.push(name);
                    kept.push((table, alias));
                }
            }
            kept
        })
        .boxed()
}

/// An UPDATE (with FROM), a DELETE (with USING, when the tables allow
/// PostgreSQL-only constructs) or an INSERT (with expressions, defaults and
/// upserts) on one of `tables.bases`, with filters whose subqueries use
/// `tables.candidates`, and `RETURNING` lists.
pub fn write_plan(tables: Tables, inserts: bool) -> BoxedStrategy<WritePlan> {
    let tables_for_kind = tables.clone();
    (select(tables.bases.clone()), 0u8..5)
        .prop_flat_map(move |(base, dice)| {
            let tables = tables_for_kind.clone();
            let (candidates, selects) = (tables.candidates.clone(), tables.selects.clone());
            let env = move |visible: Vec<Ref>| Env {
                visible,
                candidates: candidates.clone(),
                selects: selects.clone(),
            };
            let kind = match dice {
                0 | 1 => sources(base, tables.joinable.clone())
                    .prop_flat_map({
                        let env = env.clone();
                        move |from| {
                            let mut visible = vec![Ref::table(base)];
                            visible.extend(from.iter().map(|(t, a)| Ref::Table(*t, *a)));
                            (
                                columns().prop_flat_map({
                                    let env = env(visible.clone());
                                    move |columns| row(columns, env.clone(), false)
                                }),
                                Just(from),
                                Just(visible),
                            )
                        }
                    })
                    .prop_map(|(sets, from, visible)| (WriteKind::Update { sets, from }, visible))
                    .boxed(),
                2 => {
                    let using = if tables.postgres_only {
                        sources(base, tables.joinable.clone())
                    } else {
                        Just(Vec::new()).boxed()
                    };
                    using
                        .prop_map(move |using| {
                            let mut visible = vec![Ref::table(base)];
                            visible.extend(using.iter().map(|(t, a)| Ref::Table(*t, *a)));
                            (WriteKind::Delete { using }, visible)
                        })
                        .boxed()
                }
                _ if inserts => {
                    // VALUES see no table; an upsert's filter sees the row.
                    let values = env(Vec::new());
                    let conflict = prop_oneof![
                        2 => Just(ConflictPlan::None),
                        1 => Just(ConflictPlan::Nothing),
                        1 => Just(ConflictPlan::Copy),
                        1 => option::of(filter(Env::plain(vec![Ref::table(base)]), 1, 0))
                            .prop_map(ConflictPlan::Update),
                    ];
                    (columns(), 1usize..4, conflict)
                        .prop_flat_map(move |(columns, rows, conflict)| {
                            vec(row(columns, values.clone(), true), rows).prop_map(move |rows| {
                                WriteKind::Insert {
                                    rows,
                                    conflict: conflict.clone(),
                                }
                            })
                        })
                        .prop_map(move |kind| (kind, vec![Ref::table(base)]))
                        .boxed()
                }
                _ => Just((
                    WriteKind::Delete { using: Vec::new() },
                    vec![Ref::table(base)],
                ))
                .boxed(),
            };
            (Just(base), kind, Just(tables))
        })
        .prop_flat_map(|(base, (kind, visible), tables)| {
            let env = Env {
                visible: visible.clone(),
                candidates: tables.candidates.clone(),
                selects: tables.selects.clone(),
            };
            let filters = match kind {
                WriteKind::Insert { .. } => Just(Vec::new()).boxed(),
                _ => vec(filter(env.clone(), 2, 3), 0..3).boxed(),
            };
            // SQLite's RETURNING sees the written table only.
            let returned = Env {
                visible: vec![Ref::table(base)],
                ..env
            };
            (Just(base), Just(kind), filters, returning(returned))
        })
        .prop_map(|(base, kind, filters, returning)| WritePlan {
            base,
            kind,
            filters,
            returning,
        })
        .boxed()
}
