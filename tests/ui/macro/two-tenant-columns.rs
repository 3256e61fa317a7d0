// A tenant table has exactly one tenant column.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(tenant)]
    pub organisation_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

fn main() {}
