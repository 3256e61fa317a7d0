// A built statement's parts are read through accessors (`sql()`, `values()`,
// `scope()`, `tables()`, `into_parts()`): nothing can replace its SQL after
// the builder wrote it.
use tenancy_core::{BuildStatement, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    if let Ok(statement) = Order::select(&tenant).to_postgres() {
        let _sql: String = statement.sql;
    }
}
