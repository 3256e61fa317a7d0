// A global table has no tenant column to join on: it is joined with
// `join_global`.
use tenancy_core::{TenantId, global_table, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
    pub total: i64,
}

#[global_table]
pub struct Plan {
    #[tenancy(primary_key)]
    pub id: i64,
    pub name: String,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _orders = Order::select(&tenant).join::<Plan>(Plan::ID.eq_col(Order::TOTAL));
}
