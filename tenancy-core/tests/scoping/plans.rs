//! Statement plans: plain data that proptest generates and shrinks, turned
//! into typed builder calls here.
//!
//! A plan names table references ([`Ref`]: a table, under its name or an
//! alias, or a CTE) and the three probe columns every reference has (an
//! `i64`, a `String`, an `Option<String>`), so plans can combine any
//! references without types; [`Ctx`] carries what the typed calls need
//! (the statement's scope, its CTEs).

use tenancy_core::functions::{
    case_when, count_all, dense_rank, lag, lead_by, rank, row_number, value,
};
use tenancy_core::{
    Aliased, BuildStatement, Column, CrossTenant, Cte, Delete, DoUpdate, Expr, Filter, GlobalTable,
    Identifier, Insert, JoinKind, Ordering, Select, Table, TableAlias, TableMeta, TenantId,
    TenantKey, TenantScoped, Union, Update, Window,
};

#[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
use crate::tables::Asset;
#[cfg(feature = "uuid")]
use crate::tables::Device;
use crate::tables::{Account, Country, Customer, Invoice, Line, Member, Order, Plan};

/// The tables the properties draw from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tbl {
    Orders,
    Customers,
    Lines,
    Invoices,
    Accounts,
    Members,
    #[cfg(feature = "uuid")]
    Devices,
    /// With JSON, network and array columns.
    #[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
    Assets,
    Plans,
    Countries,
}

pub const GLOBALS: &[Tbl] = &[Tbl::Plans, Tbl::Countries];

/// Every table, for the oracle's schema knowledge.
pub const ALL: &[Tbl] = &[
    Tbl::Orders,
    Tbl::Customers,
    Tbl::Lines,
    Tbl::Invoices,
    Tbl::Accounts,
    Tbl::Members,
    #[cfg(feature = "uuid")]
    Tbl::Devices,
    #[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
    Tbl::Assets,
    Tbl::Plans,
    Tbl::Countries,
];

/// Runs `$body` with `$T` bound to the table type of `$tbl`.
macro_rules! with_table {
    ($tbl:expr, $T:ident => $body:expr) => {
        match $tbl {
            Tbl::Orders => {
                type $T = Order;
                $body
            }
            Tbl::Customers => {
                type $T = Customer;
                $body
            }
            Tbl::Lines => {
                type $T = Line;
                $body
            }
            Tbl::Invoices => {
                type $T = Invoice;
                $body
            }
            Tbl::Accounts => {
                type $T = Account;
                $body
            }
            Tbl::Members => {
                type $T = Member;
                $body
            }
            #[cfg(feature = "uuid")]
            Tbl::Devices => {
                type $T = Device;
                $body
            }
            #[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
            Tbl::Assets => {
                type $T = Asset;
                $body
            }
            Tbl::Plans => {
                type $T = Plan;
                $body
            }
            Tbl::Countries => {
                type $T = Country;
                $body
            }
        }
    };
}

impl Tbl {
    pub fn meta(self) -> &'static TableMeta {
        with_table!(self, T => T::meta())
    }

    pub fn is_scoped(self) -> bool {
        self.meta().is_scoped()
    }
}

/// Three columns every table has, so plans can name them without types.
pub trait Probe: Table + Sized {
    const INT: Column<Self, i64>;
    const TEXT: Column<Self, String>;
    const OPT: Column<Self, Option<String>>;
}

macro_rules! probes {
    ($($table:ty => $int:ident, $text:ident, $opt:ident;)*) => {$(
        impl Probe for $table {
            const INT: Column<Self, i64> = <$table>::$int;
            const TEXT: Column<Self, String> = <$table>::$text;
            const OPT: Column<Self, Option<String>> = <$table>::$opt;
        }
    )*};
}

probes! {
    Order => TOTAL, STATUS, NOTE;
    Customer => PLAN_ID, NAME, REGION;
    Line => QTY, SKU, GIFT_NOTE;
    Invoice => AMOUNT, STATE, MEMO;
    Account => CREDITS, NAME, CLOSED_REASON;
    Member => SCORE, EMAIL, NICK;
    Plan => PRICE, NAME, BLURB;
    Country => POPULATION, CODE, CAPITAL;
}

#[cfg(feature = "uuid")]
probes! {
    Device => BATTERY, NAME, LABEL;
}

#[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
probes! {
    Asset => WEIGHT, NAME, LABEL;
}

// ---- references -----------------------------------------------------------

/// Aliases of table references, and the names of CTEs.
pub const ALIASES: [&str; 3] = ["a0", "a1", "a2"];
pub const CTES: [&str; 2] = ["c0", "c1"];

fn name(kind: &'static str, text: &str) -> Identifier {
    Identifier::new(kind, text).expect("the plans' names are identifiers")
}

fn alias<T: Table>(index: u8) -> TableAlias<T> {
    TableAlias::new(name("alias", ALIASES[usize::from(index)]))
}

/// The outputs of a CTE's body (and of a union's members): `i`, `t`, `o`.
pub fn out_int() -> Aliased<i64> {
    value(0_i64).alias(name("alias", "i"))
}
pub fn out_text() -> Aliased<String> {
    value(String::new()).alias(name("alias", "t"))
}
pub fn out_opt() -> Aliased<Option<String>> {
    value(None::<String>).alias(name("alias", "o"))
}

/// A reference of a FROM list: a table under its name or an alias, or a
/// CTE of the statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ref {
    Table(Tbl, Option<u8>),
    Cte(u8),
}

impl Ref {
    pub fn table(table: Tbl) -> Ref {
        Ref::Table(table, None)
    }

    /// The name columns of the reference are qualified by.
    pub fn name(self) -> &'static str {
        match self {
            Ref::Table(table, None) => table.meta().name,
            Ref::Table(_, Some(alias)) => ALIASES[usize::from(alias)],
            Ref::Cte(cte) => CTES[usize::from(cte)],
        }
    }
}

/// Whom the statement is for, for building the parts that are selects of
/// their own (scalar subqueries, CTE bodies, union members).
pub enum Scope<'a, K: TenantKey> {
    Tenant(&'a TenantId<K>),
    Across(&'a CrossTenant),
    Global,
}

impl<K: TenantKey> Clone for Scope<'_, K> {
    fn clone(&self) -> Self {
        match self {
            Scope::Tenant(tenant) => Scope::Tenant(tenant),
            Scope::Across(capability) => Scope::Across(capability),
            Scope::Global => Scope::Global,
        }
    }
}

/// What building a plan needs: the scope, and the statement's CTEs.
pub struct Ctx<'a, W: World> {
    pub scope: Scope<'a, W::Key>,
    pub ctes: Vec<Cte>,
}

impl<'a, W: World> Ctx<'a, W> {
    pub fn new(scope: Scope<'a, W::Key>) -> Self {
        Ctx {
            scope,
            ctes: Vec::new(),
        }
    }

    fn cte(&self, index: u8) -> &Cte {
        &self.ctes[usize::from(index)]
    }

    fn int(&self, reference: Ref) -> Expr<i64> {
        match reference {
            Ref::Table(table, None) => with_table!(table, T => T::INT.into()),
            Ref::Table(table, Some(index)) => {
                with_table!(table, T => alias::<T>(index).col(T::INT))
            }
            Ref::Cte(index) => self.cte(index).col(&out_int()),
        }
    }

    fn text(&self, reference: Ref) -> Expr<String> {
        match reference {
            Ref::Table(table, None) => with_table!(table, T => T::TEXT.into()),
            Ref::Table(table, Some(index)) => {
                with_table!(table, T => alias::<T>(index).col(T::TEXT))
            }
            Ref::Cte(index) => self.cte(index).col(&out_text()),
        }
    }

    fn opt(&self, reference: Ref) -> Expr<Option<String>> {
        match reference {
            Ref::Table(table, None) => with_table!(table, T => T::OPT.into()),
            Ref::Table(table, Some(index)) => {
                with_table!(table, T => alias::<T>(index).col(T::OPT))
            }
            Ref::Cte(index) => self.cte(index).col(&out_opt()),
        }
    }
}

