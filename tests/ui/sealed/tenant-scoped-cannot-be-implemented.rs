// `TenantScoped` is implemented by `#[tenant_scoped]` only: a global table
// cannot be given a tenant key type by hand.
use tenancy_core::{TenantScoped, global_table};

#[global_table]
pub struct Plan {
    #[tenancy(primary_key)]
    pub id: i64,
}

impl TenantScoped for Plan {
    type Key = i64;
}

fn main() {}
