// Typed columns are the constants the macros generate (`Order::STATUS`): a
// hand-made column could name the tenant column in another case, which
// SQLite takes for the tenant column itself.
use tenancy_core::{Column, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

fn main() {
    let _forged = Column::<Order, i64>::new("TENANT_ID");
}