/// Hands a select of some table to generic code.
pub trait Start<R> {
    fn start<T: Probe>(self, select: Select<T>, joiner: Joiner<T>) -> R;
}

/// Adds a join of a table under its own name to a select on `B`.
pub type Joiner<B> = fn(Select<B>, JoinKind, Tbl, Filter) -> Select<B>;

// ---- filters and expressions ------------------------------------------------

#[derive(Clone, Copy, Debug)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// A test on one column of one reference.
#[derive(Clone, Debug)]
pub enum Leaf {
    Int(Cmp, i64),
    Text(Cmp, String),
    Opt(Cmp, String),
    IntIn(Vec<i64>, bool),
    TextIn(Vec<String>, bool),
    Between(i64, i64),
    Like(String, bool),
    Null(bool),
    /// An operator of a JSON, network or array column.
    #[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
    Typed(TypedLeaf),
}

/// The operators of the JSON, network address and array columns, on the
/// reference's columns where it has them (`Asset`'s), else on values.
#[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
#[derive(Clone, Debug)]
pub enum TypedLeaf {
    /// `spec -> k ->> k2 = v`.
    JsonPath(String, String, String),
    /// `spec ->> k = v`.
    JsonText(String, String),
    /// `spec @> {"k": n}`.
    JsonContains(String, i64),
    /// `spec ? k`.
    JsonHasKey(String),
    /// `address << 10.0.0.0/prefix` (`<<=` when true).
    Within(u8, bool),
    /// `address >> 10.0.0.n` (`>>=` when true).
    Encloses(u8, bool),
    /// `v = ANY(tags)`.
    ArrayHas(String),
    /// `tags @> {v, ..}`.
    ArrayContains(Vec<String>),
}

#[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
impl TypedLeaf {
    fn build(
        &self,
        spec: Expr<Option<serde_json::Value>>,
        address: Expr<Option<ipnetwork::IpNetwork>>,
        tags: Expr<Option<Vec<String>>>,
    ) -> Filter {
        use std::net::{IpAddr, Ipv4Addr};
        let network = |prefix: u8| {
            ipnetwork::IpNetwork::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), prefix.clamp(8, 32))
                .expect("a prefix of 8 to 32 bits")
        };
        match self {
            TypedLeaf::JsonPath(key, member, text) => spec
                .get(key.as_str())
                .get_text(member.as_str())
                .eq(text.clone()),
            TypedLeaf::JsonText(key, text) => spec.get_text(key.as_str()).eq(text.clone()),
            TypedLeaf::JsonContains(key, n) => spec.json_contains(serde_json::Value::Object(
                std::iter::once((key.clone(), serde_json::Value::from(*n))).collect(),
            )),
            TypedLeaf::JsonHasKey(key) => spec.has_key(key.as_str()),
            TypedLeaf::Within(prefix, false) => address.is_within(network(*prefix)),
            TypedLeaf::Within(prefix, true) => address.is_within_or_equal(network(*prefix)),
            TypedLeaf::Encloses(host, false) => {
                address.encloses(IpAddr::V4(Ipv4Addr::new(10, 0, 0, *host)))
            }
            TypedLeaf::Encloses(host, true) => {
                address.encloses_or_equal(IpAddr::V4(Ipv4Addr::new(10, 0, 0, *host)))
            }
            TypedLeaf::ArrayHas(element) => tags.has_element(element.clone()),
            TypedLeaf::ArrayContains(elements) => tags.array_contains(elements.iter().cloned()),
        }
    }
}

#[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
fn typed_leaf(reference: Ref, leaf: &TypedLeaf) -> Filter {
    match reference {
        Ref::Table(Tbl::Assets, None) => leaf.build(
            Asset::SPEC.into(),
            Asset::ADDRESS.into(),
            Asset::TAGS.into(),
        ),
        Ref::Table(Tbl::Assets, Some(index)) => {
            let asset = alias::<Asset>(index);
            leaf.build(
                asset.col(Asset::SPEC),
                asset.col(Asset::ADDRESS),
                asset.col(Asset::TAGS),
            )
        }
        // The other references have no such columns: the operator applies
        // to values, still written inside the construct the leaf is in.
        _ => leaf.build(
            value(Some(serde_json::json!({"k": {"k": "v"}}))),
            value(Some(ipnetwork::IpNetwork::from(std::net::IpAddr::V4(
                std::net::Ipv4Addr::new(10, 0, 0, 1),
            )))),
            value(Some(vec!["v".to_owned()])),
        ),
    }
}

#[derive(Clone, Debug)]
pub enum FilterPlan {
    Leaf(Ref, Leaf),
    /// `a.INT = b.INT`: joins and correlation.
    Link(Ref, Ref),
    /// `<int expr> <cmp> <int expr>`: column-to-column comparisons and
    /// arithmetic.
    Compare(Cmp, IntExpr, IntExpr),
    All(Vec<FilterPlan>),
    Any(Vec<FilterPlan>),
    Not(Box<FilterPlan>),
    InSubquery {
        outer: Ref,
        inner: Tbl,
        filter: Box<FilterPlan>,
        negated: bool,
    },
    Exists {
        inner: Tbl,
        filter: Box<FilterPlan>,
        negated: bool,
    },
}

/// An `i64` expression.
#[derive(Clone, Debug)]
pub enum IntExpr {
    Col(Ref),
    Value(i64),
    Arith(ArithPlan, Box<IntExpr>, Box<IntExpr>),
    Neg(Box<IntExpr>),
    Case(Box<FilterPlan>, Box<IntExpr>, Box<IntExpr>),
    /// `NULLIF(e, v)`, coalesced back to an `i64`.
    NullIf(Box<IntExpr>, i64),
    /// `CAST(CAST(e AS DOUBLE PRECISION) AS BIGINT)`.
    Cast(Box<IntExpr>),
    /// `COALESCE((SELECT MAX(<table>.INT) FROM <table> WHERE ..), 0)`, a
    /// select of its own.
    Scalar(Box<ScalarPlan>),
}

#[derive(Clone, Copy, Debug)]
pub enum ArithPlan {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// A `String` expression.
#[derive(Clone, Debug)]
pub enum TextExpr {
    Col(Ref),
    /// `COALESCE(<ref>.OPT, v)`.
    Opt(Ref, String),
    Value(String),
    Lower(Box<TextExpr>),
    Upper(Box<TextExpr>),
    Case(Box<FilterPlan>, Box<TextExpr>, Box<TextExpr>),
}

/// A scalar subquery: `MAX(INT)` of a table (aliased or not), filtered.
#[derive(Clone, Debug)]
pub struct ScalarPlan {
    pub table: Tbl,
    pub alias: Option<u8>,
    pub filter: Option<FilterPlan>,
}

fn compare<V: tenancy_core::ColumnType>(
    left: Expr<V>,
    cmp: Cmp,
    right: impl tenancy_core::AsExpr<V>,
) -> Filter
where
    V::Compare: tenancy_core::Comparable,
{
    match cmp {
        Cmp::Eq => left.eq(right),
        Cmp::Ne => left.ne(right),
        Cmp::Lt => left.lt(right),
        Cmp::Lte => left.lte(right),
        Cmp::Gt => left.gt(right),
        Cmp::Gte => left.gte(right),
    }
}

impl FilterPlan {
    pub fn build<W: World>(&self, ctx: &Ctx<'_, W>) -> Filter {
        match self {
            FilterPlan::Leaf(reference, test) => leaf(ctx, *reference, test),
            FilterPlan::Link(left, right) => ctx.int(*left).eq(ctx.int(*right)),
            FilterPlan::Compare(cmp, left, right) => {
                compare(left.build(ctx), *cmp, right.build(ctx))
            }
            FilterPlan::All(filters) => Filter::all(filters.iter().map(|f| f.build(ctx))),
            FilterPlan::Any(filters) => Filter::any(filters.iter().map(|f| f.build(ctx))),
            // Both spellings of NOT, so both are exercised.
            FilterPlan::Not(filter) if matches!(**filter, FilterPlan::Leaf(..)) => {
                !filter.build(ctx)
            }
            FilterPlan::Not(filter) => filter.build(ctx).not(),
            FilterPlan::InSubquery {
                outer,
                inner,
                filter,
                negated,
            } => with_table!(*inner, I => {
                let subquery = I::INT.subquery(filter.build(ctx));
                let outer = ctx.int(*outer);
                if *negated { outer.not_in_subquery(subquery) } else { outer.in_subquery(subquery) }
            }),
            FilterPlan::Exists {
                inner,
                filter,
                negated,
            } => with_table!(*inner, I => if *negated {
                Filter::not_exists::<I>(filter.build(ctx))
            } else {
                Filter::exists::<I>(filter.build(ctx))
            }),
        }
    }

