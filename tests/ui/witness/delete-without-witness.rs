// Deleting from a tenant table takes the tenant's witness, through the
// generated entry point or the builder itself.
use tenancy_core::{Delete, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() {
    let _delete = Delete::<Order>::scoped(&());
}
