// The target of an UPDATE needs the tenant conjunct in the WHERE, or the
// statement changes every tenant's rows.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
}

pub fn close_all(tenant: &TenantId) -> TenantSql {
    tenant_sql!(tenant, "UPDATE {Order} AS o SET status = 'closed' WHERE o.status = 'open'")
}

fn main() {}
