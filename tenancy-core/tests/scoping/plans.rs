//! Statement plans: plain data that proptest generates and shrinks, turned
//! into typed builder calls here.

use tenancy_core::{
    BuildStatement, Column, CrossTenant, Delete, Filter, GlobalTable, Insert, Select, Table,
    TableMeta, TenantId, TenantKey, TenantScoped, Update,
};

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

// ---- filters ------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// A test on one column of one table.
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
}

#[derive(Clone, Debug)]
pub enum FilterPlan {
    Leaf(Tbl, Leaf),
    /// `a.INT = b.INT`: joins and correlation.
    Link(Tbl, Tbl),
    All(Vec<FilterPlan>),
    Any(Vec<FilterPlan>),
    Not(Box<FilterPlan>),
    InSubquery {
        outer: Tbl,
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

fn compare<T: Probe, V>(column: Column<T, V>, cmp: Cmp, value: V::Compare) -> Filter
where
    V: tenancy_core::ColumnType,
{
    match cmp {
        Cmp::Eq => column.eq(value),
        Cmp::Ne => column.ne(value),
        Cmp::Lt => column.lt(value),
        Cmp::Lte => column.lte(value),
        Cmp::Gt => column.gt(value),
        Cmp::Gte => column.gte(value),
    }
}

fn leaf<T: Probe>(leaf: &Leaf) -> Filter {
    match leaf {
        Leaf::Int(cmp, n) => compare(T::INT, *cmp, *n),
        Leaf::Text(cmp, s) => compare(T::TEXT, *cmp, s.clone()),
        Leaf::Opt(cmp, s) => compare(T::OPT, *cmp, s.clone()),
        Leaf::IntIn(values, false) => T::INT.is_in(values.iter().copied()),
        Leaf::IntIn(values, true) => T::INT.is_not_in(values.iter().copied()),
        Leaf::TextIn(values, false) => T::TEXT.is_in(values.iter().cloned()),
        Leaf::TextIn(values, true) => T::TEXT.is_not_in(values.iter().cloned()),
        Leaf::Between(low, high) => T::INT.between(*low, *high),
        Leaf::Like(pattern, false) => T::TEXT.like(pattern.as_str()),
        Leaf::Like(pattern, true) => T::OPT.not_like(pattern.as_str()),
        Leaf::Null(false) => T::OPT.is_null(),
        Leaf::Null(true) => T::OPT.is_not_null(),
    }
}

impl FilterPlan {
    pub fn build(&self) -> Filter {
        match self {
            FilterPlan::Leaf(table, test) => with_table!(*table, T => leaf::<T>(test)),
            FilterPlan::Link(left, right) => {
                with_table!(*left, L => with_table!(*right, R => L::INT.eq_col(R::INT)))
            }
            FilterPlan::All(filters) => Filter::all(filters.iter().map(FilterPlan::build)),
            FilterPlan::Any(filters) => Filter::any(filters.iter().map(FilterPlan::build)),
            // Both spellings of NOT, so both are exercised.
            FilterPlan::Not(filter) if matches!(**filter, FilterPlan::Leaf(..)) => !filter.build(),
            FilterPlan::Not(filter) => filter.build().not(),
            FilterPlan::InSubquery {
                outer,
                inner,
                filter,
                negated,
            } => with_table!(*outer, O => with_table!(*inner, I => {
                let subquery = I::INT.subquery(filter.build());
                if *negated { O::INT.not_in_subquery(subquery) } else { O::INT.in_subquery(subquery) }
            })),
            FilterPlan::Exists {
                inner,
                filter,
                negated,
            } => with_table!(*inner, I => if *negated {
                Filter::not_exists::<I>(filter.build())
            } else {
                Filter::exists::<I>(filter.build())
            }),
        }
    }

    /// Every table in a subquery of this filter, at any depth.
    pub fn subquery_tables(&self, tables: &mut Vec<Tbl>) {
        match self {
            FilterPlan::Leaf(..) | FilterPlan::Link(..) => {}
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

// ---- statements -----------------------------------------------------------

#[derive(Clone, Copy, Debug)]
pub enum Col {
    Int,
    Text,
    Opt,
}

#[derive(Clone, Debug)]
pub struct JoinPlan {
    pub table: Tbl,
    pub left: bool,
    /// The join condition: a link to an earlier table, and maybe more.
    pub on: FilterPlan,
}

#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Rows,
    Count,
    Exists,
}

#[derive(Clone, Debug)]
pub struct SelectPlan {
    pub base: Tbl,
    pub joins: Vec<JoinPlan>,
    pub filters: Vec<FilterPlan>,
    pub projection: Vec<(Tbl, Col)>,
    pub order: Vec<(Tbl, Col, bool)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub shape: Shape,
}

/// Adds a join of the planned table to a select on `B`.
pub type Joiner<B> = fn(Select<B>, &JoinPlan, Filter) -> Select<B>;

impl SelectPlan {
    pub fn build<B: Probe>(&self, start: Select<B>, join: Joiner<B>) -> Box<dyn BuildStatement> {
        let mut select = start;
        for planned in &self.joins {
            select = join(select, planned, planned.on.build());
        }
        for filter in &self.filters {
            select = select.filter(filter.build());
        }
        for (table, column) in &self.projection {
            select = with_table!(*table, T => match column {
                Col::Int => select.column(T::INT),
                Col::Text => select.column(T::TEXT),
                Col::Opt => select.column(T::OPT),
            });
        }
        for (table, column, descending) in &self.order {
            select = with_table!(*table, T => match (column, descending) {
                (Col::Int, false) => select.order_by_asc(T::INT),
                (Col::Int, true) => select.order_by_desc(T::INT),
                (Col::Text, false) => select.order_by_asc(T::TEXT),
                (Col::Text, true) => select.order_by_desc(T::TEXT),
                (Col::Opt, false) => select.order_by_asc(T::OPT),
                (Col::Opt, true) => select.order_by_desc(T::OPT),
            });
        }
        if let Some(limit) = self.limit {
            select = select.limit(limit);
        }
        if let Some(offset) = self.offset {
            select = select.offset(offset);
        }
        match self.shape {
            Shape::Rows => Box::new(select),
            Shape::Count => Box::new(select.count()),
            Shape::Exists => Box::new(select.exists()),
        }
    }

    /// Every table the statement references, subqueries included.
    pub fn tables(&self) -> Vec<Tbl> {
        let mut tables = vec![self.base];
        for join in &self.joins {
            tables.push(join.table);
            join.on.subquery_tables(&mut tables);
        }
        for filter in &self.filters {
            filter.subquery_tables(&mut tables);
        }
        tables
    }
}

#[derive(Clone, Debug)]
pub enum Value {
    Int(i64),
    Text(String),
    Opt(Option<String>),
}

#[derive(Clone, Debug)]
pub enum WriteKind {
    Update { sets: Vec<Value> },
    Delete,
    Insert { rows: Vec<Vec<Value>>, conflict: u8 },
}

#[derive(Clone, Debug)]
pub struct WritePlan {
    pub base: Tbl,
    pub kind: WriteKind,
    pub filters: Vec<FilterPlan>,
    pub returning: bool,
}

impl WritePlan {
    pub fn build_update<B: Probe>(&self, start: Update<B>) -> Box<dyn BuildStatement> {
        let WriteKind::Update { sets } = &self.kind else {
            unreachable!("not an update plan")
        };
        let mut update = start;
        for value in sets {
            update = match value.clone() {
                Value::Int(n) => update.set(B::INT, n),
                Value::Text(s) => update.set(B::TEXT, s),
                Value::Opt(s) => update.set(B::OPT, s),
            };
        }
        for filter in &self.filters {
            update = update.filter(filter.build());
        }
        if self.returning {
            update = update.returning_all();
        }
        Box::new(update)
    }

    pub fn build_delete<B: Probe>(&self, start: Delete<B>) -> Box<dyn BuildStatement> {
        let mut delete = start;
        for filter in &self.filters {
            delete = delete.filter(filter.build());
        }
        if self.returning {
            delete = delete.returning_all();
        }
        Box::new(delete)
    }

    pub fn build_insert<B: Probe>(&self, start: Insert<B>) -> Box<dyn BuildStatement> {
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
                };
            }
        }
        insert = match conflict {
            1 => insert.on_conflict_do_nothing((B::INT,)),
            2 => insert.on_conflict_do_update((B::INT, B::TEXT), (B::OPT,)),
            _ => insert,
        };
        if self.returning {
            insert = insert.returning_all();
        }
        Box::new(insert)
    }

    pub fn tables(&self) -> Vec<Tbl> {
        let mut tables = vec![self.base];
        for filter in &self.filters {
            filter.subquery_tables(&mut tables);
        }
        tables
    }
}

// ---- worlds: typed entry points per key type ------------------------------

/// The tables keyed by one key type, and typed dispatch over them.
pub trait World: 'static {
    type Key: TenantKey;
    const SCOPED: &'static [Tbl];
    fn scoped_select(plan: &SelectPlan, tenant: &TenantId<Self::Key>) -> Box<dyn BuildStatement>;
    fn select_across_tenants(
        plan: &SelectPlan,
        capability: &CrossTenant,
    ) -> Box<dyn BuildStatement>;
    fn scoped_write(plan: &WritePlan, tenant: &TenantId<Self::Key>) -> Box<dyn BuildStatement>;
    fn write_across_tenants(plan: &WritePlan, capability: &CrossTenant) -> Box<dyn BuildStatement>;
}

