//! Column types: the Rust types a column (or an expression) can have, the
//! SQL type each maps to, how its values are bound, and what the builder
//! may do with it — compare it, compute with it, aggregate it.
//!
//! Everything a type supports is declared here, beside the type, by one
//! invocation of `column_types!`: a new column type is a new line there and
//! its own operators, never a change to the code that writes statements.
//! Nullability is part of the type (`Option<T>`), and the associated types
//! of [`ColumnType`] say how it combines, so `total + 1` on a `BIGINT NOT
//! NULL` column is an `i64` expression and on a nullable one an
//! `Option<i64>` expression.

use sea_query::Value;

use crate::meta::SqlType;

/// A Rust type that maps to a column: its SQL type, whether it is nullable,
/// the type values are compared with in filters, and how nullability
/// combines in expressions.
///
/// Implemented for the integer, float, `bool`, `String`, `Vec<u8>` types,
/// `uuid::Uuid` (feature `uuid`), `chrono` date and time types (feature
/// `chrono`), `rust_decimal::Decimal` (`numeric`, feature `decimal`),
/// `serde_json::Value` and [`Json<T>`](crate::Json) (`jsonb`, feature
/// `json`), [`PlainJson`](crate::PlainJson) (`json`, feature `json`),
/// `ipnetwork::IpNetwork` (`inet`, feature `ipnetwork`),
/// [`Cidr`](crate::Cidr) (`cidr`, feature `ipnetwork`),
/// [`Interval`](crate::Interval) (`interval`, feature `interval`),
/// `Vec<String>` and `Vec<i64>` (`text[]` and `bigint[]`, feature `array`),
/// enums declared with [`pg_enum!`](crate::pg_enum), and `Option<T>` of
/// those. Other field types can still be
/// columns: give them `#[tenancy(sql_type = "..")]`; they can be read and
/// projected, but not filtered on or assigned.
///
/// Sealed: only this crate implements it, so every value a filter or an
/// assignment binds is one of the few kinds the SQL writer accepts, and none
/// of them can add text to a statement.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no column type known to tenancy",
    label = "this field's type",
    note = "give the field `#[tenancy(sql_type = \"<SQL type>\")]` to name its SQL type, or `#[tenancy(skip)]` if it is not a column",
    note = "column types come from tenancy only; a type of your own cannot implement `ColumnType`"
)]
pub trait ColumnType: sealed::Sealed + Sized {
    /// The SQL type.
    const SQL_TYPE: SqlType;
    /// Whether the column accepts NULL.
    const NULLABLE: bool = false;
    /// The type a filter compares this column with: the type itself, or
    /// `T` for `Option<T>`.
    type Compare: ColumnType<Compare = Self::Compare> + Bind;
    /// The type with NULL admitted: `Option<T>` for `T` and for `Option<T>`.
    /// `MAX(..)`, `LAG(..)` and scalar subqueries have it: they are NULL
    /// when there is no row.
    type Nullable: ColumnType<Compare = Self::Compare>;
    /// The type of `self <op> other`, where `other` has type `W` of the same
    /// base type: NULL when either side may be.
    type Or<W: ColumnType<Compare = Self::Compare>>: ColumnType<Compare = Self::Compare>;
    /// The type of `COALESCE(self, other)`: NULL only when both may be.
    type Coalesce<W: ColumnType<Compare = Self::Compare>>: ColumnType<Compare = Self::Compare>;
    /// Another base type `B` with this type's nullability, for casts.
    type Rebase<B: ColumnType<Compare = B> + Bind>: ColumnType<Compare = B>;
    /// This value as a bound parameter.
    fn into_value(self) -> Value;
    /// SQL NULL as a bound parameter of this type.
    fn null_value() -> Value;
}

/// Sealing traits; generated code reaches them through `__private_v0_1`.
#[doc(hidden)]
pub mod sealed {
    /// Implemented with [`ColumnType`](super::ColumnType), in this crate only.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be a column type: column types come from tenancy only",
        label = "not a column type of tenancy",
        note = "a field of this type takes `#[tenancy(sql_type = \"<SQL type>\")]`: it can then be read, projected and inserted, but not filtered on, since only tenancy's own types choose how a value is bound"
    )]
    pub trait Sealed {}

    /// Implemented with [`Bind`](super::Bind), in this crate only.
    pub trait SealedBind {
        /// The value as a bound parameter of its column type.
        fn bind_value(self) -> sea_query::Value;
    }

    /// Implemented with the operator traits, in this crate only.
    pub trait SealedCapability {}
}

