// The tenant predicate comes from the witness; the tenant column has no
// comparison methods, so a filter cannot name another tenant.
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
    let _other_tenant = Order::select(&tenant).filter(Order::TENANT_ID.eq(43));
}
