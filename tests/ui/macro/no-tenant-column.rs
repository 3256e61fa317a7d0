// A tenant table has a tenant column: `tenant_id`, or a field marked
// `#[tenancy(tenant)]`.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Order {
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() {}
