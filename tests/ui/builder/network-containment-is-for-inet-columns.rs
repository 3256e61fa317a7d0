// `<<` and the other containment operators belong to `inet` columns.
use tenancy_core::{TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Device {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub hostname: String,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let office: ipnetwork::IpNetwork = "10.0.0.0/8".parse().unwrap();
    let _devices = Device::select(&tenant).filter(Device::HOSTNAME.is_within(office));
}