/// A Rust value that a statement can bind as a parameter: the values of the
/// column types and the types that convert into them (`&str` for `String`,
/// `i32` for `i64`, ...). `Type` is the column type the value is on its own,
/// as in [`value`](crate::functions::value).
///
/// Sealed: only this crate implements it, so every bound value is of a kind
/// the SQL writer accepts.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value tenancy can bind",
    label = "not a value of a column type",
    note = "values are integers, floats, booleans, strings, byte vectors, UUIDs (feature `uuid`), `chrono` dates and times (feature `chrono`), decimals (feature `decimal`), JSON (feature `json`), network addresses (feature `ipnetwork`) and arrays (feature `array`)"
)]
pub trait Bind: sealed::SealedBind {
    /// The column type of this value.
    type Type: ColumnType;
}

/// A column type that arithmetic applies to (`+`, `-`, `*`, `/`, `%`,
/// unary `-`) and that has `SUM` and `AVG`.
///
/// The result types are what decodes on both databases: the builder casts
/// PostgreSQL's `numeric` results (`SUM` of a `BIGINT`, `AVG` of an
/// integer) to them, so a sum that exceeds `i64` is an error from the
/// database ("bigint out of range"), never a silently wrong number.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a numeric column type",
    label = "arithmetic and `SUM`/`AVG` need a number",
    note = "numbers are `i16`, `i32`, `i64`, `f32` and `f64` columns (or `Option`s of them); text and other types have no arithmetic"
)]
pub trait Numeric: ColumnType<Compare = Self> + sealed::SealedCapability {
    /// The type of `SUM(..)` of this type (before NULL for no rows).
    type Sum: ColumnType<Compare = Self::Sum>;
    /// The type of `AVG(..)` of this type (before NULL for no rows).
    type Avg: ColumnType<Compare = Self::Avg>;
    /// Whether PostgreSQL sums this type into another type than `Sum`.
    const CAST_SUM: bool;
    /// Whether PostgreSQL averages this type into another type than `Avg`.
    const CAST_AVG: bool;
}

/// A column type that has an equality and an order in the database: what
/// `=`, `<>`, `<`, `IN` and `BETWEEN` compare, and what `ORDER BY`,
/// `GROUP BY`, `DISTINCT ON`, `PARTITION BY`, `COUNT(DISTINCT ..)` and an
/// `ON CONFLICT` target sort or match by ([`Orderable`](crate::Orderable)).
///
/// Every column type but `json` ([`PlainJson`](crate::PlainJson)), which
/// PostgreSQL has neither for: a statement that needs one fails there with
/// `could not identify an equality operator for type json`, so the builder
/// refuses it when the program is compiled. `jsonb` has both.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is `json`, which PostgreSQL cannot compare, sort, group or deduplicate",
    label = "`=`, `IN`, `ORDER BY`, `GROUP BY`, `DISTINCT ON`, `PARTITION BY`, `COUNT(DISTINCT ..)` and `ON CONFLICT` need an equality or an order, which `json` lacks",
    note = "use a member as text (`.get_text(\"key\")`, `->>`), which compares and sorts as text, or store the document as `jsonb` (`serde_json::Value` or `Json<T>`), which has both"
)]
pub trait Comparable: ColumnType<Compare = Self> {}

/// A column type with an order that `MIN` and `MAX` follow.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no order for `MIN` and `MAX`",
    label = "`MIN` and `MAX` need numbers, text, dates or times",
    note = "PostgreSQL has no `min` or `max` of booleans, byte strings, UUIDs or JSON documents (`json` or `jsonb`); of a document, take a member as text (`.get_text(\"key\").max()`)"
)]
pub trait Ordered: ColumnType<Compare = Self> + sealed::SealedCapability {}

/// Text columns, which alone have `LIKE`, `lower` and `upper`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a text column type",
    label = "`LIKE`, `lower` and `upper` apply to text",
    note = "text columns are `String` (or `Option<String>`)"
)]
pub trait TextColumn: ColumnType<Compare = String> + sealed::SealedCapability {}
impl TextColumn for String {}
impl TextColumn for Option<String> {}
impl sealed::SealedCapability for Option<String> {}

