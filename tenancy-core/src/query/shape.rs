//! Rendered SQL, cached per statement shape.
//!
//! Rendering (lowering to sea-query, then writing the SQL) costs more than
//! the rest of building a statement, yet an application has few statement
//! shapes, each built again and again with other values. A shape is all
//! that decides the SQL text: the kind of statement, its tables, columns and
//! operators, how many values go where, the dialect, and the scope's kind —
//! not the values. The first build of a shape on a thread renders it the
//! normal way, then once more with a distinct sentinel in every value
//! *slot*, which shows which slot each placeholder reads. Later builds of
//! the shape copy the SQL and take their values from their own slots,
//! without sea-query.
//!
//! The cache never decides what SQL says: every entry is text the normal
//! path rendered, and it is stored only when the sentinel rendering has the
//! same text (so the text does not depend on the values) and every
//! placeholder reads exactly one slot. Builders describe themselves through
//! [`Describe`], written once for reading and for planting sentinels, and
//! destructuring every field: a field added to a builder and not described
//! is a compile error, not a stale entry. Building never fails on a hit
//! where it would succeed otherwise, nor the other way round: every error
//! the renderer reports depends on the shape alone, and a shape is cached
//! only after it rendered.

use core::cell::RefCell;
use core::hash::{BuildHasherDefault, Hash, Hasher};
use std::collections::HashMap;

use sea_query::Value;

use crate::BuildError;
use crate::column::ColumnRef;
use crate::meta::TableMeta;
use crate::query::filter::Node;
use crate::query::scope::{Scope, key_to_value};
use crate::query::subquery::SubqueryNode;
use crate::statement::{Dialect, Statement, StatementScope};
use crate::tenant::KeyValue;

/// Shapes kept per thread; when full, the cache starts over. Applications
/// have far fewer; only a shape that varies without bound (an `IN` list of
/// every length) could fill it.
const CAPACITY: usize = 512;

/// What a statement's kind adds to its shape.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    SelectRows = 1,
    SelectCount,
    SelectExists,
    Insert,
    Update,
    Delete,
}

/// A builder's description of itself: its shape, and its value slots in a
/// fixed order. Implemented with [`describe!`], from one body for both
/// methods, so that reading and planting visit the same slots in the same
/// order.
pub(crate) trait Describe {
    /// Writes the shape and reads every slot.
    fn describe(&self, shape: &mut ShapeReader);
    /// Replaces every slot's value with a sentinel.
    fn describe_mut(&mut self, sentinels: &mut SentinelWriter);
}

/// Implements [`Describe`] for a type from one body, in which `$this` is
/// `&Self` or `&mut Self` and `$v` a [`ShapeReader`] or a
/// [`SentinelWriter`]: the two have methods of the same names.
macro_rules! describe {
    (impl$([$($generics:tt)*])? for $ty:ty, |$this:ident, $v:ident| $body:block) => {
        // One body serves `&` and `&mut` bindings: a deref that one of them
        // does not need, the other does.
        #[allow(clippy::explicit_auto_deref)]
        impl$(<$($generics)*>)? $crate::query::shape::Describe for $ty {
            fn describe(&self, $v: &mut $crate::query::shape::ShapeReader) {
                let $this = self;
                $body
            }
            fn describe_mut(&mut self, $v: &mut $crate::query::shape::SentinelWriter) {
                let $this = self;
                $body
            }
        }
    };
}
pub(crate) use describe;

/// Builds `builder`'s statement for `dialect`, from the cache when its
/// shape has been rendered on this thread before. `render` is the normal,
/// uncached path.
pub(crate) fn build_cached<B: Describe + Clone>(
    builder: &B,
    kind: Kind,
    dialect: Dialect,
    scope: StatementScope,
    render: impl Fn(&B) -> Result<Statement, BuildError>,
) -> Result<Statement, BuildError> {
    // The shape's words go to a buffer kept per thread: most builds only
    // look them up.
    let mut reader = ShapeReader::new(kind, dialect, TOKENS.take());
    builder.describe(&mut reader);
    let built = if reader.uncacheable || !enabled() {
        render(builder)
    } else {
        build_from_shape(builder, &mut reader, scope, render)
    };
    TOKENS.set(reader.tokens);
    built
}

