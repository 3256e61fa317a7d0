// A field's type maps to an SQL type, or the field says which one with
// `sql_type`.
use tenancy_core::tenant_scoped;

pub struct Money {
    pub cents: i64,
}

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub total: Money,
}

fn main() {}
