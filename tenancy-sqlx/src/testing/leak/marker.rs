//! Values seeded for one tenant, and the source of values that no other
//! tenant, and nothing else in a response, can contain by accident.

use core::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A value seeded for one tenant, searched for in what other tenants see.
///
/// Text is found anywhere inside a string (a JSON field, an HTML body);
/// an integer is found as a JSON number or as a whole number inside a
/// string (`/orders/1000000000000042`, not `10000000000000421`).
///
/// Build one from a string, an `i64` or `i32`, or a `uuid::Uuid`
/// (feature `uuid`; searched as its hyphenated lowercase text).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MarkerValue {
    /// Searched for as a substring of every string.
    Text(String),
    /// Searched for as a number, and as a whole number inside strings.
    Integer(i64),
}

impl fmt::Display for MarkerValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarkerValue::Text(text) => write!(f, "{text:?}"),
            MarkerValue::Integer(number) => write!(f, "{number}"),
        }
    }
}

impl From<String> for MarkerValue {
    fn from(text: String) -> Self {
        MarkerValue::Text(text)
    }
}

impl From<&str> for MarkerValue {
    fn from(text: &str) -> Self {
        MarkerValue::Text(text.to_owned())
    }
}

impl From<i64> for MarkerValue {
    fn from(number: i64) -> Self {
        MarkerValue::Integer(number)
    }
}

impl From<i32> for MarkerValue {
    fn from(number: i32) -> Self {
        MarkerValue::Integer(number.into())
    }
}

#[cfg(feature = "uuid")]
impl From<sqlx::types::Uuid> for MarkerValue {
    fn from(id: sqlx::types::Uuid) -> Self {
        MarkerValue::Text(id.hyphenated().to_string())
    }
}

/// A seeded value and what it is, for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Marker {
    pub(crate) label: String,
    pub(crate) value: MarkerValue,
}

/// Unique tokens and ids for one leak test, shared by its tenants so that
/// no two markers are equal.
#[derive(Debug)]
pub(crate) struct Tokens {
    seed: u64,
    id_base: i64,
    next: AtomicU64,
}

/// The smallest generated id: large enough to stand out in a response (no
/// count, page size or status code is this big), small enough that
/// JavaScript clients keep it exact (below 2^53).
const ID_FLOOR: i64 = 1_000_000_000_000_000;

impl Tokens {
    pub(crate) fn new() -> Arc<Self> {
        // A randomly keyed hasher is the standard library's source of
        // randomness; two runs against one database get different markers.
        let seed = std::hash::RandomState::new().hash_one(std::process::id());
        let spread = i64::try_from(mix(seed) % 1_000_000_000_000_000).unwrap_or(0);
        Arc::new(Tokens {
            seed,
            id_base: ID_FLOOR + spread,
            next: AtomicU64::new(0),
        })
    }

    fn next(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Sixteen hex digits, different for every call (`mix` is a bijection).
    pub(crate) fn token(&self) -> String {
        format!("{:016x}", mix(self.seed ^ self.next()))
    }

    /// An id no other call returns.
    pub(crate) fn id(&self) -> i64 {
        // `next` stays far below the 7e15 of room above `id_base`.
        self.id_base + i64::try_from(self.next()).unwrap_or(0)
    }
}

/// The splitmix64 finaliser: a bijection on `u64` that scatters bits.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_ids_never_repeat() {
        let tokens = Tokens::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            assert!(seen.insert(tokens.token()));
            assert!(seen.insert(tokens.id().to_string()));
        }
    }

    #[test]
    fn ids_stand_out_and_survive_javascript() {
        let id = Tokens::new().id();
        assert!((ID_FLOOR..(1_i64 << 53)).contains(&id), "{id}");
    }
}