/// The statement from the cache entry of the shape `reader` read, or
/// rendered, and then cached if it can be.
fn build_from_shape<B: Describe + Clone>(
    builder: &B,
    reader: &mut ShapeReader,
    scope: StatementScope,
    render: impl Fn(&B) -> Result<Statement, BuildError>,
) -> Result<Statement, BuildError> {
    let hit = SHAPES.with(|shapes| {
        shapes
            .borrow()
            .get(reader.tokens.as_slice())
            .map(|entry| (entry.sql.to_string(), entry.placeholders.clone()))
    });
    if let Some((sql, placeholders)) = hit {
        #[cfg(test)]
        HITS.with(|hits| hits.set(hits.get() + 1));
        return Ok(Statement {
            sql,
            values: placeholders.values(core::mem::take(&mut reader.slots)),
            scope,
        });
    }
    let statement = render(builder)?;
    if let Some(entry) = learn(builder, reader, &statement, &render) {
        SHAPES.with(|shapes| {
            let mut shapes = shapes.borrow_mut();
            if shapes.len() >= CAPACITY {
                shapes.clear();
            }
            shapes.insert(reader.tokens.as_slice().into(), entry);
        });
    }
    Ok(statement)
}

/// The cache entry for `builder`'s shape, if the sentinel rendering proves
/// it sound; see the module docs.
fn learn<B: Describe + Clone>(
    builder: &B,
    reader: &ShapeReader,
    statement: &Statement,
    render: &impl Fn(&B) -> Result<Statement, BuildError>,
) -> Option<Entry> {
    let mut probe = builder.clone();
    let mut writer = SentinelWriter::default();
    probe.describe_mut(&mut writer);
    let probed = render(&probe).ok()?;
    if probed.sql != statement.sql || writer.sentinels.len() != reader.slots.len() {
        return None;
    }
    let slots: Vec<u32> = probed
        .values
        .0
        .iter()
        .map(|value| {
            let mut matches = writer
                .sentinels
                .iter()
                .enumerate()
                .filter(|(_, s)| *s == value);
            match (matches.next(), matches.next()) {
                (Some((slot, _)), None) => u32::try_from(slot).ok(),
                _ => None,
            }
        })
        .collect::<Option<_>>()?;
    let placeholders = Placeholders::new(slots, reader.slots.len());
    // The slots as read must give the values the normal path rendered.
    let values = placeholders.clone().values(reader.slots.clone());
    (values == statement.values).then(|| Entry {
        sql: statement.sql.as_str().into(),
        placeholders,
    })
}

/// A shape's SQL and where each placeholder's value comes from.
struct Entry {
    sql: Box<str>,
    placeholders: Placeholders,
}

/// The slot each placeholder reads, in placeholder order.
#[derive(Clone, Debug)]
enum Placeholders {
    /// Placeholder `n` reads slot `n`, and every slot is read once: the
    /// slots are the values as they are.
    InSlotOrder,
    /// Any other mapping (a slot read twice, as the tenant key of a join).
    Mapped(std::rc::Rc<[u32]>),
}

impl Placeholders {
    fn new(slots: Vec<u32>, slot_count: usize) -> Self {
        let in_order = slots.len() == slot_count
            && slots
                .iter()
                .enumerate()
                .all(|(placeholder, &slot)| usize::try_from(slot).ok() == Some(placeholder));
        if in_order {
            Placeholders::InSlotOrder
        } else {
            Placeholders::Mapped(slots.into())
        }
    }

    fn values(self, slots: Vec<Value>) -> sea_query::Values {
        match self {
            Placeholders::InSlotOrder => sea_query::Values(slots),
            // Every slot in the map was checked against this shape's slot
            // count when the entry was made.
            Placeholders::Mapped(map) => sea_query::Values(
                map.iter()
                    .filter_map(|&slot| slots.get(usize::try_from(slot).ok()?).cloned())
                    .collect(),
            ),
        }
    }
}

type Shapes = HashMap<Box<[u64]>, Entry, BuildHasherDefault<WordHasher>>;

thread_local! {
    static SHAPES: RefCell<Shapes> = RefCell::new(Shapes::default());
    static TOKENS: core::cell::Cell<Vec<u64>> = const { core::cell::Cell::new(Vec::new()) };
}

