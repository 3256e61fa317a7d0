// The tenant column's type is a tenant key type: `i64`, `i32` or `uuid::Uuid`.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Order {
    pub tenant_id: String,
    #[tenancy(primary_key)]
    pub id: i64,
}

fn main() {}
