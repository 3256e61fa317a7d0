//! What a leak test found, and how it can fail to run.

use core::fmt;

use tenancy_core::{TenantId, TenantKey};

use super::marker::MarkerValue;

/// The error type of seeding and checked operations: any error converts into
/// it with `?`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One value seeded for another tenant, found in what a tenant saw.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Leak<K: TenantKey = i64> {
    /// The tenant the value was seeded for.
    pub owner: TenantId<K>,
    /// What the value is, as labelled when it was seeded (`"note body"`).
    pub label: String,
    /// The value.
    pub value: MarkerValue,
    /// Where it was found, as a JSON path into the operation's serialized
    /// result: `$[1].body`, or `$` for a text body.
    pub path: String,
}

impl<K: TenantKey> fmt::Display for Leak<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}'s {} {} at {}",
            self.owner, self.label, self.value, self.path
        )
    }
}

/// What one tenant's operation returned, checked against every other
/// tenant's seeded values.
///
/// [`assert_no_leak`](Self::assert_no_leak) fails a test with the list of
/// leaked values; [`assert_sees_own_values`](Self::assert_sees_own_values)
/// proves that the operation returned data at all (a query that returns
/// nothing leaks nothing, and proves nothing either).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeakReport<K: TenantKey = i64> {
    pub(crate) observer: TenantId<K>,
    pub(crate) leaks: Vec<Leak<K>>,
    pub(crate) own_values_seen: usize,
}

impl<K: TenantKey> LeakReport<K> {
    /// The tenant the operation ran as.
    #[must_use]
    pub fn observer(&self) -> &TenantId<K> {
        &self.observer
    }

    /// Every value of another tenant found, with where it was found.
    #[must_use]
    pub fn leaks(&self) -> &[Leak<K>] {
        &self.leaks
    }

    /// Whether nothing of another tenant was found.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.leaks.is_empty()
    }

    /// How many times the observer's own seeded values were found.
    #[must_use]
    pub fn own_values_seen(&self) -> usize {
        self.own_values_seen
    }

    /// Panics, listing every leaked value and where it was found, if the
    /// operation returned anything seeded for another tenant.
    ///
    /// # Panics
    ///
    /// On a leak: that is its job, in a test.
    #[track_caller]
    #[allow(clippy::panic)]
    pub fn assert_no_leak(&self) {
        if !self.is_clean() {
            panic!("{self}");
        }
    }

    /// Panics if none of the observer's own seeded values was found: the
    /// operation returned no data, so its lack of leaks proves nothing.
    ///
    /// # Panics
    ///
    /// When the operation returned none of the observer's values.
    #[track_caller]
    #[allow(clippy::panic)]
    pub fn assert_sees_own_values(&self) {
        if self.own_values_seen == 0 {
            panic!(
                "{} saw none of its own seeded values: the operation returned no data, so \
                 the leak test proves nothing; return what the operation read",
                self.observer
            );
        }
    }
}

impl<K: TenantKey> fmt::Display for LeakReport<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return write!(
                f,
                "{} saw no value seeded for another tenant ({} of its own)",
                self.observer, self.own_values_seen
            );
        }
        write!(
            f,
            "cross-tenant leak: {} saw {} value(s) seeded for another tenant:",
            self.observer,
            self.leaks.len()
        )?;
        for leak in &self.leaks {
            write!(f, "\n  - {leak}")?;
        }
        Ok(())
    }
}

/// Why a leak test could not run: the kit's misuse, or an operation that
/// failed. A leak is not an error: it is in the [`LeakReport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeakTestError {
    /// The seeding operation failed for a tenant.
    #[error("seeding {tenant} failed: {source}")]
    Seed {
        /// The tenant being seeded, for the message.
        tenant: String,
        /// What the seeding operation returned.
        source: BoxError,
    },

    /// The checked operation failed.
    #[error("the operation run as {tenant} failed: {source}")]
    Operation {
        /// The tenant it ran as.
        tenant: String,
        /// What the operation returned.
        source: BoxError,
    },

    /// The operation's result could not be turned into JSON to search it.
    #[error(
        "the result of the operation run as {tenant} could not be serialized to search it: \
         {source}; return rows that derive `serde::Serialize`, a `serde_json::Value` or the text body"
    )]
    Serialize {
        /// The tenant it ran as.
        tenant: String,
        /// The serializer's error.
        source: serde_json::Error,
    },

    /// A tenant other than the observer has no seeded values, so nothing of
    /// it could be found.
    #[error(
        "{tenant} has no seeded values, so a leak of its data cannot be detected: seed it with \
         `TenantSeed::marker` / `marker_id`, or `record` values unique to it"
    )]
    NothingSeeded {
        /// The tenant without values.
        tenant: String,
    },

    /// Both tenants of the test are the same tenant.
    #[error("a leak test needs two different tenants; both are {tenant}")]
    SameTenant {
        /// The tenant given twice.
        tenant: String,
    },

    /// Opening, or ending, a tenant transaction failed.
    #[error(transparent)]
    Database(#[from] crate::Error),
}
