// All problems of one statement are reported at once, each with its SQL line
// and a caret: here a join without its conjunct and a conjunct under OR.
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

pub fn leaky(tenant: &TenantId) -> TenantSql {
    tenant_sql!(
        tenant,
        "SELECT o.id, c.name FROM {Order} o JOIN {Customer} c ON c.id = o.customer_id
         WHERE o.tenant_id = $tenant OR o.status = 'open'"
    )
}

fn main() {}
