// Table options go in the macro's arguments, field options on fields.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
#[tenancy(table = "orders")]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(schema = "sales")]
    pub id: i64,
}

fn main() {}