/// One base column type, with the types that bind as its values.
macro_rules! column_types {
    ($($ty:ty => $sql:ident $(, binds $($from:ty),+)?;)*) => {$(
        impl sealed::Sealed for $ty {}
        impl ColumnType for $ty {
            const SQL_TYPE: SqlType = SqlType::$sql;
            type Compare = $ty;
            type Nullable = Option<$ty>;
            type Or<W: ColumnType<Compare = $ty>> = W;
            type Coalesce<W: ColumnType<Compare = $ty>> = $ty;
            type Rebase<B: ColumnType<Compare = B> + Bind> = B;
            fn into_value(self) -> Value {
                self.into()
            }
            fn null_value() -> Value {
                <$ty as sea_query::Nullable>::null()
            }
        }
        impl sealed::SealedBind for $ty {
            fn bind_value(self) -> Value {
                self.into_value()
            }
        }
        impl Bind for $ty {
            type Type = $ty;
        }
        impl Comparable for $ty {}
        $($(
            impl sealed::SealedBind for $from {
                fn bind_value(self) -> Value {
                    <$ty>::from(self).into_value()
                }
            }
            impl Bind for $from {
                type Type = $ty;
            }
        )+)?
    )*};
}

/// Capabilities of base column types.
macro_rules! capabilities {
    (numeric: $($ty:ty => sum $sum:ty, $cast_sum:literal, avg $avg:ty, $cast_avg:literal;)*) => {$(
        impl sealed::SealedCapability for $ty {}
        impl Numeric for $ty {
            type Sum = $sum;
            type Avg = $avg;
            const CAST_SUM: bool = $cast_sum;
            const CAST_AVG: bool = $cast_avg;
        }
        impl Ordered for $ty {}
    )*};
    (ordered: $($ty:ty),* $(,)?) => {$(
        impl sealed::SealedCapability for $ty {}
        impl Ordered for $ty {}
    )*};
}

column_types! {
    i16 => SmallInt, binds i8, u8;
    i32 => Integer, binds u16;
    i64 => BigInt, binds u32;
    f32 => Real;
    f64 => Double;
    bool => Boolean;
    String => Text, binds &str, &String, std::borrow::Cow<'_, str>, Box<str>;
    Vec<u8> => Bytes, binds &[u8];
}

// PostgreSQL: `sum(smallint | integer)` is `bigint`, `sum(bigint)` and
// `avg` of any integer are `numeric`; `sum(real)` is `real`, `avg(real)`
// and `avg(double precision)` are `double precision`. SQLite sums integers
// into integers and averages into reals.
capabilities! {
    numeric:
    i16 => sum i64, false, avg f64, true;
    i32 => sum i64, false, avg f64, true;
    i64 => sum i64, true, avg f64, true;
    f32 => sum f32, false, avg f64, false;
    f64 => sum f64, false, avg f64, false;
}

capabilities! { ordered: String }

#[cfg(feature = "uuid")]
column_types! { uuid::Uuid => Uuid; }

#[cfg(feature = "chrono")]
column_types! {
    chrono::DateTime<chrono::Utc> => TimestampTz;
    chrono::NaiveDateTime => Timestamp;
    chrono::NaiveDate => Date;
}

#[cfg(feature = "chrono")]
capabilities! {
    ordered: chrono::DateTime<chrono::Utc>, chrono::NaiveDateTime, chrono::NaiveDate
}

#[cfg(feature = "decimal")]
column_types! { rust_decimal::Decimal => Numeric; }

// `sum` and `avg` of `numeric` are `numeric` on PostgreSQL.
#[cfg(feature = "decimal")]
capabilities! {
    numeric:
    rust_decimal::Decimal => sum rust_decimal::Decimal, false, avg rust_decimal::Decimal, false;
}

#[cfg(feature = "json")]
column_types! { serde_json::Value => Jsonb; }

#[cfg(feature = "ipnetwork")]
column_types! { ipnetwork::IpNetwork => Inet, binds std::net::IpAddr; }

#[cfg(feature = "array")]
column_types! {
    Vec<String> => TextArray;
    Vec<i64> => BigIntArray;
}

/// A column type of the library's own: a wrapper of a value that binds as
/// another type (cast to its SQL type where the statement binds it).
#[cfg(any(feature = "json", feature = "ipnetwork", feature = "interval"))]
macro_rules! wrapper_column_type {
    ($(@[$($generic:ident),*])? $ty:ty => $sql:ident, |$value:ident| $into:expr, null $null:expr) => {
        impl$(<$($generic),*>)? sealed::Sealed for $ty {}
        impl$(<$($generic),*>)? ColumnType for $ty {
            const SQL_TYPE: SqlType = SqlType::$sql;
            type Compare = $ty;
            type Nullable = Option<$ty>;
            type Or<W: ColumnType<Compare = $ty>> = W;
            type Coalesce<W: ColumnType<Compare = $ty>> = $ty;
            type Rebase<B: ColumnType<Compare = B> + Bind> = B;
            fn into_value(self) -> Value {
                let $value = self;
                $into
            }
            fn null_value() -> Value {
                $null
            }
        }
        impl$(<$($generic),*>)? sealed::SealedBind for $ty {
            fn bind_value(self) -> Value {
                self.into_value()
            }
        }
        impl$(<$($generic),*>)? Bind for $ty {
            type Type = $ty;
        }
    };
}

