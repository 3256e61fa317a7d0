//! What a tenant transaction pins for its lifetime: the tenant setting, the
//! tenant's schema, and the pool's transaction-local limits. Everything is
//! set in the one simple query that opens the transaction, so each pin is a
//! field here, rendered by the backend, and never a code path of its own.

use core::time::Duration;

use tenancy_core::KeyValue;

use crate::Error;
use crate::ident::Identifier;
use crate::setting::SettingName;

/// Transaction-local limits every tenant transaction of a pool opens with,
/// on PostgreSQL: set with `SET LOCAL` in the same simple query as `BEGIN`,
/// so they cost no round trip and end with the transaction.
///
/// ```
/// use std::time::Duration;
/// use tenancy_sqlx::ddl::TableSet;
/// use tenancy_sqlx::{PlanCacheMode, TenantPoolOptions, TransactionSettings};
///
/// let settings = TransactionSettings::new()
///     .statement_timeout(Duration::from_secs(5))
///     .lock_timeout(Duration::from_millis(500))
///     .plan_cache_mode(PlanCacheMode::ForceCustomPlan);
/// let options = TenantPoolOptions::new(&TableSet::new()).transaction_settings(settings);
/// assert_eq!(
///     options.settings().statement_timeout_value(),
///     Some(Duration::from_secs(5))
/// );
/// ```
///
/// The durations are sent in whole milliseconds, rounded up, so a duration
/// shorter than a millisecond still limits; `Duration::ZERO` sends `0`,
/// which PostgreSQL reads as no limit. A duration over PostgreSQL's maximum
/// (2³¹−1 ms, about 24.8 days) is refused when the pool connects
/// ([`Error::InvalidTransactionSetting`]).
///
/// SQLite has none of these settings: a pool opened on SQLite with any of
/// them but [`read_only`](Self::read_only) is refused rather than run
/// without the limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionSettings {
    statement_timeout: Option<Duration>,
    lock_timeout: Option<Duration>,
    idle_in_transaction_timeout: Option<Duration>,
    plan_cache_mode: Option<PlanCacheMode>,
    read_only: bool,
}

/// PostgreSQL's `plan_cache_mode`: whether prepared statements are planned
/// for their values each time or once for all values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PlanCacheMode {
    /// `auto`: PostgreSQL's default.
    Auto,
    /// `force_custom_plan`: planned for the bound values every time, which
    /// suits tables whose tenants differ widely in size.
    ForceCustomPlan,
    /// `force_generic_plan`: one plan for every value.
    ForceGenericPlan,
}

impl PlanCacheMode {
    fn as_sql(self) -> &'static str {
        match self {
            PlanCacheMode::Auto => "auto",
            PlanCacheMode::ForceCustomPlan => "force_custom_plan",
            PlanCacheMode::ForceGenericPlan => "force_generic_plan",
        }
    }
}

/// PostgreSQL's largest millisecond setting (`int` GUCs).
const MAX_MILLIS: u128 = i32::MAX as u128;

