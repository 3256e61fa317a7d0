// `?`, `@>`, `->` and `->>` belong to `jsonb` columns, not to text that
// happens to hold JSON.
use tenancy_core::{TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Event {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub payload: String,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _events = Event::select(&tenant).filter(Event::PAYLOAD.has_key("kind"));
}
