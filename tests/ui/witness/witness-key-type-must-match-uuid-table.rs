// A `TenantId<i64>` cannot query a table whose tenant column is a UUID.
use tenancy_core::{TenantId, tenant_scoped};
use uuid::Uuid;

#[tenant_scoped]
pub struct Invoice {
    pub tenant_id: Uuid,
    #[tenancy(primary_key)]
    pub id: Uuid,
}

fn main() {
    let tenant: TenantId<i64> = TenantId::from_verified(42);
    let _invoices = Invoice::select(&tenant);
}
