// An insert takes the tenant column's value from the witness, never from
// the caller.
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
    let _insert_for_tenant_43 = Order::insert(&tenant)
        .set(Order::TENANT_ID, 43)
        .set(Order::STATUS, "open");
}
