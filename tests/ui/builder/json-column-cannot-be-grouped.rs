// `GROUP BY` and `DISTINCT ON` match rows by equality, which PostgreSQL has
// not for `json` (`could not identify an equality operator for type json`).
use tenancy_core::functions::count_all;
use tenancy_core::{PlainJson, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Webhook {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub kind: String,
    pub body: PlainJson,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _per_body = Webhook::select(&tenant)
        .columns((Webhook::BODY, count_all()))
        .group_by(Webhook::BODY);
    let _per_event = Webhook::select(&tenant)
        .column(count_all())
        .group_by((Webhook::KIND, Webhook::BODY.get("event")));
    let _first_per_body = Webhook::select(&tenant).distinct_on(Webhook::BODY);
    // Allowed: a member as text groups as text.
    let _per_text = Webhook::select(&tenant)
        .column(count_all())
        .group_by(Webhook::BODY.get_text("event"));
}
