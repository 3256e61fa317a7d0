// A tenant's witness cannot open a statement across every tenant.
use tenancy_core::{Select, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _every_order = Select::<Order>::across_tenants(&tenant);
}
