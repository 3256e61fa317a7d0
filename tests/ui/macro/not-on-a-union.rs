// A table is a struct with named fields, not a union.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub union Order {
    pub tenant_id: i64,
    pub id: i64,
}

fn main() {}
