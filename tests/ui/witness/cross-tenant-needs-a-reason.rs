// The cross-tenant capability is made only with a stated reason, which is
// logged: there is no default and no struct literal.
use tenancy_core::CrossTenant;

fn main() {
    let _admin = CrossTenant::default();
}
