// An UPDATE cannot assign the tenant column: a row cannot move to another
// tenant.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn hand_over(tenant: &TenantId, other: i64) -> TenantSql {
    tenant_sql!(
        tenant,
        "UPDATE {Order} AS o SET tenant_id = $other WHERE o.tenant_id = $tenant",
        other,
    )
}

fn main() {}
