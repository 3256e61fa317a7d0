// A table is a struct with named fields, not an enum.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub enum Order {
    Open { tenant_id: i64 },
    Paid { tenant_id: i64 },
}

fn main() {}
