// A request body cannot deserialize into a `TenantId`.
use tenancy_core::TenantId;

fn main() {
    let _tenant = serde_json::from_str::<TenantId>("42");
}
