// `eq_col` compares two columns of the same type.
use tenancy_core::{TenantId, tenant_scoped};

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
pub struct Customer {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub name: String,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _orders =
        Order::select(&tenant).join::<Customer>(Customer::NAME.eq_col(Order::CUSTOMER_ID));
}
