// Tenant tables are joined on their tenant column, so their key types must
// agree.
use tenancy_core::{TenantId, tenant_scoped};
use uuid::Uuid;

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
    pub total: i64,
}

#[tenant_scoped]
pub struct Invoice {
    pub tenant_id: Uuid,
    #[tenancy(primary_key)]
    pub id: Uuid,
    pub order_id: i64,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _orders = Order::select(&tenant).join::<Invoice>(Invoice::ORDER_ID.eq_col(Order::ID));
}
