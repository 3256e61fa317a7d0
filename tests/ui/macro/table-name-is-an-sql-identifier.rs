// Table names are plain SQL identifiers.
use tenancy_core::tenant_scoped;

#[tenant_scoped(table = "order items")]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

fn main() {}