impl TransactionSettings {
    /// No limits, read-write: only the tenant (and, in a tenant schema, its
    /// `search_path`) is pinned.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// `statement_timeout`: a statement running longer is cancelled, which
    /// aborts the transaction.
    #[must_use]
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }

    /// `lock_timeout`: a statement waiting longer for a lock fails.
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// `idle_in_transaction_session_timeout`: the server ends the session
    /// of a transaction left idle longer (a task that holds a transaction
    /// and awaits something else).
    #[must_use]
    pub fn idle_in_transaction_timeout(mut self, timeout: Duration) -> Self {
        self.idle_in_transaction_timeout = Some(timeout);
        self
    }

    /// `plan_cache_mode`.
    #[must_use]
    pub fn plan_cache_mode(mut self, mode: PlanCacheMode) -> Self {
        self.plan_cache_mode = Some(mode);
        self
    }

    /// Every transaction is read-only: `BEGIN READ ONLY` on PostgreSQL (a
    /// write fails, raw SQL's included), a deferred `BEGIN` on SQLite
    /// (which takes no write lock; the builder's writes are not refused
    /// there, SQLite has no read-only transaction).
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// The statement timeout, if one is set.
    #[must_use]
    pub fn statement_timeout_value(&self) -> Option<Duration> {
        self.statement_timeout
    }

    /// Whether every transaction is read-only.
    #[must_use]
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The lock timeout, if one is set.
    #[must_use]
    pub fn lock_timeout_value(&self) -> Option<Duration> {
        self.lock_timeout
    }

    /// The idle-in-transaction timeout, if one is set.
    #[must_use]
    pub fn idle_in_transaction_timeout_value(&self) -> Option<Duration> {
        self.idle_in_transaction_timeout
    }

    /// These settings with each one `other` sets in its place; read-only if
    /// either is.
    pub(crate) fn overridden_by(&self, other: &TransactionSettings) -> TransactionSettings {
        TransactionSettings {
            statement_timeout: other.statement_timeout.or(self.statement_timeout),
            lock_timeout: other.lock_timeout.or(self.lock_timeout),
            idle_in_transaction_timeout: other
                .idle_in_transaction_timeout
                .or(self.idle_in_transaction_timeout),
            plan_cache_mode: other.plan_cache_mode.or(self.plan_cache_mode),
            read_only: self.read_only || other.read_only,
        }
    }

    /// The limits as PostgreSQL setting names and values, in the order they
    /// are sent. Values are rendered here from durations and enums only.
    pub(crate) fn limits(&self) -> Result<Vec<(&'static str, String)>, Error> {
        let mut limits = Vec::new();
        for (name, value) in [
            ("statement_timeout", self.statement_timeout),
            ("lock_timeout", self.lock_timeout),
            (
                "idle_in_transaction_session_timeout",
                self.idle_in_transaction_timeout,
            ),
        ] {
            if let Some(value) = value {
                limits.push((name, millis(name, value)?.to_string()));
            }
        }
        if let Some(mode) = self.plan_cache_mode {
            limits.push(("plan_cache_mode", mode.as_sql().to_owned()));
        }
        Ok(limits)
    }
}

/// The timeouts a transaction opened with, to tell the errors they cause
/// from other errors.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Timeouts {
    statement: Option<Duration>,
    lock: Option<Duration>,
    idle_in_transaction: Option<Duration>,
}

/// SQLSTATE `query_canceled`: a statement timeout (or a cancel request).
const QUERY_CANCELED: &str = "57014";
/// SQLSTATE `lock_not_available`: a lock timeout (or `NOWAIT`).
const LOCK_NOT_AVAILABLE: &str = "55P03";
/// SQLSTATE `idle_in_transaction_session_timeout`.
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "25P03";

impl Timeouts {
    /// The timeouts of `settings`.
    pub(crate) fn of(settings: &TransactionSettings) -> Self {
        Timeouts {
            statement: settings.statement_timeout,
            lock: settings.lock_timeout,
            idle_in_transaction: settings.idle_in_transaction_timeout,
        }
    }

    /// The timeout error `error` is, if it is the server enforcing one of
    /// these timeouts (a timeout that is not set cannot have fired: the
    /// same SQLSTATE then means something else, and stays a database
    /// error); otherwise `error` itself.
    pub(crate) fn classify(
        &self,
        tenant: KeyValue,
        error: sqlx::Error,
    ) -> Result<Error, sqlx::Error> {
        let code = error
            .as_database_error()
            .and_then(|database| database.code())
            .map(|code| code.into_owned());
        match (code.as_deref(), self) {
            (
                Some(QUERY_CANCELED),
                Timeouts {
                    statement: Some(timeout),
                    ..
                },
            ) => Ok(Error::StatementTimeout {
                tenant,
                timeout: *timeout,
                source: error,
            }),
            (
                Some(LOCK_NOT_AVAILABLE),
                Timeouts {
                    lock: Some(timeout),
                    ..
                },
            ) => Ok(Error::LockTimeout {
                tenant,
                timeout: *timeout,
                source: error,
            }),
            (
                Some(IDLE_IN_TRANSACTION_TIMEOUT),
                Timeouts {
                    idle_in_transaction: Some(timeout),
                    ..
                },
            ) => Ok(Error::IdleInTransactionTimeout {
                tenant,
                timeout: *timeout,
                source: error,
            }),
            _ => Err(error),
        }
    }
}

