// A `numeric` column is exact: it is compared with a `Decimal` (or an
// integer), never with a float that would round.
use tenancy_core::{TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Invoice {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub amount: rust_decimal::Decimal,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _invoices = Invoice::select(&tenant).filter(Invoice::AMOUNT.gt(10.5_f64));
}
