//! `interval` values (feature `interval`).

use core::fmt;

/// A PostgreSQL `interval`: months, days and microseconds, kept apart as
/// PostgreSQL keeps them (a month is not a fixed number of days, nor a
/// day of microseconds across a daylight-saving change).
///
/// It binds as its text, cast to `interval` — `CAST($1 AS INTERVAL)` —
/// since the drivers bind no interval of their own; it orders as
/// PostgreSQL orders intervals, and is added to and subtracted from
/// timestamps with [`plus_interval`](crate::Column::plus_interval) and
/// [`minus_interval`](crate::Column::minus_interval). With tenancy-sqlx it
/// decodes as a field of a `sqlx::FromRow` row (`Option<Interval>` from a
/// nullable column). PostgreSQL only: SQLite has no interval type.
///
/// ```
/// # include!("../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, Interval, Select, TenantId, functions::now};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let sql = Select::<Session>::scoped(&tenant)
///     .filter(Session::STARTED_AT.gt(now().minus_interval(Interval::from_days(30))))
///     .to_postgres()?
///     .into_parts()
///     .0;
/// assert!(sql.ends_with(
///     r#"WHERE "sessions"."tenant_id" = $1 AND "sessions"."started_at" > CURRENT_TIMESTAMP - CAST($2 AS INTERVAL)"#
/// ));
/// assert_eq!(Interval::new(1, 2, -3).to_string(), "1 months 2 days -3 microseconds");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Interval {
    months: i32,
    days: i32,
    microseconds: i64,
}

impl Interval {
    /// `months` months, `days` days and `microseconds` microseconds.
    #[must_use]
    pub const fn new(months: i32, days: i32, microseconds: i64) -> Self {
        Interval {
            months,
            days,
            microseconds,
        }
    }

    /// `months` months.
    #[must_use]
    pub const fn from_months(months: i32) -> Self {
        Interval::new(months, 0, 0)
    }

    /// `days` days (calendar days: 24 hours except across a
    /// daylight-saving change of a `timestamptz`'s time zone).
    #[must_use]
    pub const fn from_days(days: i32) -> Self {
        Interval::new(0, days, 0)
    }

    /// `seconds` seconds; `None` when that many microseconds overflow
    /// `i64`.
    #[must_use]
    pub const fn from_seconds(seconds: i64) -> Option<Self> {
        match seconds.checked_mul(1_000_000) {
            Some(microseconds) => Some(Interval::new(0, 0, microseconds)),
            None => None,
        }
    }

    /// `microseconds` microseconds.
    #[must_use]
    pub const fn from_microseconds(microseconds: i64) -> Self {
        Interval::new(0, 0, microseconds)
    }

    /// The months.
    #[must_use]
    pub const fn months(self) -> i32 {
        self.months
    }

    /// The days.
    #[must_use]
    pub const fn days(self) -> i32 {
        self.days
    }

    /// The microseconds.
    #[must_use]
    pub const fn microseconds(self) -> i64 {
        self.microseconds
    }
}

/// The text PostgreSQL reads the interval from, each part exact:
/// `1 months 2 days -3 microseconds`.
impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} months {} days {} microseconds",
            self.months, self.days, self.microseconds
        )
    }
}
