// The cross-tenant capability does not stand in for a tenant: it opens only
// the builders' `across_tenants` constructors.
use tenancy_core::{CrossTenant, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() {
    let admin = CrossTenant::with_reason("nightly export").expect("a stated reason");
    let _orders = Order::select(&admin);
}
