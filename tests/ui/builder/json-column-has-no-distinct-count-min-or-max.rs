// `COUNT(DISTINCT ..)` needs an equality, `MIN` and `MAX` an order: a `json`
// value has neither in PostgreSQL.
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
    let _bodies = Webhook::select(&tenant).column(Webhook::BODY.count_distinct());
    let _events = Webhook::select(&tenant).column(Webhook::BODY.get("event").count_distinct());
    let _latest = Webhook::select(&tenant).column(Webhook::BODY.max());
    // Allowed: members as text.
    let _texts = Webhook::select(&tenant).columns((
        Webhook::BODY.get_text("event").count_distinct(),
        Webhook::BODY.get_text("event").max(),
    ));
}
