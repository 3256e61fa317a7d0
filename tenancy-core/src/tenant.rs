//! The tenant witness: proof, checked by the type system, that the code
//! holding it is acting for one verified tenant.

use core::fmt;
use core::hash::Hash;

use crate::error::TenantIdError;
use crate::ident::truncate_for_error;
use crate::meta::SqlType;

mod sealed {
    pub trait Sealed {}
    impl Sealed for i64 {}
    impl Sealed for i32 {}
    #[cfg(feature = "uuid")]
    impl Sealed for uuid::Uuid {}
}

/// A type that can key tenants: `i64`, `i32`, or `uuid::Uuid` (feature `uuid`).
///
/// Sealed: the set of key types is closed, because the adapter renders keys
/// into `set_config(..)` and must be able to trust their text form.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tenant key",
    label = "unsupported tenant key type",
    note = "tenant columns must be `i64`, `i32`, or `uuid::Uuid` (with the `uuid` feature of tenancy)"
)]
pub trait TenantKey:
    sealed::Sealed + Copy + Eq + Hash + fmt::Debug + fmt::Display + Send + Sync + 'static
{
    /// The column type of a tenant column with this key, and the type the RLS
    /// policy casts the session setting to.
    const SQL_TYPE: SqlType;

    /// Parses the canonical text form of a key, rejecting anything else.
    fn parse_key(text: &str) -> Result<Self, TenantIdError>;

    /// The key as a bound parameter value.
    fn to_value(self) -> sea_query::Value;

    /// The key with its type erased, for comparing statements with transactions.
    fn to_key_value(self) -> KeyValue;
}

/// A tenant key with its type erased. Statements carry one so an executor can
/// refuse a statement built for another tenant before sending anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyValue {
    /// An `i32` key.
    I32(i32),
    /// An `i64` key.
    I64(i64),
    /// A UUID key.
    #[cfg(feature = "uuid")]
    Uuid(uuid::Uuid),
}

impl fmt::Display for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyValue::I32(k) => k.fmt(f),
            KeyValue::I64(k) => k.fmt(f),
            #[cfg(feature = "uuid")]
            KeyValue::Uuid(k) => k.fmt(f),
        }
    }
}

fn parse_integer<T: core::str::FromStr>(
    text: &str,
    type_name: &'static str,
) -> Result<T, TenantIdError> {
    // `str::parse` accepts a leading `+`; a key has exactly one text form.
    let canonical = !text.is_empty()
        && text
            .strip_prefix('-')
            .unwrap_or(text)
            .bytes()
            .all(|b| b.is_ascii_digit());
    match text.parse() {
        Ok(key) if canonical => Ok(key),
        _ => Err(TenantIdError::Malformed {
            input: truncate_for_error(text),
            expected: type_name,
        }),
    }
}

impl TenantKey for i64 {
    const SQL_TYPE: SqlType = SqlType::BigInt;
    fn parse_key(text: &str) -> Result<Self, TenantIdError> {
        parse_integer(text, "a 64-bit integer")
    }
    fn to_value(self) -> sea_query::Value {
        self.into()
    }
    fn to_key_value(self) -> KeyValue {
        KeyValue::I64(self)
    }
}

impl TenantKey for i32 {
    const SQL_TYPE: SqlType = SqlType::Integer;
    fn parse_key(text: &str) -> Result<Self, TenantIdError> {
        parse_integer(text, "a 32-bit integer")
    }
    fn to_value(self) -> sea_query::Value {
        self.into()
    }
    fn to_key_value(self) -> KeyValue {
        KeyValue::I32(self)
    }
}

#[cfg(feature = "uuid")]
impl TenantKey for uuid::Uuid {
    const SQL_TYPE: SqlType = SqlType::Uuid;
    fn parse_key(text: &str) -> Result<Self, TenantIdError> {
        // Only the hyphenated form: one key, one spelling.
        let canonical = text.len() == 36;
        match uuid::Uuid::try_parse(text) {
            Ok(key) if canonical => Ok(key),
            _ => Err(TenantIdError::Malformed {
                input: truncate_for_error(text),
                expected: "a hyphenated UUID",
            }),
        }
    }
    fn to_value(self) -> sea_query::Value {
        self.into()
    }
    fn to_key_value(self) -> KeyValue {
        KeyValue::Uuid(self)
    }
}

