// Table metadata is made by the macros only: the builder, the DDL and the
// audits trust it to describe the struct's own table.
use tenancy_core::TableMeta;

static FORGED: TableMeta = TableMeta {
    type_name: "Forged",
    schema: None,
    name: "orders",
    tenant: None,
    columns: &[],
    indexes: &[],
};

fn main() {
    let _ = &FORGED;
}
