// A number plus text does not compile either: both operands of arithmetic
// have the same base type.
use tenancy_core::tenant_scoped;

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
    let _sum = Order::TOTAL + Order::STATUS;
}
