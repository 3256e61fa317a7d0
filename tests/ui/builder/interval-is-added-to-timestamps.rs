// An interval shifts a timestamp; it is not added to a number, and a
// timestamp is shifted by an `Interval`, not by a number.
use tenancy_core::{Interval, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Session {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub requests: i64,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _number = Session::select(&tenant)
        .filter(Session::REQUESTS.plus_interval(Interval::from_days(1)).gt(10));
    let _days = Session::select(&tenant)
        .filter(Session::STARTED_AT.minus_interval(30).gt(tenancy_core::functions::now()));
}