    /// Every table in a subquery of this filter, at any depth.
    pub fn subquery_tables(&self, tables: &mut Vec<Tbl>) {
        match self {
            FilterPlan::Leaf(..) | FilterPlan::Link(..) => {}
            FilterPlan::Compare(_, left, right) => {
                left.subquery_tables(tables);
                right.subquery_tables(tables);
            }
            FilterPlan::All(filters) | FilterPlan::Any(filters) => filters
                .iter()
                .for_each(|filter| filter.subquery_tables(tables)),
            FilterPlan::Not(filter) => filter.subquery_tables(tables),
            FilterPlan::InSubquery { inner, filter, .. }
            | FilterPlan::Exists { inner, filter, .. } => {
                tables.push(*inner);
                filter.subquery_tables(tables);
            }
        }
    }
}

fn leaf<W: World>(ctx: &Ctx<'_, W>, reference: Ref, leaf: &Leaf) -> Filter {
    let int = || ctx.int(reference);
    let text = || ctx.text(reference);
    let opt = || ctx.opt(reference);
    match leaf {
        Leaf::Int(cmp, n) => compare(int(), *cmp, *n),
        Leaf::Text(cmp, s) => compare(text(), *cmp, s.clone()),
        Leaf::Opt(cmp, s) => compare(opt(), *cmp, s.clone()),
        Leaf::IntIn(values, false) => int().is_in(values.iter().copied()),
        Leaf::IntIn(values, true) => int().is_not_in(values.iter().copied()),
        Leaf::TextIn(values, false) => text().is_in(values.iter().cloned()),
        Leaf::TextIn(values, true) => text().is_not_in(values.iter().cloned()),
        Leaf::Between(low, high) => int().between(*low, *high),
        Leaf::Like(pattern, false) => text().like(pattern.as_str()),
        Leaf::Like(pattern, true) => opt().not_like(pattern.as_str()),
        Leaf::Null(false) => opt().is_null(),
        Leaf::Null(true) => opt().is_not_null(),
        #[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
        Leaf::Typed(typed) => typed_leaf(reference, typed),
    }
}

impl IntExpr {
    pub fn build<W: World>(&self, ctx: &Ctx<'_, W>) -> Expr<i64> {
        match self {
            IntExpr::Col(reference) => ctx.int(*reference),
            IntExpr::Value(n) => value(*n),
            IntExpr::Arith(op, left, right) => {
                let (left, right) = (left.build(ctx), right.build(ctx));
                match op {
                    ArithPlan::Add => left + right,
                    ArithPlan::Sub => left - right,
                    ArithPlan::Mul => left * right,
                    ArithPlan::Div => left / right,
                    ArithPlan::Rem => left % right,
                }
            }
            IntExpr::Neg(operand) => -operand.build(ctx),
            IntExpr::Case(condition, then, otherwise) => {
                case_when(condition.build(ctx), then.build(ctx)).otherwise(otherwise.build(ctx))
            }
            IntExpr::NullIf(operand, n) => operand.build(ctx).nullif(*n).coalesce(0_i64),
            IntExpr::Cast(operand) => operand.build(ctx).cast::<f64>().cast::<i64>(),
            IntExpr::Scalar(plan) => plan.build(ctx).coalesce(0_i64),
        }
    }

    pub fn subquery_tables(&self, tables: &mut Vec<Tbl>) {
        match self {
            IntExpr::Col(_) | IntExpr::Value(_) => {}
            IntExpr::Arith(_, left, right) => {
                left.subquery_tables(tables);
                right.subquery_tables(tables);
            }
            IntExpr::Neg(operand) | IntExpr::NullIf(operand, _) | IntExpr::Cast(operand) => {
                operand.subquery_tables(tables)
            }
            IntExpr::Case(condition, then, otherwise) => {
                condition.subquery_tables(tables);
                then.subquery_tables(tables);
                otherwise.subquery_tables(tables);
            }
            IntExpr::Scalar(plan) => {
                tables.push(plan.table);
                if let Some(filter) = &plan.filter {
                    filter.subquery_tables(tables);
                }
            }
        }
    }
}

impl TextExpr {
    pub fn build<W: World>(&self, ctx: &Ctx<'_, W>) -> Expr<String> {
        match self {
            TextExpr::Col(reference) => ctx.text(*reference),
            TextExpr::Opt(reference, s) => ctx.opt(*reference).coalesce(s.clone()),
            TextExpr::Value(s) => value(s.clone()),
            TextExpr::Lower(operand) => operand.build(ctx).lower(),
            TextExpr::Upper(operand) => operand.build(ctx).upper(),
            TextExpr::Case(condition, then, otherwise) => {
                case_when(condition.build(ctx), then.build(ctx)).otherwise(otherwise.build(ctx))
            }
        }
    }

    pub fn subquery_tables(&self, tables: &mut Vec<Tbl>) {
        match self {
            TextExpr::Col(_) | TextExpr::Opt(..) | TextExpr::Value(_) => {}
            TextExpr::Lower(operand) | TextExpr::Upper(operand) => operand.subquery_tables(tables),
            TextExpr::Case(condition, then, otherwise) => {
                condition.subquery_tables(tables);
                then.subquery_tables(tables);
                otherwise.subquery_tables(tables);
            }
        }
    }
}

impl ScalarPlan {
    /// A select of its own, for the statement's scope.
    fn build<W: World>(&self, ctx: &Ctx<'_, W>) -> Expr<Option<i64>> {
        struct Scalar<'p, 'c, 'a, W: World> {
            plan: &'p ScalarPlan,
            ctx: &'c Ctx<'a, W>,
        }
        impl<W: World> Start<Expr<Option<i64>>> for Scalar<'_, '_, '_, W> {
            fn start<T: Probe>(self, select: Select<T>, _: Joiner<T>) -> Expr<Option<i64>> {
                let (select, int) = match self.plan.alias {
                    Some(index) => {
                        let alias = alias::<T>(index);
                        (select.aliased(&alias), alias.col(T::INT))
                    }
                    None => (select, Expr::from(T::INT)),
                };
                let select = match &self.plan.filter {
                    Some(filter) => select.filter(filter.build(self.ctx)),
                    None => select,
                };
                select.scalar(int.max())
            }
        }
        W::start(&ctx.scope, self.table, Scalar { plan: self, ctx })
    }
}

// ---- projections ----------------------------------------------------------

#[derive(Clone, Copy, Debug)]
pub enum Col {
    Int,
    Text,
    Opt,
}

/// An aggregate.
#[derive(Clone, Debug)]
pub enum AggPlan {
    CountAll,
    Count(Ref),
    CountDistinct(Ref),
    Sum(IntExpr),
    Avg(Ref),
    Min(Ref),
    Max(TextExpr),
}

/// A window function.
#[derive(Clone, Debug)]
pub struct WindowPlan {
    pub function: WindowFn,
    pub partition: Vec<Ref>,
    pub order: Vec<(Ref, bool)>,
}

#[derive(Clone, Copy, Debug)]
pub enum WindowFn {
    RowNumber,
    Rank,
    DenseRank,
    Lag(Ref),
    Lead(Ref),
    Sum(Ref),
}