#[cfg(test)]
thread_local! {
    static ENABLED: core::cell::Cell<bool> = const { core::cell::Cell::new(true) };
    static HITS: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

/// Whether the cache is in use on this thread: always, except in tests that
/// compare it with rendering.
#[cfg(not(test))]
fn enabled() -> bool {
    true
}

#[cfg(test)]
fn enabled() -> bool {
    ENABLED.with(core::cell::Cell::get)
}

/// Runs `f` with the cache off on this thread: every build renders.
#[cfg(test)]
pub(crate) fn without_cache<R>(f: impl FnOnce() -> R) -> R {
    ENABLED.with(|enabled| enabled.set(false));
    let result = f();
    ENABLED.with(|enabled| enabled.set(true));
    result
}

/// A fast hasher for shapes, which are words of pointers and small tags
/// made by the program itself (FxHash's mixing step).
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // A slice of words arrives here in one piece: take it a word at a time.
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut buffer = [0_u8; 8];
            buffer.copy_from_slice(word);
            self.write_u64(u64::from_ne_bytes(buffer));
        }
        for byte in words.remainder() {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }
}

/// Reads a builder: its shape as words, its slots as values.
pub(crate) struct ShapeReader {
    tokens: Vec<u64>,
    slots: Vec<Value>,
    uncacheable: bool,
}

impl ShapeReader {
    fn new(kind: Kind, dialect: Dialect, mut tokens: Vec<u64>) -> Self {
        tokens.clear();
        tokens.push(kind as u64);
        tokens.push(match dialect {
            Dialect::Postgres => 1,
            Dialect::Sqlite => 2,
        });
        ShapeReader {
            tokens,
            // Enough for most statements without growing.
            slots: Vec::with_capacity(8),
            uncacheable: false,
        }
    }

    /// A tag or a count.
    pub(crate) fn token(&mut self, token: u64) {
        self.tokens.push(token);
    }

    /// A length, as a token.
    pub(crate) fn len(&mut self, len: usize) {
        self.token(len as u64);
    }

    /// A name, by identity: equal words mean the same `'static` text (it
    /// never moves or changes); equal text elsewhere only misses the cache.
    pub(crate) fn str(&mut self, name: &'static str) {
        self.tokens.push(name.as_ptr() as u64);
        self.len(name.len());
    }

    /// An optional name.
    pub(crate) fn opt_str(&mut self, name: Option<&'static str>) {
        match name {
            Some(name) => {
                self.token(1);
                self.str(name);
            }
            None => self.token(0),
        }
    }

    /// A table, by the identity of its `'static` metadata.
    pub(crate) fn table(&mut self, table: &'static TableMeta) {
        self.tokens.push(core::ptr::from_ref(table) as u64);
    }

    /// A column reference.
    pub(crate) fn column(&mut self, column: &ColumnRef) {
        self.str(column.table);
        self.str(column.column);
    }

    /// A value slot. The value's variant is part of the shape.
    pub(crate) fn value(&mut self, value: &Value) {
        let mut hasher = WordHasher::default();
        core::mem::discriminant(value).hash(&mut hasher);
        self.tokens.push(hasher.finish());
        self.slots.push(value.clone());
    }

    /// A text slot, bound as a string (a `LIKE` pattern).
    pub(crate) fn text(&mut self, text: &str) {
        self.slots.push(Value::String(Some(text.to_owned())));
    }

    /// A count slot, bound as an unsigned integer (`LIMIT`, `OFFSET`).
    pub(crate) fn count(&mut self, count: &u64) {
        self.slots.push(Value::BigUnsigned(Some(*count)));
    }

    /// The tenant key slot; its type is part of the shape.
    pub(crate) fn key(&mut self, key: &KeyValue) {
        self.token(key_type(key));
        self.slots.push(key_to_value(*key));
    }

    /// A nested part.
    pub(crate) fn visit<D: Describe + ?Sized>(&mut self, part: &D) {
        part.describe(self);
    }

    /// The statement has something the cache does not describe: it is
    /// always rendered.
    pub(crate) fn uncacheable(&mut self) {
        self.uncacheable = true;
    }
}

/// Plants a distinct sentinel in every slot of a builder's copy, and keeps
/// each sentinel as the renderer binds it.
#[derive(Default)]
pub(crate) struct SentinelWriter {
    sentinels: Vec<Value>,
}

