// A table is a struct with named fields: columns are named.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Order(pub i64, pub i64);

fn main() {}
