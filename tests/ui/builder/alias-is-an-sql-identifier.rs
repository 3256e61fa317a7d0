// `ident!` checks its literal when the program is compiled: an alias can
// carry no SQL.
use tenancy_core::ident;

fn main() {
    let _alias = ident!("total\" FROM orders --");
}
