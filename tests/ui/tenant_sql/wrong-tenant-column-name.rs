// The conjunct must compare the table's own tenant column, which only its
// metadata knows: `Account`'s is `org_id`, so `a.tenant_id = $tenant`
// confines nothing. The error names the right column.
use tenancy_core::{TenantId, TenantSql, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Account {
    #[tenancy(tenant)]
    pub org_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub name: String,
}

pub fn accounts(tenant: &TenantId) -> TenantSql {
    tenant_sql!(tenant, "SELECT a.name FROM {Account} a WHERE a.tenant_id = $tenant")
}

fn main() {}
