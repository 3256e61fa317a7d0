// A tenant conjunct under OR confines nothing: `o.tenant_id = $tenant OR
// o.status = 'open'` reads every tenant's open orders.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn mine_or_open(tenant: &TenantId) -> TenantSql {
    tenant_sql!(
        tenant,
        "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant OR o.status = 'open'"
    )
}

fn main() {}