/// The tenant witness: the only way to build or run a statement on a
/// tenant-scoped table.
///
/// A `TenantId` can only be made by [`TenantId::from_verified`] or
/// [`TenantId::parse_verified`], whose names put the trust decision in front
/// of a reviewer: call them only with a key that your authentication layer
/// has verified (an API key looked up in a table, a signed token's claim).
/// There is deliberately no `Default`, no `From<i64>`/`From<Uuid>`/`From<&str>`
/// and no `Deserialize`: a request body or a header cannot become a witness by
/// accident.
///
/// The key type is part of the type: a `TenantId<i64>` cannot query a table
/// whose tenant column is a UUID.
///
/// ```
/// use tenancy_core::TenantId;
///
/// let tenant: TenantId<i64> = TenantId::from_verified(42);
/// assert_eq!(tenant.key(), 42);
/// assert_eq!(tenant.to_string(), "tenant 42");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantId<K: TenantKey = i64> {
    key: K,
}

impl<K: TenantKey> TenantId<K> {
    /// Wraps a tenant key that the caller's authentication layer has verified.
    ///
    /// This is the trust boundary of the library: everything built with the
    /// returned witness is confined to this tenant.
    #[must_use]
    pub fn from_verified(key: K) -> Self {
        TenantId { key }
    }

    /// Parses the canonical text form of a verified key (`"42"`, or a
    /// hyphenated UUID), rejecting anything else with a clear error.
    ///
    /// ```
    /// use tenancy_core::TenantId;
    ///
    /// assert!(TenantId::<i64>::parse_verified("42").is_ok());
    /// let err = TenantId::<i64>::parse_verified("42 OR 1=1").unwrap_err();
    /// assert!(err.to_string().contains("64-bit integer"));
    /// ```
    pub fn parse_verified(text: &str) -> Result<Self, TenantIdError> {
        K::parse_key(text).map(Self::from_verified)
    }

    /// The tenant's key.
    #[must_use]
    pub fn key(&self) -> K {
        self.key
    }

    /// The key with its type erased.
    #[must_use]
    pub fn key_value(&self) -> KeyValue {
        self.key.to_key_value()
    }
}

impl<K: TenantKey> fmt::Debug for TenantId<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TenantId").field(&self.key).finish()
    }
}

impl<K: TenantKey> fmt::Display for TenantId<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tenant {}", self.key)
    }
}

/// Serializes as the bare key. There is no `Deserialize`, on purpose: a
/// witness must come from verification, not from input.
#[cfg(feature = "serde")]
impl<K: TenantKey + serde::Serialize> serde::Serialize for TenantId<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.key.serialize(serializer)
    }
}

mod witness_sealed {
    pub trait Sealed {}
    impl<K: crate::TenantKey> Sealed for crate::TenantId<K> {}
}

/// Something that proves which tenant a statement is for. Only [`TenantId`]
/// implements it; the trait exists so that a raw key or the cross-tenant
/// capability passed by mistake produces an error that says what to do.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tenant witness for a table keyed by `{K}`",
    label = "expected `&TenantId<{K}>` here",
    note = "statements on tenant-scoped tables need the verified tenant: pass `&TenantId::<{K}>::from_verified(key)` made by your authentication layer",
    note = "a raw key, a string, or a `TenantId` of another key type is not a witness; admin work across tenants takes `CrossTenant` through `Select::<T>::across_tenants`, `Update::<T>::across_tenants` and `Delete::<T>::across_tenants`"
)]
pub trait TenantWitness<K: TenantKey>: witness_sealed::Sealed {
    /// The witnessed tenant.
    fn tenant(&self) -> TenantId<K>;
}

impl<K: TenantKey> TenantWitness<K> for TenantId<K> {
    fn tenant(&self) -> TenantId<K> {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_keys_have_one_text_form() {
        assert_eq!(
            TenantId::<i64>::parse_verified("-7").map(|t| t.key()),
            Ok(-7)
        );
        for bad in [
            "",
            "+7",
            " 7",
            "7 ",
            "0x10",
            "7;",
            "1 OR 1=1",
            "99999999999999999999",
        ] {
            assert!(
                TenantId::<i64>::parse_verified(bad).is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(TenantId::<i32>::parse_verified("2147483648").is_err());
    }

    #[test]
    fn hostile_input_is_truncated_in_errors() {
        let long = "x".repeat(10_000);
        let message = TenantId::<i64>::parse_verified(&long)
            .unwrap_err()
            .to_string();
        assert!(message.len() < 200, "{message}");
    }

    #[cfg(feature = "uuid")]
    #[test]
    fn uuid_keys_must_be_hyphenated() {
        let text = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        assert!(TenantId::<uuid::Uuid>::parse_verified(text).is_ok());
        assert!(TenantId::<uuid::Uuid>::parse_verified(&text.replace('-', "")).is_err());
        assert!(
            TenantId::<uuid::Uuid>::parse_verified("{67e55044-10b1-426f-9247-bb680e5fe0c8}")
                .is_err()
        );
    }
}
