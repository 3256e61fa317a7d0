// A `TenantId<i64>` cannot query a table keyed by `i32`: the key type is
// part of the witness's type.
use tenancy_core::{TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Note {
    pub tenant_id: i32,
    #[tenancy(primary_key)]
    pub id: i64,
}

fn main() {
    let tenant: TenantId<i64> = TenantId::from_verified(42);
    let _notes = Note::delete(&tenant);
}
