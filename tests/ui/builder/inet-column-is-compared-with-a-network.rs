// An `inet` column is compared with addresses and networks, not text: the
// database would answer `operator does not exist: inet = text`.
use tenancy_core::{TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Device {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub address: ipnetwork::IpNetwork,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _devices = Device::select(&tenant).filter(Device::ADDRESS.eq("10.0.0.1"));
}
