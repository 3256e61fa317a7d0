// One mistake in an attribute is reported once: the table's columns and
// entry points are still generated, so its uses report nothing more.
use tenancy_core::{BuildStatement, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_kye)]
    pub id: i64,
    pub status: String,
    pub total: i64,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _open = Order::select(&tenant)
        .filter(Order::STATUS.eq("open"))
        .order_by_desc(Order::ID)
        .to_postgres();
    let _paid = Order::update(&tenant)
        .set(Order::STATUS, "paid")
        .filter(Order::TOTAL.gt(0));
    let _gone = Order::delete(&tenant).filter(Order::ID.eq(7));
    let _count = Order::select(&tenant).count();
    let _id = Order::TENANT_ID;
}