/// One projection item.
#[derive(Clone, Debug)]
pub enum ItemPlan {
    Column(Ref, Col),
    Int(IntExpr),
    Text(TextExpr),
    Agg(AggPlan),
    Window(WindowPlan),
}

impl ItemPlan {
    fn subquery_tables(&self, tables: &mut Vec<Tbl>) {
        match self {
            ItemPlan::Int(expr) | ItemPlan::Agg(AggPlan::Sum(expr)) => expr.subquery_tables(tables),
            ItemPlan::Text(expr) | ItemPlan::Agg(AggPlan::Max(expr)) => {
                expr.subquery_tables(tables)
            }
            _ => {}
        }
    }
}

/// `.column(item)` or `.column(item.alias(..))`, at `position`.
fn project<T, W: World>(
    select: Select<T>,
    item: &ItemPlan,
    aliased: bool,
    position: usize,
    ctx: &Ctx<'_, W>,
) -> Select<T> {
    let alias = name("alias", &format!("o{position}"));
    macro_rules! add {
        ($expr:expr) => {{
            let expr = $expr;
            if aliased {
                select.column(expr.alias(alias))
            } else {
                select.column(expr)
            }
        }};
    }
    match item {
        ItemPlan::Column(reference, Col::Int) => add!(ctx.int(*reference)),
        ItemPlan::Column(reference, Col::Text) => add!(ctx.text(*reference)),
        ItemPlan::Column(reference, Col::Opt) => add!(ctx.opt(*reference)),
        ItemPlan::Int(expr) => add!(expr.build(ctx)),
        ItemPlan::Text(expr) => add!(expr.build(ctx)),
        ItemPlan::Agg(AggPlan::CountAll) => add!(count_all()),
        ItemPlan::Agg(AggPlan::Count(reference)) => add!(ctx.opt(*reference).count()),
        ItemPlan::Agg(AggPlan::CountDistinct(reference)) => {
            add!(ctx.text(*reference).count_distinct())
        }
        ItemPlan::Agg(AggPlan::Sum(expr)) => add!(expr.build(ctx).sum()),
        ItemPlan::Agg(AggPlan::Avg(reference)) => add!(ctx.int(*reference).avg()),
        ItemPlan::Agg(AggPlan::Min(reference)) => add!(ctx.int(*reference).min()),
        ItemPlan::Agg(AggPlan::Max(expr)) => add!(expr.build(ctx).max()),
        ItemPlan::Window(plan) => {
            let mut window = Window::new();
            for reference in &plan.partition {
                window = window.partition_by(ctx.int(*reference));
            }
            for (reference, descending) in &plan.order {
                let key = ctx.int(*reference);
                window = window.order_by(if *descending { key.desc() } else { key.asc() });
            }
            match plan.function {
                WindowFn::RowNumber => add!(row_number().over(window)),
                WindowFn::Rank => add!(rank().over(window)),
                WindowFn::DenseRank => add!(dense_rank().over(window)),
                WindowFn::Lag(reference) => add!(lag(ctx.int(reference)).over(window)),
                WindowFn::Lead(reference) => add!(lead_by(ctx.text(reference), 2).over(window)),
                WindowFn::Sum(reference) => add!(ctx.int(reference).sum().over(window)),
            }
        }
    }
}

fn compare_aggregate<V: tenancy_core::ColumnType>(
    left: tenancy_core::Aggregate<V>,
    cmp: Cmp,
    right: impl tenancy_core::AsExpr<V>,
) -> Filter
where
    V::Compare: tenancy_core::Comparable,
{
    match cmp {
        Cmp::Eq => left.eq(right),
        Cmp::Ne => left.ne(right),
        Cmp::Lt => left.lt(right),
        Cmp::Lte => left.lte(right),
        Cmp::Gt => left.gt(right),
        Cmp::Gte => left.gte(right),
    }
}

fn aggregate_filter<W: World>(plan: &AggPlan, cmp: Cmp, n: i64, ctx: &Ctx<'_, W>) -> Filter {
    match plan {
        AggPlan::CountAll => compare_aggregate(count_all(), cmp, n),
        AggPlan::Count(reference) => compare_aggregate(ctx.opt(*reference).count(), cmp, n),
        AggPlan::CountDistinct(reference) => {
            compare_aggregate(ctx.text(*reference).count_distinct(), cmp, n)
        }
        AggPlan::Sum(expr) => compare_aggregate(expr.build(ctx).sum(), cmp, n),
        AggPlan::Avg(reference) => ctx.int(*reference).avg().gt(n as f64),
        AggPlan::Min(reference) => compare_aggregate(ctx.int(*reference).min(), cmp, n),
        AggPlan::Max(expr) => expr.build(ctx).max().is_not_null(),
    }
}

// ---- selects ----------------------------------------------------------------

/// What is joined.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// A table under its name or an alias.
    Table(Tbl, Option<u8>),
    /// A CTE of the statement.
    Cte(u8),
}

impl Target {
    pub fn reference(self) -> Ref {
        match self {
            Target::Table(table, alias) => Ref::Table(table, alias),
            Target::Cte(index) => Ref::Cte(index),
        }
    }
}

#[derive(Clone, Debug)]
pub struct JoinPlan {
    pub target: Target,
    pub kind: JoinKind,
    /// The join condition: a link to an earlier reference, and maybe more.
    pub on: FilterPlan,
}

#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Rows,
    Count,
    Exists,
}

#[derive(Clone, Debug)]
pub enum DistinctPlan {
    No,
    Rows,
    /// PostgreSQL only.
    On(Vec<Ref>),
}

/// An ordering key.
#[derive(Clone, Debug)]
pub enum OrderPlan {
    Column(Ref, Col, bool, Option<bool>),
    /// The projection item at this position, by its alias.
    Alias(usize, bool),
    Aggregate(AggPlan, bool),
}

#[derive(Clone, Copy, Debug)]
pub enum LockPlan {
    Update,
    Share,
    UpdateSkipLocked,
    UpdateNoWait,
    ShareSkipLocked,
}

/// A CTE of a statement.
#[derive(Clone, Debug)]
pub enum CtePlan {
    /// `"c<n>" AS (<member> [UNION [ALL] <member> ...])`.
    Plain(Vec<(bool, MemberPlan)>),
    /// `WITH RECURSIVE "c<n>" AS (<anchor> UNION ALL <step>)` over one
    /// table: the step reads the table joined with the CTE.
    Recursive {
        table: Tbl,
        anchor: Option<FilterPlan>,
        step: Option<FilterPlan>,
    },
}

/// A select projecting `(i, t, o)`: a CTE's body or a union's member.
#[derive(Clone, Debug)]
pub struct MemberPlan {
    pub base: Tbl,
    pub joins: Vec<(Tbl, JoinKind, FilterPlan)>,
    pub filters: Vec<FilterPlan>,
    pub int: IntExpr,
    pub text: TextExpr,
}

#[derive(Clone, Debug)]
pub struct SelectPlan {
    pub ctes: Vec<CtePlan>,
    pub base: Ref,
    pub joins: Vec<JoinPlan>,
    pub filters: Vec<FilterPlan>,
    /// Items, and whether each is aliased (`o<position>`).
    pub projection: Vec<(ItemPlan, bool)>,
    pub group_by: Vec<(Ref, Col)>,
    pub having: Vec<(AggPlan, Cmp, i64)>,
    pub distinct: DistinctPlan,
    pub order: Vec<OrderPlan>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub lock: Option<LockPlan>,
    pub shape: Shape,
}

impl SelectPlan {
    /// Whether SQLite has every construct of the plan.
    pub fn on_sqlite(&self) -> bool {
        // `EXISTS` of the rows ignores how they would be made distinct.
        !matches!(self.distinct, DistinctPlan::On(_)) || matches!(self.shape, Shape::Exists)
    }

