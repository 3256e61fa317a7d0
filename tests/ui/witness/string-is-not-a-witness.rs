// Text from a request is not a witness, borrowed or owned.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() {
    let header: &str = "42";
    let _orders = Order::select(&header);
    let _orders = Order::select(&header.to_owned());
}