/// Far from the values programs use, and different for each kind of slot.
const VALUE_SENTINELS: i64 = 0x5EA7_0000_0000_0000;
const COUNT_SENTINELS: u64 = 0xC0C0_0000_0000_0000;

impl SentinelWriter {
    fn next(&self) -> u32 {
        // Slots are counted in a statement, far below u32::MAX.
        u32::try_from(self.sentinels.len()).unwrap_or(u32::MAX)
    }

    pub(crate) fn token(&mut self, _: u64) {}

    pub(crate) fn len(&mut self, _: usize) {}

    pub(crate) fn str(&mut self, _: &'static str) {}

    pub(crate) fn opt_str(&mut self, _: Option<&'static str>) {}

    pub(crate) fn table(&mut self, _: &'static TableMeta) {}

    pub(crate) fn column(&mut self, _: &ColumnRef) {}

    pub(crate) fn value(&mut self, value: &mut Value) {
        *value = Value::BigInt(Some(VALUE_SENTINELS + i64::from(self.next())));
        self.sentinels.push(value.clone());
    }

    pub(crate) fn text(&mut self, text: &mut String) {
        *text = format!("\u{0}tenancy-sentinel-{}", self.next());
        self.sentinels.push(Value::String(Some(text.clone())));
    }

    pub(crate) fn count(&mut self, count: &mut u64) {
        *count = COUNT_SENTINELS + u64::from(self.next());
        self.sentinels.push(Value::BigUnsigned(Some(*count)));
    }

    pub(crate) fn key(&mut self, key: &mut KeyValue) {
        let n = self.next();
        *key = match *key {
            KeyValue::I32(_) => KeyValue::I32(i32::MIN.saturating_add_unsigned(n)),
            KeyValue::I64(_) => KeyValue::I64(i64::MIN.saturating_add_unsigned(u64::from(n))),
            #[cfg(feature = "uuid")]
            KeyValue::Uuid(_) => KeyValue::Uuid(uuid::Uuid::from_u128(
                0x7E4A_4C11_5E47_0000_0000_0000_0000_0000 | u128::from(n),
            )),
        };
        self.sentinels.push(key_to_value(*key));
    }

    pub(crate) fn visit<D: Describe + ?Sized>(&mut self, part: &mut D) {
        part.describe_mut(self);
    }

    pub(crate) fn uncacheable(&mut self) {}
}

/// The key's type, as a token: it decides whether a table's tenant column
/// accepts it.
fn key_type(key: &KeyValue) -> u64 {
    match key {
        KeyValue::I32(_) => 1,
        KeyValue::I64(_) => 2,
        #[cfg(feature = "uuid")]
        KeyValue::Uuid(_) => 3,
    }
}

impl<D: Describe + ?Sized> Describe for Box<D> {
    fn describe(&self, shape: &mut ShapeReader) {
        (**self).describe(shape);
    }

    fn describe_mut(&mut self, sentinels: &mut SentinelWriter) {
        (**self).describe_mut(sentinels);
    }
}

describe!(impl for Node, |node, v| {
    match node {
        Node::Compare { column, op, value } => {
            v.token(1);
            v.column(column);
            v.token(*op as u64);
            v.value(value);
        }
        Node::ColumnsEqual { left, right } => {
            v.token(2);
            v.column(left);
            v.column(right);
        }
        Node::In { column, values, negated } => {
            v.token(3);
            v.column(column);
            v.token(u64::from(*negated));
            v.len(values.len());
            for value in values {
                v.value(value);
            }
        }
        Node::Between { column, low, high } => {
            v.token(4);
            v.column(column);
            v.value(low);
            v.value(high);
        }
        Node::Like { column, pattern, negated } => {
            v.token(5);
            v.column(column);
            v.token(u64::from(*negated));
            v.text(pattern);
        }
        Node::Null { column, negated } => {
            v.token(6);
            v.column(column);
            v.token(u64::from(*negated));
        }
        Node::InSubquery { column, subquery, negated } => {
            v.token(7);
            v.column(column);
            v.token(u64::from(*negated));
            v.visit(subquery);
        }
        Node::Exists { subquery, negated } => {
            v.token(8);
            v.token(u64::from(*negated));
            v.visit(subquery);
        }
        Node::All(nodes) => {
            v.token(9);
            v.len(nodes.len());
            for node in nodes {
                v.visit(node);
            }
        }
        Node::Any(nodes) => {
            v.token(10);
            v.len(nodes.len());
            for node in nodes {
                v.visit(node);
            }
        }
        Node::Not(node) => {
            v.token(11);
            v.visit(node);
        }
    }
});

describe!(impl for SubqueryNode, |subquery, v| {
    let SubqueryNode { table, column, filter } = subquery;
    v.table(*table);
    v.opt_str(*column);
    v.visit(filter);
});

describe!(impl for Scope, |scope, v| {
    match scope {
        Scope::Tenant(key) => {
            v.token(1);
            v.key(key);
        }
        Scope::AllTenants => v.token(2),
        Scope::Global => v.token(3),
    }
});

/// Builds served from the cache on this thread so far.
#[cfg(test)]
fn hits() -> u64 {
    HITS.with(core::cell::Cell::get)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{hits, without_cache};
    use crate::{
        BuildStatement, CrossTenant, Delete, Dialect, Filter, Insert, Select, Statement, TenantId,
        Update, tenant_scoped,
    };

    // Only their metadata and constants are used.
    #[allow(dead_code)]
    #[tenant_scoped]
    struct Customer {
        tenant_id: i64,
        #[tenancy(primary_key)]
        id: i64,
        name: String,
    }

    #[allow(dead_code)]
    #[tenant_scoped]
    struct Invoice {
        tenant_id: i64,
        #[tenancy(primary_key)]
        id: i64,
        customer_id: i64,
        status: String,
        total: i64,
    }

    const DIALECTS: [Dialect; 2] = [Dialect::Postgres, Dialect::Sqlite];

    /// Builds `statement` from the cache (filling it first if need be) and
    /// checks it against rendering it without the cache.
    fn cached_equals_rendered(statement: &impl BuildStatement) {
        for dialect in DIALECTS {
            let cached = statement.build(dialect);
            let rendered = without_cache(|| statement.build(dialect));
            assert_eq!(cached, rendered, "{dialect:?}");
        }
    }

    #[test]
    fn a_shape_built_again_with_other_values_is_served_from_the_cache() {
        let open = |tenant: i64, id: i64, status: &str| {
            Invoice::select(&TenantId::from_verified(tenant))
                .filter(Invoice::STATUS.eq(status).or(Invoice::ID.gt(id)))
                .order_by_desc(Invoice::TOTAL)
                .limit(50)
        };
        let first = open(1, 10, "open").to_postgres();
        let before = hits();
        let second = open(2, 20, "paid").to_postgres();
        assert_eq!(
            hits(),
            before + 1,
            "the second build is served from the cache"
        );
        let rendered = without_cache(|| open(2, 20, "paid").to_postgres());
        assert_eq!(second, rendered);
        assert_ne!(first.map(|s| s.values), rendered.map(|s| s.values));
    }

    #[test]
    fn a_slot_read_by_two_placeholders_gives_both_their_value() {
        // The tenant key is bound once for the join and once for the table.
        let tenant = TenantId::from_verified(7);
        let statement = Invoice::select(&tenant)
            .join::<Customer>(Customer::ID.eq_col(Invoice::CUSTOMER_ID))
            .filter(Customer::NAME.like("A%"));
        cached_equals_rendered(&statement);
        let other = Invoice::select(&TenantId::from_verified(8))
            .join::<Customer>(Customer::ID.eq_col(Invoice::CUSTOMER_ID))
            .filter(Customer::NAME.like("B%"));
        cached_equals_rendered(&other);
        let values = other.to_postgres().map(|statement| statement.values.0);
        assert_eq!(
            values,
            Ok(vec![8_i64.into(), 8_i64.into(), "B%".to_owned().into()])
        );
    }

    #[test]
    fn equal_values_in_different_slots_keep_their_places() {
        let statement = |tenant: i64, id: i64, total: i64| {
            Invoice::update(&TenantId::from_verified(tenant))
                .set(Invoice::TOTAL, total)
                .filter(Invoice::ID.eq(id))
        };
        cached_equals_rendered(&statement(42, 42, 42));
        cached_equals_rendered(&statement(1, 2, 3));
        cached_equals_rendered(&statement(5, 5, 6));
    }

    #[test]
    fn every_builder_is_cached_correctly() {
        let capability = CrossTenant::with_reason("test: the statement cache");
        for (tenant, name) in [(1, "a"), (2, "b"), (2, "b")] {
            let witness = TenantId::from_verified(tenant);
            cached_equals_rendered(
                &Insert::<Invoice>::scoped(&witness)
                    .set(Invoice::ID, tenant)
                    .set(Invoice::CUSTOMER_ID, 3)
                    .set(Invoice::STATUS, name)
                    .set(Invoice::TOTAL, 10)
                    .on_conflict_do_update((Invoice::ID,), (Invoice::STATUS,))
                    .returning_all(),
            );
            cached_equals_rendered(
                &Delete::<Invoice>::scoped(&witness).filter(Invoice::STATUS.is_in([name, "x"])),
            );
            cached_equals_rendered(&Select::<Invoice>::scoped(&witness).count());
            cached_equals_rendered(
                &Select::<Invoice>::scoped(&witness)
                    .filter(Filter::exists::<Customer>(
                        Customer::ID.eq_col(Invoice::CUSTOMER_ID),
                    ))
                    .exists(),
            );
            cached_equals_rendered(
                &Select::<Invoice>::across_tenants(&capability)
                    .filter(Invoice::TOTAL.between(tenant, 100)),
            );
            cached_equals_rendered(
                &Update::<Invoice>::across_tenants(&capability).set(Invoice::STATUS, name),
            );
            // SQLite's OFFSET without LIMIT adds a bound value of its own.
            cached_equals_rendered(&Select::<Invoice>::scoped(&witness).offset(5));
        }
    }

    #[test]
    fn a_build_error_is_never_cached_away() {
        // Inserting no row is an error, each time.
        let empty = Insert::<Invoice>::scoped(&TenantId::from_verified(1));
        assert!(empty.to_postgres().is_err());
        assert!(empty.to_postgres().is_err());
    }

    /// A filter's structure; its values come from a separate stream, so that
    /// one structure can be built with different values.
    #[derive(Clone, Debug)]
    enum Spec {
        Compare(u8),
        Status,
        In(u8, bool),
        Between,
        Like(bool),
        Null(bool),
        ColumnsEqual,
        Exists(Box<Spec>),
        InSubquery(Box<Spec>),
        All(Vec<Spec>),
        Any(Vec<Spec>),
        Not(Box<Spec>),
    }

    fn spec() -> impl Strategy<Value = Spec> {
        let leaf = prop_oneof![
            (0_u8..6).prop_map(Spec::Compare),
            Just(Spec::Status),
            (0_u8..4, any::<bool>()).prop_map(|(len, negated)| Spec::In(len, negated)),
            Just(Spec::Between),
            any::<bool>().prop_map(Spec::Like),
            any::<bool>().prop_map(Spec::Null),
            Just(Spec::ColumnsEqual),
        ];
        leaf.prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|spec| Spec::Exists(Box::new(spec))),
                inner
                    .clone()
                    .prop_map(|spec| Spec::InSubquery(Box::new(spec))),
                prop::collection::vec(inner.clone(), 0..3).prop_map(Spec::All),
                prop::collection::vec(inner.clone(), 0..3).prop_map(Spec::Any),
                inner.prop_map(|spec| Spec::Not(Box::new(spec))),
            ]
        })
    }

    /// Values from a small range, so that equal values in different slots
    /// are common.
    struct Values(u64);

    impl Values {
        fn next(&mut self) -> i64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((self.0 >> 33) % 4) as i64
        }

        fn text(&mut self) -> String {
            format!("s{}", self.next())
        }
    }

    /// The filter of `spec` on `invoices`, or on `customers` inside a
    /// subquery.
    fn filter(spec: &Spec, values: &mut Values, on_customers: bool) -> Filter {
        match spec {
            Spec::Compare(op) if on_customers => match op % 2 {
                0 => Customer::ID.eq(values.next()),
                _ => Customer::ID.lt(values.next()),
            },
            Spec::Compare(op) => match op {
                0 => Invoice::ID.eq(values.next()),
                1 => Invoice::TOTAL.ne(values.next()),
                2 => Invoice::TOTAL.lt(values.next()),
                3 => Invoice::CUSTOMER_ID.lte(values.next()),
                4 => Invoice::TOTAL.gt(values.next()),
                _ => Invoice::ID.gte(values.next()),
            },
            Spec::Status if on_customers => Customer::NAME.eq(values.text()),
            Spec::Status => Invoice::STATUS.eq(values.text()),
            Spec::In(len, negated) => {
                let list: Vec<i64> = (0..*len).map(|_| values.next()).collect();
                match (on_customers, negated) {
                    (true, _) => Customer::ID.is_in(list),
                    (false, false) => Invoice::TOTAL.is_in(list),
                    (false, true) => Invoice::TOTAL.is_not_in(list),
                }
            }
            Spec::Between => Invoice::TOTAL.between(values.next(), values.next()),
            Spec::Like(negated) => match (on_customers, negated) {
                (true, _) => Customer::NAME.like(values.text()),
                (false, false) => Invoice::STATUS.like(values.text()),
                (false, true) => Invoice::STATUS.not_like(values.text()),
            },
            Spec::Null(negated) => match negated {
                false => Invoice::STATUS.is_null(),
                true => Invoice::STATUS.is_not_null(),
            },
            Spec::ColumnsEqual => Invoice::ID.eq_col(Invoice::CUSTOMER_ID),
            Spec::Exists(inner) => Filter::exists::<Customer>(
                Customer::ID
                    .eq_col(Invoice::CUSTOMER_ID)
                    .and(filter(inner, values, true)),
            ),
            Spec::InSubquery(inner) => {
                Invoice::CUSTOMER_ID.in_subquery(Customer::ID.subquery(filter(inner, values, true)))
            }
            Spec::All(specs) => {
                Filter::all(specs.iter().map(|spec| filter(spec, values, on_customers)))
            }
            Spec::Any(specs) => {
                Filter::any(specs.iter().map(|spec| filter(spec, values, on_customers)))
            }
            Spec::Not(inner) => !filter(inner, values, on_customers),
        }
    }

    /// A statement of kind `kind` with `spec`'s filter, its values drawn
    /// from `seed`.
    fn statement(
        kind: u8,
        spec: &Spec,
        seed: u64,
        tenant: i64,
        dialect: Dialect,
    ) -> Result<Statement, crate::BuildError> {
        let mut values = Values(seed);
        let witness = TenantId::from_verified(tenant);
        let filter = filter(spec, &mut values, false);
        match kind {
            0 => Invoice::select(&witness)
                .filter(filter)
                .order_by_asc(Invoice::TOTAL)
                .limit(values.next().unsigned_abs())
                .build(dialect),
            1 => Invoice::select(&witness)
                .left_join::<Customer>(Customer::ID.eq_col(Invoice::CUSTOMER_ID))
                .filter(filter)
                .offset(values.next().unsigned_abs())
                .build(dialect),
            2 => Invoice::select(&witness)
                .filter(filter)
                .count()
                .build(dialect),
            3 => Invoice::update(&witness)
                .set(Invoice::TOTAL, values.next())
                .filter(filter)
                .build(dialect),
            _ => Invoice::delete(&witness).filter(filter).build(dialect),
        }
    }

    proptest! {
        #[test]
        fn a_cached_shape_binds_each_statement_s_own_values(
            kind in 0_u8..5,
            spec in spec(),
            seeds in (any::<u64>(), any::<u64>()),
            tenants in (0_i64..3, 0_i64..3),
        ) {
            for dialect in DIALECTS {
                // The first fills the cache for the shape, the second is
                // served from it, with other values.
                let first = statement(kind, &spec, seeds.0, tenants.0, dialect);
                let before = hits();
                let second = statement(kind, &spec, seeds.1, tenants.1, dialect);
                // Only SQLite's OFFSET without LIMIT binds a value of its own,
                // which the cache declines.
                let cacheable = !(kind == 1 && dialect == Dialect::Sqlite);
                if first.is_ok() && cacheable {
                    prop_assert_eq!(hits(), before + 1, "not served from the cache");
                }
                let rendered = without_cache(|| statement(kind, &spec, seeds.1, tenants.1, dialect));
                prop_assert_eq!(&second, &rendered);
                prop_assert_eq!(first.is_ok(), rendered.is_ok());
            }
        }
    }
}