    /// Builds the statement for the context's scope.
    pub fn build<W: World>(&self, ctx: &mut Ctx<'_, W>) -> Box<dyn BuildStatement> {
        ctx.ctes = self
            .ctes
            .iter()
            .enumerate()
            .map(|(index, plan)| plan.build(index, ctx))
            .collect();
        match self.base {
            Ref::Table(table, _) => W::start(&ctx.scope, table, Build { plan: self, ctx }),
            Ref::Cte(index) => {
                let select = ctx.cte(index).select();
                Build { plan: self, ctx }.finish(select, no_joiner)
            }
        }
    }

    /// Every table the statement references: the base, joins, subqueries,
    /// CTE bodies.
    pub fn tables(&self) -> Vec<Tbl> {
        let mut tables = Vec::new();
        for cte in &self.ctes {
            cte.tables(&mut tables);
        }
        if let Ref::Table(table, _) = self.base {
            tables.push(table);
        }
        for join in &self.joins {
            if let Target::Table(table, _) = join.target {
                tables.push(table);
            }
            join.on.subquery_tables(&mut tables);
        }
        for filter in &self.filters {
            filter.subquery_tables(&mut tables);
        }
        // A count of a grouped or distinct select counts its rows, written
        // whole; otherwise counts and exists leave the projection out.
        let rows = !matches!(self.distinct, DistinctPlan::No)
            || !self.group_by.is_empty()
            || !self.having.is_empty();
        let projected = match self.shape {
            Shape::Rows => true,
            Shape::Count => rows,
            Shape::Exists => false,
        };
        if projected {
            for (item, _) in &self.projection {
                item.subquery_tables(&mut tables);
            }
        }
        tables
    }
}

struct Build<'p, 'c, 'a, W: World> {
    plan: &'p SelectPlan,
    ctx: &'c Ctx<'a, W>,
}

fn no_joiner(_: Select<Cte>, kind: JoinKind, table: Tbl, _: Filter) -> Select<Cte> {
    panic!("a select of a CTE joins {table:?} ({kind:?}) only through an alias")
}

impl<W: World> Start<Box<dyn BuildStatement>> for Build<'_, '_, '_, W> {
    fn start<T: Probe>(self, select: Select<T>, joiner: Joiner<T>) -> Box<dyn BuildStatement> {
        let select = match self.plan.base {
            Ref::Table(_, Some(index)) => select.aliased(&alias::<T>(index)),
            _ => select,
        };
        self.finish(select, joiner)
    }
}

impl<W: World> Build<'_, '_, '_, W> {
    fn finish<T: 'static>(self, start: Select<T>, joiner: Joiner<T>) -> Box<dyn BuildStatement> {
        let (plan, ctx) = (self.plan, self.ctx);
        let mut select = start;
        for cte in &ctx.ctes {
            select = select.with(cte);
        }
        for join in &plan.joins {
            let on = join.on.build(ctx);
            select = match join.target {
                Target::Table(table, None) => joiner(select, join.kind, table, on),
                Target::Table(table, Some(index)) => {
                    with_table!(table, U => select.join_with(join.kind, &alias::<U>(index), on))
                }
                Target::Cte(index) => select.join_with(join.kind, ctx.cte(index), on),
            };
        }
        for filter in &plan.filters {
            select = select.filter(filter.build(ctx));
        }
        for (position, (item, aliased)) in plan.projection.iter().enumerate() {
            select = project(select, item, *aliased, position, ctx);
        }
        for (reference, column) in &plan.group_by {
            select = match column {
                Col::Int => select.group_by(ctx.int(*reference)),
                Col::Text => select.group_by(ctx.text(*reference)),
                Col::Opt => select.group_by(ctx.opt(*reference)),
            };
        }
        for (aggregate, cmp, n) in &plan.having {
            select = select.having(aggregate_filter(aggregate, *cmp, *n, ctx));
        }
        select = match &plan.distinct {
            DistinctPlan::No => select,
            DistinctPlan::Rows => select.distinct(),
            DistinctPlan::On(references) => {
                let mut select = select;
                for reference in references {
                    select = select.distinct_on(ctx.int(*reference));
                }
                select
            }
        };
        for order in &plan.order {
            select = match order {
                OrderPlan::Column(reference, column, descending, nulls) => {
                    let ordering = ordering(ctx, *reference, *column, *descending);
                    select.order_by(match nulls {
                        None => ordering,
                        Some(true) => ordering.nulls_first(),
                        Some(false) => ordering.nulls_last(),
                    })
                }
                OrderPlan::Alias(position, descending) => {
                    let alias = value(0_i64).alias(name("alias", &format!("o{position}")));
                    select.order_by(if *descending {
                        alias.desc()
                    } else {
                        alias.asc()
                    })
                }
                OrderPlan::Aggregate(aggregate, descending) => {
                    let key = aggregate_key(aggregate, ctx);
                    select.order_by(if *descending { key.desc() } else { key.asc() })
                }
            };
        }
        if let Some(limit) = plan.limit {
            select = select.limit(limit);
        }
        if let Some(offset) = plan.offset {
            select = select.offset(offset);
        }
        select = match plan.lock {
            None => select,
            Some(LockPlan::Update) => select.for_update(),
            Some(LockPlan::Share) => select.for_share(),
            Some(LockPlan::UpdateSkipLocked) => select.for_update().skip_locked(),
            Some(LockPlan::UpdateNoWait) => select.nowait().for_update(),
            Some(LockPlan::ShareSkipLocked) => select.skip_locked().for_share(),
        };
        match plan.shape {
            Shape::Rows => Box::new(select),
            Shape::Count => Box::new(select.count()),
            Shape::Exists => Box::new(select.exists()),
        }
    }
}

fn ordering<W: World>(ctx: &Ctx<'_, W>, reference: Ref, column: Col, descending: bool) -> Ordering {
    match (column, descending) {
        (Col::Int, false) => ctx.int(reference).asc(),
        (Col::Int, true) => ctx.int(reference).desc(),
        (Col::Text, false) => ctx.text(reference).asc(),
        (Col::Text, true) => ctx.text(reference).desc(),
        (Col::Opt, false) => ctx.opt(reference).asc(),
        (Col::Opt, true) => ctx.opt(reference).desc(),
    }
}

/// An aggregate as an ordering key (of any type: only its SQL matters).
fn aggregate_key<W: World>(plan: &AggPlan, ctx: &Ctx<'_, W>) -> tenancy_core::Aggregate<i64> {
    match plan {
        AggPlan::CountAll => count_all(),
        AggPlan::Count(reference) => ctx.opt(*reference).count(),
        AggPlan::CountDistinct(reference) => ctx.text(*reference).count_distinct(),
        _ => count_all(),
    }
}

impl CtePlan {
    fn build<W: World>(&self, index: usize, ctx: &Ctx<'_, W>) -> Cte {
        let cte_name = name("cte", CTES[index]);
        match self {
            CtePlan::Plain(members) => {
                struct Named(Identifier);
                impl Finish<Cte> for Named {
                    fn select<T: 'static>(self, select: Select<T>) -> Cte {
                        Cte::new(self.0, select)
                    }
                    fn union<T: 'static>(self, union: Union<T>) -> Cte {
                        Cte::new(self.0, union)
                    }
                }
                let mut iter = members.iter();
                let (_, first) = iter.next().expect("a CTE has a body");
                union_of(first, iter, ctx, Named(cte_name))
            }
            CtePlan::Recursive {
                table,
                anchor,
                step,
            } => W::start(
                &ctx.scope,
                *table,
                Recursive {
                    name: cte_name,
                    anchor,
                    step,
                    ctx,
                },
            ),
        }
    }

    fn tables(&self, tables: &mut Vec<Tbl>) {
        match self {
            CtePlan::Plain(members) => {
                for (_, member) in members {
                    member.tables(tables);
                }
            }
            CtePlan::Recursive {
                table,
                anchor,
                step,
            } => {
                tables.push(*table);
                tables.push(*table);
                for filter in [anchor, step].into_iter().flatten() {
                    filter.subquery_tables(tables);
                }
            }
        }
    }
}

struct Recursive<'p, 'c, 'a, W: World> {
    name: Identifier,
    anchor: &'p Option<FilterPlan>,
    step: &'p Option<FilterPlan>,
    ctx: &'c Ctx<'a, W>,
}

