// `IN` compares with `=`, and an `ON CONFLICT` target names a unique key,
// matched by equality: neither exists for `json` in PostgreSQL (nor can a
// `json` column have a unique index).
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
    let paid = PlainJson(serde_json::json!({"event": "paid"}));
    let _listed = Webhook::select(&tenant).filter(Webhook::BODY.is_in([paid.clone()]));
    let _member = Webhook::select(&tenant)
        .filter(Webhook::BODY.get("event").is_not_in([PlainJson(serde_json::json!("paid"))]));
    let _upsert = Webhook::insert(&tenant)
        .set(Webhook::ID, 1)
        .set(Webhook::BODY, paid)
        .on_conflict_do_nothing((Webhook::BODY,));
}
