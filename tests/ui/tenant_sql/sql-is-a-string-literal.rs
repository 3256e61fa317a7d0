// The macro checks the SQL when the program is compiled, so it must be a
// string literal: a constant's value is not known to the macro.
use tenancy_core::{TenantId, TenantSql, tenant_sql};

const ORDERS: &str = "SELECT o.id FROM orders o";

pub fn orders(tenant: &TenantId) -> TenantSql {
    tenant_sql!(tenant, ORDERS)
}

fn main() {}
