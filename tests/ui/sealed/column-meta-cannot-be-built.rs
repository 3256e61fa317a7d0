// Column metadata is made by the macros only, through a private module whose
// name changes between releases; there is no public constructor.
use tenancy_core::{ColumnMeta, SqlType};

fn main() {
    let _column = ColumnMeta::new("tenant_id", "tenant_id", SqlType::BigInt, false);
}
