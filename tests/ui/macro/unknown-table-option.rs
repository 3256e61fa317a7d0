// Unknown table options are refused, with the accepted keys.
use tenancy_core::tenant_scoped;

#[tenant_scoped(tabel = "orders")]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

fn main() {}