macro_rules! world {
    ($world:ident, $key:ty, $joiner:ident, [$($variant:ident => $table:ty),+]) => {
        pub struct $world;

        /// Joins any table of this world or a global table.
        fn $joiner<B: TenantScoped<Key = $key>>(select: Select<B>, plan: &JoinPlan, on: Filter) -> Select<B> {
            match (plan.table, plan.left) {
                $(
                    (Tbl::$variant, false) => select.join::<$table>(on),
                    (Tbl::$variant, true) => select.left_join::<$table>(on),
                )+
                _ => join_global(select, plan, on),
            }
        }

        impl World for $world {
            type Key = $key;
            const SCOPED: &'static [Tbl] = &[$(Tbl::$variant),+];

            fn scoped_select(plan: &SelectPlan, tenant: &TenantId<$key>) -> Box<dyn BuildStatement> {
                match plan.base {
                    $(Tbl::$variant => plan.build(Select::<$table>::scoped(tenant), $joiner::<$table>),)+
                    other => panic!("{other:?} is not keyed by {}", stringify!($key)),
                }
            }

            fn select_across_tenants(plan: &SelectPlan, capability: &CrossTenant) -> Box<dyn BuildStatement> {
                match plan.base {
                    $(Tbl::$variant => plan.build(Select::<$table>::across_tenants(capability), $joiner::<$table>),)+
                    other => panic!("{other:?} is not keyed by {}", stringify!($key)),
                }
            }

            fn scoped_write(plan: &WritePlan, tenant: &TenantId<$key>) -> Box<dyn BuildStatement> {
                match (plan.base, &plan.kind) {
                    $(
                        (Tbl::$variant, WriteKind::Update { .. }) => plan.build_update(Update::<$table>::scoped(tenant)),
                        (Tbl::$variant, WriteKind::Delete) => plan.build_delete(Delete::<$table>::scoped(tenant)),
                        (Tbl::$variant, WriteKind::Insert { .. }) => plan.build_insert(Insert::<$table>::scoped(tenant)),
                    )+
                    (other, _) => panic!("{other:?} is not keyed by {}", stringify!($key)),
                }
            }

            fn write_across_tenants(plan: &WritePlan, capability: &CrossTenant) -> Box<dyn BuildStatement> {
                match (plan.base, &plan.kind) {
                    $(
                        (Tbl::$variant, WriteKind::Update { .. }) => plan.build_update(Update::<$table>::across_tenants(capability)),
                        (Tbl::$variant, WriteKind::Delete) => plan.build_delete(Delete::<$table>::across_tenants(capability)),
                    )+
                    (other, kind) => panic!("{other:?}: no cross-tenant {kind:?}"),
                }
            }
        }
    };
}

