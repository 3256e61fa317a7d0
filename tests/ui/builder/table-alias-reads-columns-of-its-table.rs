// An alias of `Order` has the columns of `Order`.
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

#[tenant_scoped]
pub struct Customer {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub name: String,
}

fn main() {
    let earlier = tenancy_core::TableAlias::<Order>::new(tenancy_core::ident!("earlier"));
    let _name = earlier.col(Customer::NAME);
}
