//! A tenant's names in stores without row-level security: keys for a
//! key-value store or a cache, and index names for a search engine.
//!
//! Both are rendered from a witness, so code without one cannot name a
//! tenant's data there either, and both are *injective*: two different
//! (tenant, entity, id) triples never render to the same key, and two
//! different (tenant, index) pairs never to the same index name, whatever
//! the entity, id or index contains (`#`, `_`, backslashes, unicode). The
//! parsers refuse a key or name of another tenant.
//!
//! ```
//! use tenancy_core::{StoreKeyError, TenantId};
//!
//! let tenant: TenantId<i64> = TenantId::from_verified(42);
//! let key = tenant.store_key("order", "A#7");
//! assert_eq!(key, r"42#order#A\#7");
//! let parts = tenant.parse_store_key(&key)?;
//! assert_eq!((parts.entity.as_str(), parts.id.as_str()), ("order", "A#7"));
//!
//! let other = TenantId::from_verified(7);
//! assert_eq!(other.parse_store_key(&key), Err(StoreKeyError::OtherTenant));
//!
//! assert_eq!(tenant.index_name("orders")?, "tenant_42_orders");
//! assert_eq!(tenant.index_name("order_items")?, "tenant_42_order__items");
//! assert_eq!(tenant.parse_index_name("tenant_42_order__items")?, "order_items");
//! # Ok::<(), StoreKeyError>(())
//! ```

use core::fmt::Write as _;

use crate::tenant::{TenantId, TenantKey};

/// The longest index name [`TenantId::index_name`] renders, in bytes: the
/// limit of Elasticsearch and OpenSearch (Meilisearch allows 400, Typesense
/// and Algolia more).
pub const MAX_INDEX_NAME_LEN: usize = 255;

const INDEX_PREFIX: &str = "tenant_";

/// The entity and id of a store key, unescaped.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoreKeyParts {
    /// The entity (`order`).
    pub entity: String,
    /// The id within the entity.
    pub id: String,
}

/// Why a key or an index name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreKeyError {
    /// The key or name is well formed but names another tenant.
    #[error("the key belongs to another tenant")]
    OtherTenant,
    /// Not a key or name this library renders.
    #[error("not a tenant key or index name: {0}")]
    Malformed(&'static str),
    /// The index name would exceed [`MAX_INDEX_NAME_LEN`] bytes; cutting it
    /// would let two names collide, so it is refused.
    #[error(
        "the index name would be {len} bytes long, more than the {MAX_INDEX_NAME_LEN} search engines accept"
    )]
    TooLong {
        /// The length it would have.
        len: usize,
    },
}

impl<K: TenantKey> TenantId<K> {
    /// The key `<tenant>#<entity>#<id>` for a key-value store or a cache
    /// (a DynamoDB partition key, a Redis key), with `\` and `#` in the
    /// entity and the id escaped as `\\` and `\#`, so that every unescaped
    /// `#` is a separator and no other tenant, entity or id renders to the
    /// same key.
    #[must_use]
    pub fn store_key(&self, entity: &str, id: &str) -> String {
        let mut key = self.store_key_prefix(entity);
        escape_into(&mut key, id);
        key
    }

    /// The start of every key of `entity` of this tenant,
    /// `<tenant>#<entity>#`, for a prefix scan (`begins_with`): no key of
    /// another tenant or another entity starts with it.
    #[must_use]
    pub fn store_key_prefix(&self, entity: &str) -> String {
        let mut key = self.key().to_string();
        key.push('#');
        escape_into(&mut key, entity);
        key.push('#');
        key
    }

    /// The entity and id of a key that [`store_key`](Self::store_key)
    /// rendered for this tenant.
    ///
    /// # Errors
    ///
    /// [`StoreKeyError::OtherTenant`] for another tenant's key;
    /// [`StoreKeyError::Malformed`] for anything else that is not such a key.
    pub fn parse_store_key(&self, key: &str) -> Result<StoreKeyParts, StoreKeyError> {
        let mut fields = Vec::with_capacity(3);
        let mut field = String::new();
        let mut chars = key.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(escaped @ ('\\' | '#')) => field.push(escaped),
                    _ => return Err(StoreKeyError::Malformed("a `\\` escapes only `\\` or `#`")),
                },
                '#' => fields.push(core::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        fields.push(field);
        let [tenant, entity, id]: [String; 3] = fields
            .try_into()
            .map_err(|_| StoreKeyError::Malformed("a key has three `#`-separated parts"))?;
        if K::parse_key(&tenant).is_err() {
            return Err(StoreKeyError::Malformed(
                "the key does not start with a tenant key",
            ));
        }
        if tenant != self.key().to_string() {
            return Err(StoreKeyError::OtherTenant);
        }
        Ok(StoreKeyParts { entity, id })
    }

