// The target of a DELETE needs the tenant conjunct in the WHERE, or the
// statement removes every tenant's rows.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn purge(tenant: &TenantId) -> TenantSql {
    tenant_sql!(tenant, "DELETE FROM {Order} AS o WHERE o.status = $status", status = "cancelled")
}

fn main() {}
