//! The compile-time half of tenancy's guarantees, as UI tests.
//!
//! Every `ui/<category>/*.rs` case breaks one rule and must fail to compile
//! with the reviewed message in its `.stderr`: those messages are part of the
//! library's interface. Every `ui/pass/*.rs` case must compile and run.
//! After a deliberate change to a message, regenerate the snapshots with
//! `TRYBUILD=overwrite cargo test -p tenancy-tests --test ui` and read the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    // Statements on tenant tables need a `TenantId`, and nothing else is one.
    cases.compile_fail("ui/witness/*.rs");
    // The builder's types: tenant column, joins, comparisons, executors.
    cases.compile_fail("ui/builder/*.rs");
    // What only the library implements or builds: tables, metadata, column
    // types and handles, rows, statements.
    cases.compile_fail("ui/sealed/*.rs");
    // `#[tenant_scoped]` and `#[global_table]` misuse, reported at the tokens.
    cases.compile_fail("ui/macro/*.rs");
    // `tenant_sql!`: SQL that could reach another tenant's rows, or that the
    // macro cannot check, shown with its line and a caret.
    cases.compile_fail("ui/tenant_sql/*.rs");
    cases.pass("ui/pass/*.rs");
}