impl<W: World> Start<Cte> for Recursive<'_, '_, '_, W> {
    fn start<T: Probe>(self, select: Select<T>, _: Joiner<T>) -> Cte {
        let anchor_ctx = self.ctx;
        let anchor = outputs(select.clone(), T::INT.into(), T::TEXT.into(), T::OPT.into());
        let anchor = match self.anchor {
            Some(filter) => anchor.filter(filter.build(anchor_ctx)),
            None => anchor,
        };
        let step = self.step;
        let scope = self.ctx.scope.clone();
        Cte::recursive(self.name, anchor, move |cte| {
            let mut step_ctx = Ctx::<W>::new(scope);
            step_ctx.ctes.push(cte.clone());
            let member = outputs(select, T::INT + 1, T::TEXT.into(), T::OPT.into()).join_with(
                JoinKind::Inner,
                cte,
                Expr::from(T::INT).eq(cte.col(&out_int()) + 1),
            );
            match step {
                Some(filter) => member.filter(filter.build(&step_ctx)),
                None => member,
            }
        })
    }
}

/// A select's projection as a CTE body's outputs.
fn outputs<T>(
    select: Select<T>,
    int: Expr<i64>,
    text: Expr<String>,
    opt: Expr<Option<String>>,
) -> Select<T> {
    select.columns((
        int.alias(out_int().name().clone()),
        text.alias(out_text().name().clone()),
        opt.alias(out_opt().name().clone()),
    ))
}

/// What is made of a select or a union of selects, whatever their tables.
trait Finish<R> {
    fn select<T: 'static>(self, select: Select<T>) -> R;
    fn union<T: 'static>(self, union: Union<T>) -> R;
}

impl MemberPlan {
    fn tables(&self, tables: &mut Vec<Tbl>) {
        tables.push(self.base);
        for (table, _, on) in &self.joins {
            tables.push(*table);
            on.subquery_tables(tables);
        }
        for filter in &self.filters {
            filter.subquery_tables(tables);
        }
        self.int.subquery_tables(tables);
        self.text.subquery_tables(tables);
    }
}

/// A union of members (or one member), as a statement or a CTE body.
fn union_of<'m, W: World, R>(
    first: &MemberPlan,
    rest: impl Iterator<Item = &'m (bool, MemberPlan)>,
    ctx: &Ctx<'_, W>,
    finish: impl Finish<R>,
) -> R {
    let rest: Vec<&(bool, MemberPlan)> = rest.collect();
    W::start(
        &ctx.scope,
        first.base,
        First {
            first,
            rest,
            ctx,
            finish,
        },
    )
}

struct First<'p, 'c, 'a, W: World, F> {
    first: &'p MemberPlan,
    rest: Vec<&'p (bool, MemberPlan)>,
    ctx: &'c Ctx<'a, W>,
    finish: F,
}

impl<W: World, R, F: Finish<R>> Start<R> for First<'_, '_, '_, W, F> {
    fn start<T: Probe>(self, select: Select<T>, joiner: Joiner<T>) -> R {
        let first = member(select, joiner, self.first, self.ctx);
        if self.rest.is_empty() {
            return self.finish.select(first);
        }
        let mut union: Option<Union<T>> = None;
        for (all, plan) in self.rest {
            union = Some(W::start(
                &self.ctx.scope,
                plan.base,
                Next {
                    union,
                    first: &first,
                    all: *all,
                    plan,
                    ctx: self.ctx,
                },
            ));
        }
        self.finish.union(union.expect("a member after the first"))
    }
}

struct Next<'p, 'c, 'a, W: World, T> {
    union: Option<Union<T>>,
    first: &'p Select<T>,
    all: bool,
    plan: &'p MemberPlan,
    ctx: &'c Ctx<'a, W>,
}

impl<W: World, T> Start<Union<T>> for Next<'_, '_, '_, W, T> {
    fn start<U: Probe>(self, select: Select<U>, joiner: Joiner<U>) -> Union<T> {
        let next = member(select, joiner, self.plan, self.ctx);
        match (self.union, self.all) {
            (None, false) => self.first.clone().union(next),
            (None, true) => self.first.clone().union_all(next),
            (Some(union), false) => union.union(next),
            (Some(union), true) => union.union_all(next),
        }
    }
}

fn member<T: Probe, W: World>(
    select: Select<T>,
    joiner: Joiner<T>,
    plan: &MemberPlan,
    ctx: &Ctx<'_, W>,
) -> Select<T> {
    let mut select = select;
    for (table, kind, on) in &plan.joins {
        select = joiner(select, *kind, *table, on.build(ctx));
    }
    for filter in &plan.filters {
        select = select.filter(filter.build(ctx));
    }
    outputs(
        select,
        plan.int.build(ctx),
        plan.text.build(ctx),
        T::OPT.into(),
    )
}

/// A union of members as a whole statement, ordered by its outputs.
#[derive(Clone, Debug)]
pub struct UnionPlan {
    pub first: MemberPlan,
    pub rest: Vec<(bool, MemberPlan)>,
    pub order: Vec<(bool, bool)>,
    pub limit: Option<u64>,
}

impl UnionPlan {
    pub fn build<W: World>(&self, ctx: &Ctx<'_, W>) -> Box<dyn BuildStatement> {
        union_of(&self.first, self.rest.iter(), ctx, Ordered(self))
    }

    pub fn tables(&self) -> Vec<Tbl> {
        let mut tables = Vec::new();
        self.first.tables(&mut tables);
        for (_, member) in &self.rest {
            member.tables(&mut tables);
        }
        tables
    }
}

/// A union plan's ordering and limit, put on the union.
struct Ordered<'p>(&'p UnionPlan);

impl Finish<Box<dyn BuildStatement>> for Ordered<'_> {
    fn select<T: 'static>(self, _: Select<T>) -> Box<dyn BuildStatement> {
        panic!("a union plan has two members or more")
    }

    fn union<T: 'static>(self, union: Union<T>) -> Box<dyn BuildStatement> {
        let mut union = union;
        for (by_text, descending) in &self.0.order {
            let key = if *by_text {
                if *descending {
                    out_text().desc()
                } else {
                    out_text().asc()
                }
            } else if *descending {
                out_int().desc()
            } else {
                out_int().asc()
            };
            union = union.order_by(key);
        }
        if let Some(limit) = self.0.limit {
            union = union.limit(limit);
        }
        Box::new(union)
    }
}

/// `RETURNING` items, each aliased by position so that an expression and a
/// column never clash.
fn returned<W: World>(items: &[ItemPlan], ctx: &Ctx<'_, W>) -> Vec<Returned> {
    items
        .iter()
        .enumerate()
        .filter_map(|(position, item)| {
            let alias = name("alias", &format!("r{position}"));
            Some(match item {
                ItemPlan::Column(reference, Col::Int) => {
                    Returned::Int(ctx.int(*reference).alias(alias))
                }
                ItemPlan::Int(expr) => Returned::Int(expr.build(ctx).alias(alias)),
                ItemPlan::Column(reference, Col::Text) => {
                    Returned::Text(ctx.text(*reference).alias(alias))
                }
                ItemPlan::Text(expr) => Returned::Text(expr.build(ctx).alias(alias)),
                ItemPlan::Column(reference, Col::Opt) => {
                    Returned::Opt(ctx.opt(*reference).alias(alias))
                }
                ItemPlan::Agg(_) | ItemPlan::Window(_) => return None,
            })
        })
        .collect()
}

/// One `RETURNING` item, of any of the probe types.
pub enum Returned {
    Int(Aliased<i64>),
    Text(Aliased<String>),
    Opt(Aliased<Option<String>>),
}

/// Adds `RETURNING` items to a write.
macro_rules! returning {
    ($statement:expr, $plan:expr, $ctx:expr) => {{
        let statement = $statement;
        match &$plan.returning {
            ReturningPlan::Nothing => statement,
            ReturningPlan::All => statement.returning_all(),
            ReturningPlan::Items(items) => {
                let mut statement = statement;
                for item in returned(items, $ctx) {
                    statement = match item {
                        Returned::Int(item) => statement.returning(item),
                        Returned::Text(item) => statement.returning(item),
                        Returned::Opt(item) => statement.returning(item),
                    };
                }
                statement
            }
        }
    }};
}

