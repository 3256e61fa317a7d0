// A UUID is not a witness, even for a UUID-keyed table.
use tenancy_core::tenant_scoped;
use uuid::Uuid;

#[tenant_scoped]
pub struct Invoice {
    pub tenant_id: Uuid,
    #[tenancy(primary_key)]
    pub id: Uuid,
}

fn main() {
    let tenant_from_header = Uuid::nil();
    let _invoices = Invoice::select(&tenant_from_header);
}
