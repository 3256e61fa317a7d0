// `$tenant` is always the witness's key: no argument can be bound to it.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn orders(tenant: &TenantId, other: i64) -> TenantSql {
    tenant_sql!(tenant, "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant", tenant = other)
}

fn main() {}