// ---- writes -----------------------------------------------------------------

/// A value assigned to a probe column.
#[derive(Clone, Debug)]
pub enum Value {
    Int(i64),
    Text(String),
    Opt(Option<String>),
    /// An `i64` expression of the row (and of an UPDATE's FROM list).
    IntExpr(IntExpr),
    /// A `String` expression.
    TextExpr(TextExpr),
    /// `DEFAULT` (INSERT only).
    Default(Col),
}

impl Value {
    fn column(&self) -> Col {
        match self {
            Value::Int(_) | Value::IntExpr(_) => Col::Int,
            Value::Text(_) | Value::TextExpr(_) => Col::Text,
            Value::Opt(_) => Col::Opt,
            Value::Default(column) => *column,
        }
    }

    fn subquery_tables(&self, tables: &mut Vec<Tbl>) {
        match self {
            Value::IntExpr(expr) => expr.subquery_tables(tables),
            Value::TextExpr(expr) => expr.subquery_tables(tables),
            _ => {}
        }
    }
}

/// What an upsert does on a conflict.
#[derive(Clone, Debug)]
pub enum ConflictPlan {
    None,
    Nothing,
    /// `OPT = excluded.OPT`.
    Copy,
    /// `INT = INT + excluded.INT`, `TEXT = excluded.TEXT`, under a filter of
    /// the existing row.
    Update(Option<FilterPlan>),
}

#[derive(Clone, Debug)]
pub enum WriteKind {
    Update {
        sets: Vec<Value>,
        /// Tables of `FROM`, under their name or an alias.
        from: Vec<(Tbl, Option<u8>)>,
    },
    Delete {
        /// Tables of `USING` (PostgreSQL only).
        using: Vec<(Tbl, Option<u8>)>,
    },
    Insert {
        rows: Vec<Vec<Value>>,
        conflict: ConflictPlan,
    },
}

#[derive(Clone, Debug)]
pub enum ReturningPlan {
    Nothing,
    All,
    Items(Vec<ItemPlan>),
}

#[derive(Clone, Debug)]
pub struct WritePlan {
    pub base: Tbl,
    pub kind: WriteKind,
    pub filters: Vec<FilterPlan>,
    pub returning: ReturningPlan,
}

impl WritePlan {
    /// Whether SQLite has every construct of the plan.
    pub fn on_sqlite(&self) -> bool {
        match &self.kind {
            WriteKind::Delete { using } => using.is_empty(),
            // SQLite writes a row of defaults only alone, as `DEFAULT VALUES`.
            WriteKind::Insert { rows, .. } => {
                let all_defaults = rows
                    .iter()
                    .all(|row| row.iter().all(|value| matches!(value, Value::Default(_))));
                defaults_agree(rows) && !(all_defaults && !self.base.is_scoped() && rows.len() > 1)
            }
            WriteKind::Update { .. } => true,
        }
    }

    pub fn build_update<B: Probe, W: World>(
        &self,
        start: Update<B>,
        ctx: &Ctx<'_, W>,
        from: fn(Update<B>, Tbl) -> Update<B>,
    ) -> Box<dyn BuildStatement> {
        let WriteKind::Update {
            sets,
            from: sources,
        } = &self.kind
        else {
            unreachable!("not an update plan")
        };
        let mut update = start;
        for (table, alias_index) in sources {
            update = match alias_index {
                None => from(update, *table),
                Some(index) => with_table!(*table, U => update.from_source(&alias::<U>(*index))),
            };
        }
        for value in sets {
            update = match value.clone() {
                Value::Int(n) => update.set(B::INT, n),
                Value::Text(s) => update.set(B::TEXT, s),
                Value::Opt(s) => update.set(B::OPT, s),
                Value::IntExpr(expr) => update.set(B::INT, expr.build(ctx)),
                Value::TextExpr(expr) => update.set(B::TEXT, expr.build(ctx)),
                Value::Default(_) => unreachable!("no DEFAULT in an UPDATE plan"),
            };
        }
        for filter in &self.filters {
            update = update.filter(filter.build(ctx));
        }
        Box::new(returning!(update, self, ctx))
    }

    pub fn build_delete<B: Probe, W: World>(
        &self,
        start: Delete<B>,
        ctx: &Ctx<'_, W>,
        using: fn(Delete<B>, Tbl) -> Delete<B>,
    ) -> Box<dyn BuildStatement> {
        let WriteKind::Delete { using: sources } = &self.kind else {
            unreachable!("not a delete plan")
        };
        let mut delete = start;
        for (table, alias_index) in sources {
            delete = match alias_index {
                None => using(delete, *table),
                Some(index) => {
                    with_table!(*table, U => delete.using_source(&alias::<U>(*index)))
                }
            };
        }
        for filter in &self.filters {
            delete = delete.filter(filter.build(ctx));
        }
        Box::new(returning!(delete, self, ctx))
    }

    pub fn build_insert<B: Probe, W: World>(
        &self,
        start: Insert<B>,
        ctx: &Ctx<'_, W>,
    ) -> Box<dyn BuildStatement> {
        let WriteKind::Insert { rows, conflict } = &self.kind else {
            unreachable!("not an insert plan")
        };
        let mut insert = start;
        for (index, row) in rows.iter().enumerate() {
            if index > 0 {
                insert = insert.new_row();
            }
            for value in row {
                insert = match value.clone() {
                    Value::Int(n) => insert.set(B::INT, n),
                    Value::Text(s) => insert.set(B::TEXT, s),
                    Value::Opt(s) => insert.set(B::OPT, s),
                    Value::IntExpr(expr) => insert.set(B::INT, expr.build(ctx)),
                    Value::TextExpr(expr) => insert.set(B::TEXT, expr.build(ctx)),
                    Value::Default(Col::Int) => insert.set_default(B::INT),
                    Value::Default(Col::Text) => insert.set_default(B::TEXT),
                    Value::Default(Col::Opt) => insert.set_default(B::OPT),
                };
            }
        }
        insert = match conflict {
            ConflictPlan::None => insert,
            ConflictPlan::Nothing => insert.on_conflict_do_nothing((B::INT,)),
            ConflictPlan::Copy => insert.on_conflict_do_update((B::INT, B::TEXT), (B::OPT,)),
            ConflictPlan::Update(filter) => {
                let mut update = DoUpdate::new()
                    .set(B::INT, B::INT + B::INT.excluded())
                    .set(B::TEXT, B::TEXT.excluded());
                if let Some(filter) = filter {
                    update = update.filter(
                        filter
                            .build(ctx)
                            .and(B::INT.excluded().gte(Expr::from(B::INT))),
                    );
                }
                insert.on_conflict_do_update((B::INT,), update)
            }
        };
        Box::new(returning!(insert, self, ctx))
    }

    pub fn tables(&self) -> Vec<Tbl> {
        let mut tables = vec![self.base];
        match &self.kind {
            WriteKind::Update { sets, from } => {
                tables.extend(from.iter().map(|(table, _)| *table));
                sets.iter()
                    .for_each(|value| value.subquery_tables(&mut tables));
            }
            WriteKind::Delete { using } => tables.extend(using.iter().map(|(table, _)| *table)),
            WriteKind::Insert { rows, conflict } => {
                for value in rows.iter().flatten() {
                    value.subquery_tables(&mut tables);
                }
                if let ConflictPlan::Update(Some(filter)) = conflict {
                    filter.subquery_tables(&mut tables);
                }
            }
        }
        for filter in &self.filters {
            filter.subquery_tables(&mut tables);
        }
        if let ReturningPlan::Items(items) = &self.returning {
            for item in items {
                item.subquery_tables(&mut tables);
            }
        }
        tables
    }
}

