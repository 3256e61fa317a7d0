// Every reference to a tenant table in a FROM needs the top-level conjunct
// `<alias>.tenant_id = $tenant`; the error shows the SQL line with a caret
// under the reference and says what to add.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn open_orders(tenant: &TenantId) -> TenantSql {
    tenant_sql!(tenant, "SELECT o.id FROM {Order} o WHERE o.status = $status", status = "open")
}

fn main() {}
