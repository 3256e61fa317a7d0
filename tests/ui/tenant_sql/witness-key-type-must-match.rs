// `$tenant` is bound to the witness's key, so every tenant table must be
// keyed like the witness: `Order` is keyed by `i64`, the witness by `i32`.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn orders(tenant: &TenantId<i32>) -> TenantSql {
    tenant_sql!(tenant, "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant")
}

fn main() {}
