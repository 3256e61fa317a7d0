// A tenant key is not a witness: only `TenantId::from_verified` makes one.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() {
    let tenant_from_request: i64 = 42;
    let _orders = Order::select(&tenant_from_request);
}
