// Tables are named by their Rust types, so that a rename cannot drift and
// the statement reaches the table the metadata describes.
use tenancy_core::{TenantId, TenantSql, tenant_sql};

pub fn by_name(tenant: &TenantId) -> TenantSql {
    tenant_sql!(tenant, "SELECT o.id FROM orders o WHERE o.tenant_id = $tenant")
}

fn main() {}
