// Inserting into a tenant table takes the tenant's witness, which supplies
// the tenant column's value.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() {
    let _insert = Order::insert(&()).set(Order::STATUS, "open");
}
