//! Where a tenant stands: the one status a tenant directory records and a
//! job's verification reads.

use core::fmt;
use core::str::FromStr;

use crate::ident::truncate_for_error;

/// Whether a tenant may be served: by a tenant directory (the router
/// refuses a transaction for a tenant that is not active) and by a job's
/// verification (only an active tenant's job yields a witness).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum TenantStatus {
    /// Served.
    Active,
    /// Refused, until it is made active again (unpaid, locked by support…).
    Suspended,
    /// Being moved to another placement: refused for the move's switch, so
    /// that no write lands in the place being left.
    Moving,
    /// Erased, or being erased: refused for good.
    Deleted,
}

impl TenantStatus {
    /// Whether work may run for a tenant in this state.
    #[must_use]
    pub fn is_active(self) -> bool {
        self == TenantStatus::Active
    }

    /// The status as text: `active`, `suspended`, `moving` or `deleted`
    /// (also its `Display` and the form a tenant directory stores).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
            TenantStatus::Moving => "moving",
            TenantStatus::Deleted => "deleted",
        }
    }

    /// The status written as `text`, exactly as [`as_str`](Self::as_str)
    /// writes it: any other text (`Active`, `''`) is refused, so a status
    /// this library does not know never lets a tenant be served.
    ///
    /// ```
    /// use tenancy_core::TenantStatus;
    ///
    /// assert_eq!(TenantStatus::parse("moving")?, TenantStatus::Moving);
    /// assert!(TenantStatus::parse("ACTIVE").is_err());
    /// # Ok::<(), tenancy_core::TenantStatusError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, TenantStatusError> {
        Ok(match text {
            "active" => TenantStatus::Active,
            "suspended" => TenantStatus::Suspended,
            "moving" => TenantStatus::Moving,
            "deleted" => TenantStatus::Deleted,
            other => {
                return Err(TenantStatusError {
                    text: truncate_for_error(other),
                });
            }
        })
    }

    /// What a refusal for this status adds to its message: when to retry.
    #[doc(hidden)]
    #[must_use]
    pub fn refusal_hint(self) -> &'static str {
        match self {
            TenantStatus::Moving => ": retry once the move has switched it",
            TenantStatus::Suspended => " until it is made active again",
            TenantStatus::Active | TenantStatus::Deleted => "",
        }
    }
}

impl fmt::Display for TenantStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TenantStatus {
    type Err = TenantStatusError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TenantStatus::parse(text)
    }
}

/// A text that is not a [`TenantStatus`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tenant status {text:?}: expected active, suspended, moving or deleted")]
pub struct TenantStatusError {
    /// The text (shortened when long).
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_unknown_ones_are_refused() {
        for status in [
            TenantStatus::Active,
            TenantStatus::Suspended,
            TenantStatus::Moving,
            TenantStatus::Deleted,
        ] {
            assert_eq!(TenantStatus::parse(status.as_str()), Ok(status));
            assert_eq!(status.to_string().parse::<TenantStatus>(), Ok(status));
        }
        for text in ["Active", "", "active ", "unknown"] {
            assert!(TenantStatus::parse(text).is_err(), "{text:?}");
        }
        assert_eq!(
            TenantStatus::parse("gone").unwrap_err().to_string(),
            r#"unknown tenant status "gone": expected active, suspended, moving or deleted"#
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn a_status_serializes_as_its_text() {
        let text = serde_json::to_string(&TenantStatus::Suspended).unwrap();
        assert_eq!(text, r#""suspended""#);
        assert_eq!(
            serde_json::from_str::<TenantStatus>(&text).unwrap(),
            TenantStatus::Suspended
        );
    }
}
