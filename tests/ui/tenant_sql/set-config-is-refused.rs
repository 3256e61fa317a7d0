// `set_config` could change the transaction's tenant context: it is refused
// wherever it is called.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn switch(tenant: &TenantId, other: String) -> TenantSql {
    tenant_sql!(
        tenant,
        "SELECT set_config('app.tenant_id', $other, true), o.id FROM {Order} o
         WHERE o.tenant_id = $tenant",
        other,
    )
}

fn main() {}
