// An update cannot move a row to another tenant: the tenant column is not
// assignable.
use tenancy_core::{TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
    pub total: i64,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _move_to_tenant_43 = Order::update(&tenant).set(Order::TENANT_ID, 43);
}
