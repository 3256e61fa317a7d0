// Reading a tenant table takes the tenant's witness; there is no way around it.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() {
    let _all_tenants = Order::select();
}
