// A statement on a global table has no tenant, so it cannot join a tenant
// table: start from the tenant table, with its witness, instead.
use tenancy_core::{global_table, tenant_scoped};

#[global_table]
pub struct Plan {
    #[tenancy(primary_key)]
    pub id: i64,
}

#[tenant_scoped]
pub struct Customer {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub plan_id: i64,
}

fn main() {
    let _every_customer = Plan::select().join::<Customer>(Customer::PLAN_ID.eq_col(Plan::ID));
}
