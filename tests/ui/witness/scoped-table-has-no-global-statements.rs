// A tenant table cannot be read through the witness-free entry point of
// global tables.
use tenancy_core::{Select, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() {
    let _every_order = Select::<Order>::global();
}
