// PostgreSQL has no order for `json`: `ORDER BY` a `json` column, or a
// `->` member of one (which is `json` too), fails there with `could not
// identify an ordering operator for type json`. Order by a member as text,
// or store the document as `jsonb`.
use tenancy_core::{PlainJson, TenantId, ident, tenant_scoped};

#[tenant_scoped]
pub struct Webhook {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub body: PlainJson,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _by_body = Webhook::select(&tenant).order_by(Webhook::BODY.desc());
    let _by_member = Webhook::select(&tenant).order_by(Webhook::BODY.get("event").asc());
    let _by_key = Webhook::select(&tenant).order_by_asc(Webhook::BODY);
    let body = Webhook::BODY.alias(ident!("body"));
    let _by_alias = Webhook::select(&tenant).column(body.clone()).order_by(body.desc());
    // Allowed: a member as text sorts as text.
    let _by_text = Webhook::select(&tenant).order_by(Webhook::BODY.get_text("event").asc());
}
