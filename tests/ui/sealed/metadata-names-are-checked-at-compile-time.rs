// The constructors the macros call (in a private module, not public API)
// check every name with the library's identifier rule while the metadata's
// `static` is evaluated: a name the rule refuses is a compile error even
// where the macros' own, friendlier check is bypassed.
use tenancy_core::TableMeta;

static FORGED: TableMeta =
    tenancy_core::__private_v0_1::table("Forged", None, "order-items", None, &[], &[]);

fn main() {
    let _ = &FORGED;
}
