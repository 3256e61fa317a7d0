// There is no default tenant.
use tenancy_core::TenantId;

fn main() {
    let _tenant = TenantId::<i64>::default();
}
