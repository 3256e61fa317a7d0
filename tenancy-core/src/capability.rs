//! The cross-tenant capability: reading or writing across tenants needs a
//! distinct type, created with a stated reason and logged.

use core::fmt;

/// Permission to read or write across tenants: erasure, migrations, exports,
/// analytics.
///
/// It is a distinct type that cannot stand in for a [`TenantId`](crate::TenantId),
/// it can only be created with a stated, non-empty reason, and its creation
/// is logged as a `tracing` event at `WARN` level on target
/// `tenancy::cross_tenant` with the reason in field `reason`. Every
/// statement started with it is logged there too, at `DEBUG`, with fields
/// `reason` and `table`, so that every use of it is visible in the logs.
///
/// ```
/// use tenancy_core::CrossTenant;
///
/// let cap = CrossTenant::with_reason("nightly billing export")?;
/// assert_eq!(cap.reason(), "nightly billing export");
/// assert!(CrossTenant::with_reason("  ").is_err());
/// # Ok::<(), tenancy_core::CrossTenantError>(())
/// ```
pub struct CrossTenant {
    reason: String,
}

/// A cross-tenant capability that could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrossTenantError {
    /// The reason was empty or only whitespace.
    #[error(
        "a cross-tenant capability needs a reason: say why this work spans tenants (\"nightly billing export\"); it is logged with every use"
    )]
    EmptyReason,
}

impl CrossTenant {
    /// Creates the capability and logs that it was created, and why.
    ///
    /// An empty or whitespace-only reason is refused: the log line is the
    /// record of why tenant isolation was set aside.
    pub fn with_reason(reason: impl Into<String>) -> Result<Self, CrossTenantError> {
        let reason = reason.into();
        if reason.trim().is_empty() {
            return Err(CrossTenantError::EmptyReason);
        }
        tracing::warn!(
            target: "tenancy::cross_tenant",
            reason = %reason,
            "cross-tenant capability created"
        );
        Ok(CrossTenant { reason })
    }

    /// Why the capability was created.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Debug for CrossTenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrossTenant")
            .field("reason", &self.reason)
            .finish()
    }
}
