// The tenant column can be projected and grouped by, not computed with:
// its value is the witness's.
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
    let _next = Order::TENANT_ID + 1;
}
