// A NOT NULL column cannot be set to an expression that may be NULL; a
// nullable one can be, and `coalesce` gives a default.
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
    let _fine = Order::update(&tenant)
        .set(Order::DISCOUNT, Order::TOTAL)
        .set(Order::TOTAL, Order::DISCOUNT.coalesce(0));
    let _update = Order::update(&tenant).set(Order::TOTAL, Order::DISCOUNT * 2);
}
