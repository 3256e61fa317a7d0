// A job read from a queue names a tenant, but is not its witness: only
// `TenantJob::verify` turns it into one.
use tenancy_core::{TenantJob, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() {
    let job: TenantJob<i64, String> =
        serde_json::from_str(r#"{"tenant":42,"payload":"invoice"}"#).unwrap();
    let _orders = Order::select(&job);
    let _key_as_witness = Order::select(&job.unverified_tenant());
}