/// Whole milliseconds, rounded up.
fn millis(name: &'static str, value: Duration) -> Result<u128, Error> {
    let whole = value.as_millis() + u128::from(!value.subsec_nanos().is_multiple_of(1_000_000));
    if whole > MAX_MILLIS {
        return Err(Error::InvalidTransactionSetting {
            name,
            reason: format!("{value:?} is more than PostgreSQL's maximum of {MAX_MILLIS} ms"),
        });
    }
    Ok(whole)
}

/// Whether a tenant transaction may write. (`pub` only so that the
/// backend trait can name it: the module is private to the crate.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads and writes.
    ReadWrite,
    /// Reads only.
    ReadOnly,
}

/// Everything one tenant transaction pins, from validated names and keys
/// only: the backend renders it as the one simple query that opens the
/// transaction ([`Internals::begin_statement`](crate::backend::Internals)).
#[derive(Debug, Clone, Copy)]
pub struct Pin<'a> {
    /// Read-write or read-only.
    pub access: Access,
    /// The setting that carries the tenant.
    pub setting: &'a SettingName,
    /// The tenant.
    pub tenant: KeyValue,
    /// The tenant's own schema, for schema-per-tenant: unqualified names in
    /// raw SQL resolve there (built statements name it themselves).
    pub search_path: Option<&'a Identifier>,
    /// The pool's limits.
    pub settings: &'a TransactionSettings,
}

impl<'a> Pin<'a> {
    /// The pin of a transaction of `tenant` in a pool with `setting` and
    /// `settings`, in the pool's own schema.
    pub(crate) fn new(
        setting: &'a SettingName,
        tenant: KeyValue,
        settings: &'a TransactionSettings,
    ) -> Self {
        Pin {
            access: if settings.read_only {
                Access::ReadOnly
            } else {
                Access::ReadWrite
            },
            setting,
            tenant,
            search_path: None,
            settings,
        }
    }

    /// The same pin, read-only if `access` is (a pool whose settings are
    /// read-only stays read-only whatever is asked).
    pub(crate) fn with_access(self, access: Access) -> Self {
        match access {
            Access::ReadOnly => Pin { access, ..self },
            Access::ReadWrite => self,
        }
    }

    /// The same pin, with `search_path` set to the tenant's schema.
    pub(crate) fn in_schema(self, schema: &'a Identifier) -> Self {
        Pin {
            search_path: Some(schema),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_whole_milliseconds_rounded_up() {
        let settings = TransactionSettings::new()
            .statement_timeout(Duration::from_micros(1))
            .lock_timeout(Duration::from_millis(1500))
            .idle_in_transaction_timeout(Duration::ZERO);
        assert_eq!(
            settings.limits().unwrap(),
            [
                ("statement_timeout", "1".to_owned()),
                ("lock_timeout", "1500".to_owned()),
                ("idle_in_transaction_session_timeout", "0".to_owned()),
            ]
        );
    }

    #[test]
    fn a_duration_over_the_maximum_is_refused() {
        let settings = TransactionSettings::new().lock_timeout(Duration::from_secs(30 * 86_400));
        let error = settings.limits().unwrap_err();
        assert!(
            matches!(
                error,
                Error::InvalidTransactionSetting {
                    name: "lock_timeout",
                    ..
                }
            ),
            "{error}"
        );
        let largest = Duration::from_millis(u64::from(i32::MAX.unsigned_abs()));
        assert!(
            TransactionSettings::new()
                .lock_timeout(largest)
                .limits()
                .is_ok()
        );
    }
}
