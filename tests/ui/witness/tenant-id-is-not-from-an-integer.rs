// An integer does not convert into a `TenantId`: the trust decision is
// spelt `TenantId::from_verified`.
use tenancy_core::TenantId;

fn main() {
    let _tenant = TenantId::from(42_i64);
    let _tenant: TenantId = 42_i64.into();
}
