// A column whose type tenancy does not map (given with `sql_type`) can be
// read and inserted, but not compared.
use tenancy_core::{TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Page {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    #[tenancy(sql_type = "bigint")]
    pub views: u64,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _popular = Page::select(&tenant).filter(Page::VIEWS.gt(1000_u64));
}
