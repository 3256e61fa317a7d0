// A tenant table in a subquery needs its own conjunct, in the subquery's
// WHERE: the outer statement's does not reach into it.
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

pub fn customers_with_orders(tenant: &TenantId) -> TenantSql {
    tenant_sql!(
        tenant,
        "SELECT c.name FROM {Customer} c WHERE c.tenant_id = $tenant
         AND c.id IN (SELECT o.customer_id FROM {Order} o WHERE o.status = 'open')"
    )
}

fn main() {}
