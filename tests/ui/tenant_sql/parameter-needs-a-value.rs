// Every `$name` in the SQL is bound to the argument of that name; a
// parameter without one is shown in the SQL, with the closest argument.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn by_status(tenant: &TenantId, status: &str) -> TenantSql {
    tenant_sql!(
        tenant,
        "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant AND o.status = $statsu",
        status,
    )
}

fn main() {}
