// The first argument is the verified tenant: a raw key is not one.
use tenancy_core::{TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn orders(key: i64) -> TenantSql {
    tenant_sql!(&key, "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant")
}

fn main() {}
