// Only generated columns can be projected or ordered by: `AnyColumn` is sealed.
use tenancy_core::{AnyColumn, ColumnRef, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

#[derive(Clone, Copy)]
pub struct Anything;

impl AnyColumn for Anything {
    fn column_ref(&self) -> ColumnRef {
        Order::ID.column_ref()
    }
}

fn main() {}
