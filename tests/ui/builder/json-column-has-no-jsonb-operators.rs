// `@>` and `?` exist for `jsonb` only: PostgreSQL has neither for a `json`
// column, which keeps its document as written.
use tenancy_core::{PlainJson, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Webhook {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub body: PlainJson,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _paid = Webhook::select(&tenant)
        .filter(Webhook::BODY.json_contains(serde_json::json!({"event": "paid"})));
    let _keyed = Webhook::select(&tenant).filter(Webhook::BODY.has_key("event"));
}
