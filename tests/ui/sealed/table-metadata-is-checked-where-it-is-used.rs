// A table's metadata is a constant, evaluated in the crate that reads it
// (through `Table::meta`), not in every crate that declares the table. The
// name check runs in that evaluation: metadata written by hand, past the
// macros' own check, with a name the identifier rule refuses, fails the
// build of the crate that uses it.
use tenancy_core::__private_v0_1::{AnyKey, None, SealedTable, table};
use tenancy_core::{Table, TableMeta};

pub struct Forged;

impl SealedTable for Forged {
    const META: TableMeta = table("Forged", None, "order-items", None, &[], &[]);
    const SQL_TENANT_COLUMN: Option<&'static str> = None;
    type SqlKey = AnyKey;
}

impl Table for Forged {}

fn main() {
    let _ = Forged::meta();
}