// A typed document binds as the document it was serialized to.
#[cfg(feature = "json")]
wrapper_column_type! {
    @[T] crate::Json<T> => Jsonb,
    |json| json.into_document().into(),
    null <serde_json::Value as sea_query::Nullable>::null()
}
#[cfg(feature = "json")]
impl<T> Comparable for crate::Json<T> {}

// A `json` document binds as JSON, cast to `json`; it has no comparison.
#[cfg(feature = "json")]
wrapper_column_type! {
    crate::PlainJson => Json,
    |json| json.0.into(),
    null <serde_json::Value as sea_query::Nullable>::null()
}

// A network binds as an address, cast to `cidr`.
#[cfg(feature = "ipnetwork")]
wrapper_column_type! {
    crate::Cidr => Cidr,
    |cidr| cidr.network().into(),
    null <ipnetwork::IpNetwork as sea_query::Nullable>::null()
}
#[cfg(feature = "ipnetwork")]
impl Comparable for crate::Cidr {}

// An interval binds as its text, cast to `interval` (sea-query has no
// interval value).
#[cfg(feature = "interval")]
wrapper_column_type! {
    crate::Interval => Interval,
    |interval| Value::String(Some(interval.to_string())),
    null Value::String(None)
}
#[cfg(feature = "interval")]
impl Comparable for crate::Interval {}
#[cfg(feature = "interval")]
capabilities! { ordered: crate::Interval }

/// JSON columns (feature `json`), `jsonb` and `json`, which have the member
/// operators `->` and `->>`.
#[cfg(feature = "json")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a JSON column type",
    label = "`->` and `->>` apply to `jsonb` and `json`",
    note = "JSON columns are `serde_json::Value`, `tenancy_core::Json<T>` (`jsonb`) and `tenancy_core::PlainJson` (`json`), or `Option`s of them, with feature `json`"
)]
pub trait JsonColumn: ColumnType + sealed::SealedCapability {
    /// The type of a member (`self -> key`): `jsonb` of a `jsonb`
    /// document, `json` of a `json` one.
    type Member: ColumnType<Compare = Self::Member> + Bind;
}

/// `jsonb` columns (feature `json`), which alone have the containment
/// operators `@>` and `?`: PostgreSQL has neither for `json`.
#[cfg(feature = "json")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `jsonb` column type",
    label = "`@>` and `?` apply to `jsonb` only, not to `json`",
    note = "`jsonb` columns are `serde_json::Value` and `tenancy_core::Json<T>` (or `Option`s of them); a `json` column (`PlainJson`) has `->` and `->>` only"
)]
pub trait JsonbColumn: JsonColumn {}

#[cfg(feature = "json")]
macro_rules! json_columns {
    ($($(@[$generic:ident])? $ty:ty => $member:ty;)*) => {$(
        impl$(<$generic>)? sealed::SealedCapability for $ty {}
        impl$(<$generic>)? sealed::SealedCapability for Option<$ty> {}
        impl$(<$generic>)? JsonColumn for $ty {
            type Member = $member;
        }
        impl$(<$generic>)? JsonColumn for Option<$ty> {
            type Member = $member;
        }
    )*};
}
#[cfg(feature = "json")]
json_columns! {
    serde_json::Value => serde_json::Value;
    @[T] crate::Json<T> => serde_json::Value;
    crate::PlainJson => crate::PlainJson;
}
#[cfg(feature = "json")]
impl JsonbColumn for serde_json::Value {}
#[cfg(feature = "json")]
impl JsonbColumn for Option<serde_json::Value> {}
#[cfg(feature = "json")]
impl<T> JsonbColumn for crate::Json<T> {}
#[cfg(feature = "json")]
impl<T> JsonbColumn for Option<crate::Json<T>> {}

