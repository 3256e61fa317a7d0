// A `TenantId` cannot be made with a struct literal: its field is private.
use tenancy_core::TenantId;

fn main() {
    let _tenant = TenantId::<i64> { key: 42 };
}
