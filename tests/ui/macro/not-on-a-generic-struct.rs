// A table has one fixed set of column types: no generic parameters.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Order<T> {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub payload: T,
}

fn main() {}
