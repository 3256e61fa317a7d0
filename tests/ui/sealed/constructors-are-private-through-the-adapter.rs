// The adapter re-exports the core's API by name; the constructors only
// generated code may call stay out of reach through it too.
use tenancy_sqlx::{Column, ColumnRef, TableMeta, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

static FORGED: TableMeta = TableMeta {
    type_name: "Forged",
    schema: None,
    name: "orders",
    tenant: None,
    columns: &[],
    indexes: &[],
};

fn main() {
    let _forged = Column::<Order, i64>::new("TENANT_ID");
    let _reference = ColumnRef::new("orders", "tenant_id");
    let _ = &FORGED;
}