world!(I64World, i64, join_i64, [Orders => Order, Customers => Customer, Lines => Line, Invoices => Invoice]);
world!(I32World, i32, join_i32, [Accounts => Account, Members => Member]);
#[cfg(feature = "uuid")]
world!(UuidWorld, uuid::Uuid, join_uuid, [Devices => Device]);

/// Joins a global table; the only joins a global statement has.
pub fn join_global<B: Table>(select: Select<B>, plan: &JoinPlan, on: Filter) -> Select<B> {
    match (plan.table, plan.left) {
        (Tbl::Plans, false) => select.join_global::<Plan>(on),
        (Tbl::Plans, true) => select.left_join_global::<Plan>(on),
        (Tbl::Countries, false) => select.join_global::<Country>(on),
        (Tbl::Countries, true) => select.left_join_global::<Country>(on),
        (other, _) => panic!("{other:?} is not a global table"),
    }
}

/// A select on a global table.
pub fn global_select(plan: &SelectPlan) -> Box<dyn BuildStatement> {
    fn start<G: Probe + GlobalTable>(plan: &SelectPlan) -> Box<dyn BuildStatement> {
        plan.build(Select::<G>::global(), join_global::<G>)
    }
    match plan.base {
        Tbl::Plans => start::<Plan>(plan),
        Tbl::Countries => start::<Country>(plan),
        other => panic!("{other:?} is not a global table"),
    }
}

/// A write on a global table.
pub fn global_write(plan: &WritePlan) -> Box<dyn BuildStatement> {
    fn start<G: Probe + GlobalTable>(plan: &WritePlan) -> Box<dyn BuildStatement> {
        match plan.kind {
            WriteKind::Update { .. } => plan.build_update(Update::<G>::global()),
            WriteKind::Delete => plan.build_delete(Delete::<G>::global()),
            WriteKind::Insert { .. } => plan.build_insert(Insert::<G>::global()),
        }
    }
    match plan.base {
        Tbl::Plans => start::<Plan>(plan),
        Tbl::Countries => start::<Country>(plan),
        other => panic!("{other:?} is not a global table"),
    }
}
