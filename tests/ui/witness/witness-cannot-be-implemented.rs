// Only `TenantId` is a witness: the trait is sealed, so a type of one's own
// cannot claim to be one, whatever tenant it would name.
use tenancy_core::{TenantId, TenantWitness};

pub struct AnyTenant;

impl TenantWitness<i64> for AnyTenant {
    fn tenant(&self) -> TenantId<i64> {
        TenantId::from_verified(1)
    }
}

fn main() {}
