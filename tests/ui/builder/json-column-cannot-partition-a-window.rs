// A window's `PARTITION BY` groups and its `ORDER BY` sorts: neither is
// possible by a `json` value in PostgreSQL.
use tenancy_core::functions::row_number;
use tenancy_core::{PlainJson, TenantId, Window, tenant_scoped};

#[tenant_scoped]
pub struct Webhook {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub body: PlainJson,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let partitioned = Window::new().partition_by(Webhook::BODY).order_by(Webhook::ID.asc());
    let ordered = Window::new().order_by(Webhook::BODY.get("sent").desc());
    let _ranked = Webhook::select(&tenant)
        .columns((row_number().over(partitioned), row_number().over(ordered)));
}
