// The body of a WITH query is a statement of its own: its tenant tables need
// their conjuncts there.
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

pub fn open_per_customer(tenant: &TenantId) -> TenantSql {
    tenant_sql!(
        tenant,
        "WITH open AS (SELECT o.customer_id FROM {Order} o WHERE o.status = 'open')
         SELECT c.name FROM {Customer} c JOIN open ON open.customer_id = c.id
         WHERE c.tenant_id = $tenant"
    )
}

fn main() {}
