// Updating a tenant table takes the tenant's witness: a tenant that may be
// missing (`Option<TenantId>`) must be resolved first.
use tenancy_core::{TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

pub fn cancel_all(tenant: Option<TenantId>) {
    let _update = Order::update(&tenant).set(Order::STATUS, "cancelled");
}

fn main() {
    cancel_all(None);
}
