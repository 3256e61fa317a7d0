// Parameter values are bound as the values of the library's column types:
// a value of any other type is refused.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub struct Status(pub String);

pub fn by_status(tenant: &TenantId, status: Status) -> TenantSql {
    tenant_sql!(
        tenant,
        "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant AND o.status = $status",
        status,
    )
}

fn main() {}
