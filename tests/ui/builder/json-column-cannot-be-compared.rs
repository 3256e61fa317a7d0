// PostgreSQL has no `=` (nor `<`, `IN`) for `json`: a `json` column is
// compared through one of its members, or stored as `jsonb`.
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
    let _same = Webhook::select(&tenant)
        .filter(Webhook::BODY.eq(PlainJson(serde_json::json!({"event": "paid"}))));
}
