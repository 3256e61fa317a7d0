// `SUM` and `AVG` are of numbers.
use tenancy_core::{TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
    pub total: i64,
    pub discount: Option<i64>,
    pub paid: bool,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _orders = Order::select(&tenant).column(Order::STATUS.sum());
}