    /// The name of this tenant's index `index` in a search engine,
    /// `tenant_<tenant>_<index>`: lowercase ASCII letters, digits, `-` and
    /// `_`, starting with a letter, at most [`MAX_INDEX_NAME_LEN`] bytes —
    /// what Elasticsearch, OpenSearch, Meilisearch and Typesense all accept.
    ///
    /// A negative integer key renders as `n<digits>`; a UUID in its
    /// hyphenated lowercase form. In `index`, lowercase ASCII letters,
    /// digits and `-` stay as they are, `_` becomes `__` and every other
    /// byte of its UTF-8 form `_<two hex digits>` (`Orders` is
    /// `_4frders`), so no tenant's name equals another's.
    ///
    /// # Errors
    ///
    /// [`StoreKeyError::TooLong`] when the name would exceed
    /// [`MAX_INDEX_NAME_LEN`] bytes, and [`StoreKeyError::Malformed`] for
    /// an empty `index`.
    pub fn index_name(&self, index: &str) -> Result<String, StoreKeyError> {
        if index.is_empty() {
            return Err(StoreKeyError::Malformed("an index name cannot be empty"));
        }
        let mut name = self.index_prefix();
        for byte in index.bytes() {
            match byte {
                b'a'..=b'z' | b'0'..=b'9' | b'-' => name.push(char::from(byte)),
                b'_' => name.push_str("__"),
                // Writing to a `String` cannot fail.
                _ => {
                    let _ = write!(name, "_{byte:02x}");
                }
            }
        }
        match name.len() {
            len if len > MAX_INDEX_NAME_LEN => Err(StoreKeyError::TooLong { len }),
            _ => Ok(name),
        }
    }

    /// The index that [`index_name`](Self::index_name) rendered `name` from
    /// for this tenant.
    ///
    /// # Errors
    ///
    /// [`StoreKeyError::OtherTenant`] for another tenant's index;
    /// [`StoreKeyError::Malformed`] for any other name.
    pub fn parse_index_name(&self, name: &str) -> Result<String, StoreKeyError> {
        if name.len() > MAX_INDEX_NAME_LEN {
            return Err(StoreKeyError::Malformed(
                "an index name is at most 255 bytes",
            ));
        }
        let rest = name
            .strip_prefix(INDEX_PREFIX)
            .ok_or(StoreKeyError::Malformed(
                "an index name starts with `tenant_`",
            ))?;
        // The tenant part never contains `_`.
        let (tenant, escaped) = rest.split_once('_').ok_or(StoreKeyError::Malformed(
            "an index name has a tenant and an index",
        ))?;
        let own = self.index_prefix();
        if own[INDEX_PREFIX.len()..own.len() - 1] != *tenant {
            return Err(StoreKeyError::OtherTenant);
        }
        let bytes = escaped.as_bytes();
        let mut index = Vec::with_capacity(bytes.len());
        let mut at = 0;
        while at < bytes.len() {
            match bytes[at] {
                b'a'..=b'z' | b'0'..=b'9' | b'-' => index.push(bytes[at]),
                b'_' if bytes.get(at + 1) == Some(&b'_') => {
                    index.push(b'_');
                    at += 1;
                }
                b'_' => {
                    let byte = bytes
                        .get(at + 1..at + 3)
                        .filter(|hex| hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
                        .and_then(|hex| core::str::from_utf8(hex).ok())
                        .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                        .ok_or(StoreKeyError::Malformed(
                            "`_` is followed by `_` or two hex digits",
                        ))?;
                    // Only bytes that are not kept as they are are escaped.
                    if matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_') {
                        return Err(StoreKeyError::Malformed(
                            "an escaped byte that needs no escape",
                        ));
                    }
                    index.push(byte);
                    at += 2;
                }
                _ => {
                    return Err(StoreKeyError::Malformed(
                        "a byte that index names do not hold",
                    ));
                }
            }
            at += 1;
        }
        if index.is_empty() {
            return Err(StoreKeyError::Malformed("an index name cannot be empty"));
        }
        String::from_utf8(index).map_err(|_| StoreKeyError::Malformed("the index is not UTF-8"))
    }

    /// `tenant_<tenant>_`, the tenant part free of `_` and uppercase.
    fn index_prefix(&self) -> String {
        let key = self.key().to_string();
        let key = match key.strip_prefix('-') {
            Some(digits) => format!("n{digits}"),
            None => key.to_ascii_lowercase(),
        };
        format!("{INDEX_PREFIX}{key}_")
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(c, '\\' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tenant(key: i64) -> TenantId<i64> {
        TenantId::from_verified(key)
    }

    /// Strings built from the characters that could confuse a renderer.
    fn hostile() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::string::string_regex(r"[#_\\a-zA-Z0-9 é日🦀-]{0,6}").expect("a regex"),
            proptest::string::string_regex(r"(_[0-9a-f]{2}|__|\\#|\\\\|#|_|[a-f0-9])*")
                .expect("a regex"),
            any::<String>(),
        ]
    }

