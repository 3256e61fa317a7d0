// The tenant column leads every key by construction; it takes no key
// options of its own.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Order {
    #[tenancy(primary_key, index)]
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

fn main() {}
