//! The cross-tenant capability (invariant 6 of the design).

use core::fmt;

/// Permission to read or write across tenants: erasure, migrations, exports,
/// analytics.
///
/// It is a distinct type that cannot stand in for a [`TenantId`](crate::TenantId),
/// it can only be created with a stated reason, and its creation is logged as
/// a `tracing` event at `WARN` level on target `tenancy::cross_tenant`, so that
/// every use of it is visible in the logs.
///
/// ```
/// use tenancy_core::CrossTenant;
///
/// let cap = CrossTenant::with_reason("nightly billing export");
/// assert_eq!(cap.reason(), "nightly billing export");
/// ```
pub struct CrossTenant {
    reason: String,
}

impl CrossTenant {
    /// Creates the capability and logs that it was created, and why.
    #[must_use]
    pub fn with_reason(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        tracing::warn!(
            target: "tenancy::cross_tenant",
            reason = %reason,
            "cross-tenant capability created"
        );
        CrossTenant { reason }
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