/// Whether every row leaves the same columns to their default (SQLite
/// leaves such a column out, which needs all rows to agree).
fn defaults_agree(rows: &[Vec<Value>]) -> bool {
    let defaults = |row: &Vec<Value>| -> Vec<u8> {
        let mut columns: Vec<u8> = row
            .iter()
            .filter(|value| matches!(value, Value::Default(_)))
            .map(|value| value.column() as u8)
            .collect();
        columns.sort_unstable();
        columns
    };
    rows.windows(2)
        .all(|pair| defaults(&pair[0]) == defaults(&pair[1]))
}

// ---- worlds: typed entry points per key type ------------------------------

/// The tables keyed by one key type, and typed dispatch over them.
pub trait World: 'static + Sized {
    type Key: TenantKey;
    const SCOPED: &'static [Tbl];
    /// Starts a select of `table` for `scope`.
    fn start<R>(scope: &Scope<'_, Self::Key>, table: Tbl, f: impl Start<R>) -> R;
    fn write(plan: &WritePlan, ctx: &Ctx<'_, Self>) -> Box<dyn BuildStatement>;
}

macro_rules! world {
    ($world:ident, $key:ty, [$($variant:ident => $table:ty),+]) => {
        pub struct $world;

        impl World for $world {
            type Key = $key;
            const SCOPED: &'static [Tbl] = &[$(Tbl::$variant),+];

            fn start<R>(scope: &Scope<'_, $key>, table: Tbl, f: impl Start<R>) -> R {
                /// Joins a table of this world (or a global one) to a scoped select.
                fn joiner<B: TenantScoped<Key = $key>>(
                    select: Select<B>,
                    kind: JoinKind,
                    table: Tbl,
                    on: Filter,
                ) -> Select<B> {
                    match (table, kind) {
                        $(
                            (Tbl::$variant, JoinKind::Inner) => select.join::<$table>(on),
                            (Tbl::$variant, JoinKind::Left) => select.left_join::<$table>(on),
                            (Tbl::$variant, JoinKind::Right) => select.right_join::<$table>(on),
                            (Tbl::$variant, JoinKind::Full) => select.full_join::<$table>(on),
                        )+
                        _ => join_global(select, kind, table, on),
                    }
                }
                match (scope, table) {
                    $(
                        (Scope::Tenant(tenant), Tbl::$variant) => {
                            f.start(Select::<$table>::scoped(*tenant), joiner::<$table>)
                        }
                        (Scope::Across(capability), Tbl::$variant) => {
                            f.start(Select::<$table>::across_tenants(capability), joiner::<$table>)
                        }
                    )+
                    (_, Tbl::Plans) => f.start(Select::<Plan>::global(), join_global::<Plan>),
                    (_, Tbl::Countries) => {
                        f.start(Select::<Country>::global(), join_global::<Country>)
                    }
                    (_, other) => panic!("{other:?} cannot start a select here"),
                }
            }

            fn write(plan: &WritePlan, ctx: &Ctx<'_, Self>) -> Box<dyn BuildStatement> {
                fn from<B: TenantScoped<Key = $key>>(update: Update<B>, table: Tbl) -> Update<B> {
                    match table {
                        $(Tbl::$variant => update.from::<$table>(),)+
                        Tbl::Plans => update.from_global::<Plan>(),
                        Tbl::Countries => update.from_global::<Country>(),
                        other => panic!("{other:?} is not keyed by {}", stringify!($key)),
                    }
                }
                fn using<B: TenantScoped<Key = $key>>(delete: Delete<B>, table: Tbl) -> Delete<B> {
                    match table {
                        $(Tbl::$variant => delete.using::<$table>(),)+
                        Tbl::Plans => delete.using_global::<Plan>(),
                        Tbl::Countries => delete.using_global::<Country>(),
                        other => panic!("{other:?} is not keyed by {}", stringify!($key)),
                    }
                }
                match (&ctx.scope, plan.base, &plan.kind) {
                    $(
                        (Scope::Tenant(tenant), Tbl::$variant, WriteKind::Update { .. }) => {
                            plan.build_update(Update::<$table>::scoped(*tenant), ctx, from::<$table>)
                        }
                        (Scope::Tenant(tenant), Tbl::$variant, WriteKind::Delete { .. }) => {
                            plan.build_delete(Delete::<$table>::scoped(*tenant), ctx, using::<$table>)
                        }
                        (Scope::Tenant(tenant), Tbl::$variant, WriteKind::Insert { .. }) => {
                            plan.build_insert(Insert::<$table>::scoped(*tenant), ctx)
                        }
                        (Scope::Across(capability), Tbl::$variant, WriteKind::Update { .. }) => {
                            plan.build_update(Update::<$table>::across_tenants(capability), ctx, from::<$table>)
                        }
                        (Scope::Across(capability), Tbl::$variant, WriteKind::Delete { .. }) => {
                            plan.build_delete(Delete::<$table>::across_tenants(capability), ctx, using::<$table>)
                        }
                    )+
                    (_, other, kind) => panic!("{other:?}: no {kind:?} here"),
                }
            }
        }
    };
}

#[cfg(not(all(feature = "json", feature = "ipnetwork", feature = "array")))]
world!(I64World, i64, [Orders => Order, Customers => Customer, Lines => Line, Invoices => Invoice]);
#[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
world!(I64World, i64, [Orders => Order, Customers => Customer, Lines => Line, Invoices => Invoice, Assets => Asset]);
world!(I32World, i32, [Accounts => Account, Members => Member]);
#[cfg(feature = "uuid")]
world!(UuidWorld, uuid::Uuid, [Devices => Device]);

/// The global tables, for global statements.
pub struct GlobalWorld;

impl World for GlobalWorld {
    type Key = i64;
    const SCOPED: &'static [Tbl] = &[];

    fn start<R>(_: &Scope<'_, i64>, table: Tbl, f: impl Start<R>) -> R {
        match table {
            Tbl::Plans => f.start(Select::<Plan>::global(), join_global::<Plan>),
            Tbl::Countries => f.start(Select::<Country>::global(), join_global::<Country>),
            other => panic!("{other:?} is not a global table"),
        }
    }

    fn write(plan: &WritePlan, ctx: &Ctx<'_, Self>) -> Box<dyn BuildStatement> {
        fn start<G: Probe + GlobalTable>(
            plan: &WritePlan,
            ctx: &Ctx<'_, GlobalWorld>,
        ) -> Box<dyn BuildStatement> {
            match plan.kind {
                WriteKind::Update { .. } => {
                    plan.build_update(Update::<G>::global(), ctx, |update, table| match table {
                        Tbl::Plans => update.from_global::<Plan>(),
                        Tbl::Countries => update.from_global::<Country>(),
                        other => panic!("{other:?} is not a global table"),
                    })
                }
                WriteKind::Delete { .. } => {
                    plan.build_delete(Delete::<G>::global(), ctx, |delete, table| match table {
                        Tbl::Plans => delete.using_global::<Plan>(),
                        Tbl::Countries => delete.using_global::<Country>(),
                        other => panic!("{other:?} is not a global table"),
                    })
                }
                WriteKind::Insert { .. } => plan.build_insert(Insert::<G>::global(), ctx),
            }
        }
        match plan.base {
            Tbl::Plans => start::<Plan>(plan, ctx),
            Tbl::Countries => start::<Country>(plan, ctx),
            other => panic!("{other:?} is not a global table"),
        }
    }
}

/// Joins a global table; the only joins a global statement has.
pub fn join_global<B: Table>(
    select: Select<B>,
    kind: JoinKind,
    table: Tbl,
    on: Filter,
) -> Select<B> {
    match (table, kind) {
        (Tbl::Plans, JoinKind::Inner) => select.join_global::<Plan>(on),
        (Tbl::Plans, JoinKind::Left) => select.left_join_global::<Plan>(on),
        (Tbl::Countries, JoinKind::Inner) => select.join_global::<Country>(on),
        (Tbl::Countries, JoinKind::Left) => select.left_join_global::<Country>(on),
        (other, kind) => panic!("{other:?} is not joined {kind:?} without an alias"),
    }
}
