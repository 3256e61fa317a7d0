//! What a tenant pool's handles, transactions and `after_connect` hook
//! share: the registered tables, and why the pool refuses to hand out
//! connections once a new connection's session failed the pool's check.

use std::sync::{Arc, OnceLock};

use tenancy_core::ddl::TableSet;

use crate::Error;
use crate::error::PrivilegedRole;

/// What the pool's handles, its transactions and its connection check
/// share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The registered tables: the tenant setting, the schema statements are
    /// built for, and the registry statements are checked against.
    pub(crate) tables: Arc<TableSet>,
    /// Set by the first new connection that failed the check: from then on
    /// the pool hands out nothing. The role's attributes apply to every
    /// session at once, the pool's older connections included.
    refusal: OnceLock<Refusal>,
}

impl Shared {
    pub(crate) fn new(tables: TableSet) -> Arc<Self> {
        Arc::new(Shared {
            tables: Arc::new(tables),
            refusal: OnceLock::new(),
        })
    }

    /// Records why the pool must refuse; the first reason stays.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn refuse(&self, refusal: Refusal) {
        if self.refusal.set(refusal).is_ok() {
            tracing::error!(
                target: "tenancy::pool",
                error = %self.refusal().map(|refusal| refusal.to_error().to_string()).unwrap_or_default(),
                "a new connection failed the tenant pool's check; the pool refuses every transaction from now on"
            );
        }
    }

    pub(crate) fn refusal(&self) -> Option<&Refusal> {
        self.refusal.get()
    }
}

/// Why a session must not serve tenant transactions.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) enum Refusal {
    /// A role of the session skips row-level security, or can make itself
    /// such a role.
    Role {
        role: String,
        problem: PrivilegedRole,
    },
    /// The session starts with the tenant setting set.
    TenantDefault {
        role: String,
        setting: String,
        value: String,
    },
}

impl Refusal {
    pub(crate) fn to_error(&self) -> Error {
        match self.clone() {
            Refusal::Role { role, problem } => Error::PrivilegedRole { role, problem },
            Refusal::TenantDefault {
                role,
                setting,
                value,
            } => Error::SessionTenantDefault {
                role,
                setting,
                value,
            },
        }
    }
}
