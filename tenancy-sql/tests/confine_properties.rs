//! Properties of `confine` on generated ad hoc queries without a single
//! tenant conjunct: each is confined, every reference to a tenant table in
//! it reads through its own tenant-filtered subquery, and the result
//! passes `check`'s rule.

mod plan;
mod support;

use plan::render_ad_hoc;
use plan::strategies::ad_hoc_query;
use proptest::prelude::*;
use tenancy_sql::AllowList;

const TABLES: &[&str] = &["orders", "customers", "lines"];

fn allow() -> AllowList {
    TABLES
        .iter()
        .try_fold(AllowList::analytics(), |allow, table| {
            allow.tenant_table(table, "tenant_id")
        })
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn every_reference_reads_the_tenants_rows_only(statement in ad_hoc_query()) {
        let rendered = render_ad_hoc(&statement, TABLES);
        let confined = tenancy_sql::confine(&rendered.sql, &allow());
        prop_assert!(confined.is_ok(), "{}\n{}", rendered.sql, confined.unwrap_err());
        let confined = confined.unwrap();
        prop_assert_eq!(
            support::tenant_reads(confined.sql(), |t| TABLES.contains(&t)),
            rendered.references
        );
        prop_assert_eq!(confined.tables().len(), rendered.references);
        prop_assert!(confined.analysis().is_read_only());
        // What runs is confined by `check`'s rule as well.
        let allow = allow();
        let checked = tenancy_sql::check(confined.sql()).unwrap();
        let verified = checked.verify(|table| allow.table_kind(table));
        prop_assert!(verified.is_ok(), "{}", confined.sql());
    }
}