/// Network address columns (feature `ipnetwork`), `inet` and `cidr`,
/// which have the containment operators `<<`, `<<=`, `>>` and `>>=`, with
/// addresses and networks of either type.
#[cfg(feature = "ipnetwork")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a network address column type",
    label = "`<<`, `<<=`, `>>` and `>>=` apply to `inet` and `cidr`",
    note = "network columns are `ipnetwork::IpNetwork` (`inet`) and `tenancy_core::Cidr` (`cidr`), or `Option`s of them, with feature `ipnetwork`"
)]
pub trait NetworkColumn: ColumnType + sealed::SealedCapability {}
#[cfg(feature = "ipnetwork")]
impl NetworkColumn for ipnetwork::IpNetwork {}
#[cfg(feature = "ipnetwork")]
impl NetworkColumn for Option<ipnetwork::IpNetwork> {}
#[cfg(feature = "ipnetwork")]
impl NetworkColumn for crate::Cidr {}
#[cfg(feature = "ipnetwork")]
impl NetworkColumn for Option<crate::Cidr> {}
#[cfg(feature = "ipnetwork")]
impl sealed::SealedCapability for ipnetwork::IpNetwork {}
#[cfg(feature = "ipnetwork")]
impl sealed::SealedCapability for Option<ipnetwork::IpNetwork> {}
#[cfg(feature = "ipnetwork")]
impl sealed::SealedCapability for crate::Cidr {}
#[cfg(feature = "ipnetwork")]
impl sealed::SealedCapability for Option<crate::Cidr> {}

/// Timestamp columns (feature `interval`), which an
/// interval is added to and subtracted from.
#[cfg(feature = "interval")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a timestamp column type",
    label = "an interval is added to timestamps",
    note = "timestamp columns are `chrono::DateTime<chrono::Utc>` (`timestamptz`) and `chrono::NaiveDateTime` (`timestamp`)"
)]
pub trait TimestampColumn: ColumnType<Compare = Self> + sealed::SealedCapability {}
#[cfg(feature = "interval")]
impl TimestampColumn for chrono::DateTime<chrono::Utc> {}
#[cfg(feature = "interval")]
impl TimestampColumn for chrono::NaiveDateTime {}

/// Array columns (feature `array`): `text[]` and `bigint[]`, which have
/// `@>` (contains every element of) and `= ANY` (has an element).
#[cfg(feature = "array")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an array column type",
    label = "`@>` and `= ANY` apply to arrays",
    note = "array columns are `Vec<String>` and `Vec<i64>` (or `Option`s of them), with feature `array`"
)]
pub trait ArrayColumn: ColumnType + sealed::SealedCapability {
    /// The type of one element.
    type Element: ColumnType<Compare = Self::Element> + Bind;
}
#[cfg(feature = "array")]
macro_rules! array_columns {
    ($($array:ty => $element:ty;)*) => {$(
        impl sealed::SealedCapability for $array {}
        impl sealed::SealedCapability for Option<$array> {}
        impl ArrayColumn for $array {
            type Element = $element;
        }
        impl ArrayColumn for Option<$array> {
            type Element = $element;
        }
    )*};
}
#[cfg(feature = "array")]
array_columns! {
    Vec<String> => String;
    Vec<i64> => i64;
}

impl<T: ColumnType<Compare = T> + Bind> sealed::Sealed for Option<T> {}

impl<T: ColumnType<Compare = T> + Bind> ColumnType for Option<T> {
    const SQL_TYPE: SqlType = T::SQL_TYPE;
    const NULLABLE: bool = true;
    type Compare = T;
    type Nullable = Option<T>;
    type Or<W: ColumnType<Compare = T>> = Option<T>;
    type Coalesce<W: ColumnType<Compare = T>> = W;
    type Rebase<B: ColumnType<Compare = B> + Bind> = Option<B>;
    fn into_value(self) -> Value {
        match self {
            Some(value) => value.into_value(),
            None => T::null_value(),
        }
    }
    fn null_value() -> Value {
        T::null_value()
    }
}

impl<X: Bind> sealed::SealedBind for Option<X>
where
    X::Type: ColumnType<Compare = X::Type> + Bind,
{
    fn bind_value(self) -> Value {
        match self {
            Some(value) => value.bind_value(),
            None => <X::Type as ColumnType>::null_value(),
        }
    }
}

/// `None` binds as a typed NULL, `Some(x)` as `x`.
impl<X: Bind> Bind for Option<X>
where
    X::Type: ColumnType<Compare = X::Type> + Bind,
{
    type Type = Option<X::Type>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_keep_their_type() {
        assert_eq!(None::<i64>.into_value(), Value::BigInt(None));
        assert_eq!(Some(3_i32).into_value(), Value::Int(Some(3)));
        assert_eq!(None::<String>.into_value(), Value::String(None));
        assert_eq!(<Option<f64>>::null_value(), Value::Double(None));
    }
}
