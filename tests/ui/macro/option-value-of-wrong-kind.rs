// Names are strings in double quotes; flags take no value.
use tenancy_core::tenant_scoped;

#[tenant_scoped(table = orders)]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key = true)]
    pub id: i64,
}

fn main() {}
