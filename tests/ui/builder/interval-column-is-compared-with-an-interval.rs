// An `interval` column compares with `Interval`s, which name their units: a
// bare number is not one.
use tenancy_core::{Interval, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Session {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub idle_timeout: Interval,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _seconds = Session::select(&tenant).filter(Session::IDLE_TIMEOUT.gt(30));
}
