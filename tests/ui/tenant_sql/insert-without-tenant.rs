// An INSERT into a tenant table gives the tenant column exactly `$tenant`:
// no row can be written for another tenant.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn add(tenant: &TenantId, owner: i64) -> TenantSql {
    tenant_sql!(
        tenant,
        "INSERT INTO {Order} (tenant_id, id, customer_id, status) VALUES ($owner, 1, 1, 'open')",
        owner,
    )
}

fn main() {}
