// Each option is given once.
use tenancy_core::tenant_scoped;

#[tenant_scoped(table = "orders", table = "purchases")]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

fn main() {}
