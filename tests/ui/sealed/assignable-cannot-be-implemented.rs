// Only generated columns other than the tenant column can be assigned:
// `Assignable` is sealed, so no hand-written handle can stand for the tenant
// column in `.set(..)`.
use tenancy_core::{Assignable, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

#[derive(Clone, Copy)]
pub struct TenantHandle;

impl Assignable<Order> for TenantHandle {
    type Value = i64;
    fn name(&self) -> &'static str {
        "tenant_id"
    }
}

fn main() {}
