// A `cidr` column compares with `Cidr` networks, whose host bits were
// checked when they were made: not with text, and not with an address
// that may have host bits set.
use tenancy_core::{Cidr, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Subnet {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub network: Cidr,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _text = Subnet::select(&tenant).filter(Subnet::NETWORK.eq("10.0.0.0/8"));
    let host: ipnetwork::IpNetwork = "10.1.2.3/8".parse().unwrap();
    let _host = Subnet::select(&tenant).filter(Subnet::NETWORK.eq(host));
}