    fn keys() -> impl Strategy<Value = i64> {
        prop_oneof![-3_i64..=3, any::<i64>(), Just(i64::MIN), Just(i64::MAX)]
    }

    proptest! {
        #[test]
        fn store_keys_are_injective_and_parse_back(
            a in (keys(), hostile(), hostile()),
            b in (keys(), hostile(), hostile()),
        ) {
            let key_a = tenant(a.0).store_key(&a.1, &a.2);
            let key_b = tenant(b.0).store_key(&b.1, &b.2);
            prop_assert_eq!(key_a == key_b, a == b, "{:?} {:?}", key_a, key_b);
            let parts = tenant(a.0).parse_store_key(&key_a).expect("its own key");
            prop_assert_eq!((parts.entity, parts.id), (a.1.clone(), a.2.clone()));
            if a.0 != b.0 {
                prop_assert_eq!(tenant(b.0).parse_store_key(&key_a), Err(StoreKeyError::OtherTenant));
            }
            // A prefix scan of one tenant's entity meets none of another's keys.
            let prefix = tenant(b.0).store_key_prefix(&b.1);
            prop_assert_eq!(key_a.starts_with(&prefix), a.0 == b.0 && a.1 == b.1);
        }

        #[test]
        fn index_names_are_injective_valid_and_parse_back(
            a in (keys(), hostile()),
            b in (keys(), hostile()),
        ) {
            let (Ok(name_a), Ok(name_b)) = (tenant(a.0).index_name(&a.1), tenant(b.0).index_name(&b.1)) else {
                prop_assert!(a.1.is_empty() || b.1.is_empty() || a.1.len() > 60 || b.1.len() > 60);
                return Ok(());
            };
            prop_assert_eq!(name_a == name_b, a == b, "{} {}", name_a, name_b);
            prop_assert!(name_a.len() <= MAX_INDEX_NAME_LEN);
            prop_assert!(name_a.starts_with(|c: char| c.is_ascii_lowercase()));
            prop_assert!(name_a.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_')), "{}", name_a);
            prop_assert_eq!(tenant(a.0).parse_index_name(&name_a), Ok(a.1.clone()));
            if a.0 != b.0 {
                prop_assert_eq!(tenant(b.0).parse_index_name(&name_a), Err(StoreKeyError::OtherTenant));
            }
        }

        #[test]
        fn parsers_never_panic_and_accept_only_what_renders_back(text in hostile()) {
            let owner = tenant(42);
            if let Ok(parts) = owner.parse_store_key(&text) {
                prop_assert_eq!(owner.store_key(&parts.entity, &parts.id), text.clone());
            }
            if let Ok(index) = owner.parse_index_name(&text) {
                prop_assert_eq!(owner.index_name(&index), Ok(text.clone()));
            }
        }
    }

    #[test]
    fn the_documented_forms() {
        let t = tenant(-7);
        assert_eq!(t.store_key(r"a\b", "#"), r"-7#a\\b#\#");
        assert_eq!(t.index_name("Orders").unwrap(), "tenant_n7__4frders");
        assert_eq!(tenant(1).index_name("é").unwrap(), "tenant_1__c3_a9");
        assert_eq!(
            tenant(1).index_name(""),
            Err(StoreKeyError::Malformed("an index name cannot be empty"))
        );
        let long = "x".repeat(MAX_INDEX_NAME_LEN);
        assert!(matches!(
            tenant(1).index_name(&long),
            Err(StoreKeyError::TooLong { .. })
        ));
        for bad in [
            "42#a",
            "42#a#b#c",
            r"42#a\x#b",
            "x#a#b",
            "+42#a#b",
            r"42#a#b\",
        ] {
            assert!(
                matches!(
                    tenant(42).parse_store_key(bad),
                    Err(StoreKeyError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        for bad in [
            "tenant_42_",
            "tenant_42_Orders",
            "tenant_42_a_5f",
            "tenant_42_a_zz",
            "tenant_42_a_6",
            "tenant42_a",
            "tenant_42",
        ] {
            assert!(
                matches!(
                    tenant(42).parse_index_name(bad),
                    Err(StoreKeyError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            tenant(42).parse_index_name("tenant_421_a"),
            Err(StoreKeyError::OtherTenant)
        );
        assert_eq!(
            tenant(-42).parse_index_name("tenant_42_a"),
            Err(StoreKeyError::OtherTenant)
        );
    }

    #[cfg(feature = "uuid")]
    #[test]
    fn uuid_tenants_render_lowercase() {
        let t: TenantId<uuid::Uuid> =
            TenantId::parse_verified("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        let name = t.index_name("orders").unwrap();
        assert_eq!(name, "tenant_67e55044-10b1-426f-9247-bb680e5fe0c8_orders");
        assert_eq!(t.parse_index_name(&name).unwrap(), "orders");
        let key = t.store_key("order", "1");
        assert_eq!(t.parse_store_key(&key).unwrap().id, "1");
    }
}
