// A global table's rows belong to no tenant: no field is its tenant column.
use tenancy_core::global_table;

#[global_table]
pub struct Plan {
    #[tenancy(tenant)]
    pub owner: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

fn main() {}
