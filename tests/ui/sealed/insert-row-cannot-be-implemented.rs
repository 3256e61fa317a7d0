// The rows a table inserts are generated from its fields: `InsertRow` is
// sealed, so no hand-written row can name the tenant column.
use tenancy_core::sea_query::Value;
use tenancy_core::{InsertRow, Table, TableMeta, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

pub struct Row;

impl Table for Row {
    fn meta() -> &'static TableMeta {
        Order::meta()
    }
}

impl InsertRow for Row {
    fn insert_values(&self) -> Vec<(&'static str, Value)> {
        vec![("tenant_id", 8_i64.into())]
    }
}

fn main() {}
