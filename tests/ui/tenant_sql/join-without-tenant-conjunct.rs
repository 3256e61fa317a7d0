// A joined tenant table needs its own tenant conjunct, in its ON clause or
// in the WHERE: the first table's conjunct does not confine the second.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Customer {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub name: String,
    pub plan_id: i64,
}

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn with_customers(tenant: &TenantId) -> TenantSql {
    tenant_sql!(
        tenant,
        "SELECT o.id, c.name FROM {Order} o JOIN {Customer} c ON c.id = o.customer_id
         WHERE o.tenant_id = $tenant"
    )
}

fn main() {}
