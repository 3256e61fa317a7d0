// A `{Type}` must be a struct marked `#[tenant_scoped]` or `#[global_table]`:
// the statement is written with its metadata.
use tenancy_core::{TenantId, TenantSql, tenant_sql};

pub struct Invoice {
    pub tenant_id: i64,
    pub id: i64,
}

pub fn invoices(tenant: &TenantId) -> TenantSql {
    tenant_sql!(tenant, "SELECT i.id FROM {Invoice} i WHERE i.tenant_id = $tenant")
}

fn main() {}
