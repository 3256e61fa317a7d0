// `Table` is implemented by `#[tenant_scoped]` and `#[global_table]` only:
// the builder scopes a table by its metadata, so a hand-written impl could
// describe another table than its own, or none at all.
use tenancy_core::{Table, TableMeta, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

pub struct Disguised;

impl Table for Disguised {
    fn meta() -> &'static TableMeta {
        Order::meta()
    }
}

fn main() {}
