// One statement per macro: what follows a `;` could be anything.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn two(tenant: &TenantId) -> TenantSql {
    tenant_sql!(
        tenant,
        "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant;
         DELETE FROM {Order} AS d WHERE d.tenant_id = $tenant"
    )
}

fn main() {}
