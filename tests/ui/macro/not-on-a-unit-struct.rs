// A table is a struct with named fields, not a unit struct.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Order;

fn main() {}
