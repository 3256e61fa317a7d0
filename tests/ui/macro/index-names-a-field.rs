// `index(..)` lists fields of the struct.
use tenancy_core::tenant_scoped;

#[tenant_scoped(index(status, created))]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
    pub created_at: i64,
}

fn main() {}
