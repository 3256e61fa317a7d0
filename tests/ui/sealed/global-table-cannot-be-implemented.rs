// A table's scope follows from its declaration: `GlobalTable` is sealed, so
// a tenant-scoped table cannot be declared global by hand to skip the witness.
use tenancy_core::{GlobalTable, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

impl GlobalTable for Order {}

fn main() {}
