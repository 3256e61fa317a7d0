// `ON CONFLICT .. DO UPDATE` cannot assign the tenant column either.
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

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _upsert = Order::insert(&tenant)
        .set(Order::ID, 1)
        .set(Order::STATUS, "open")
        .on_conflict_do_update((Order::ID,), (Order::STATUS, Order::TENANT_ID));
}
