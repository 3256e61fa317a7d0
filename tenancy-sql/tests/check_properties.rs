//! Properties of `check` on generated statements: every table reference of
//! a statement whose references all carry their tenant conjunct is found
//! and confined; spoiling any one conjunct (removing it, putting it under
//! `OR` or `NOT`, comparing with another parameter, a cast, another alias
//! or another column, or moving it into a subquery) refuses exactly the
//! reference it confined, and nothing else.

mod plan;
mod support;

use plan::{Expected, SPOILS, render, strategies::statement};
use proptest::prelude::*;
use tenancy_sql::Problem;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_reference_is_found_and_confined(statement in statement()) {
        let rendered = render(&statement, None);
        let checked = tenancy_sql::check(&rendered.sql);
        prop_assert!(checked.is_ok(), "{}\n{}", rendered.sql, checked.unwrap_err());
        let checked = checked.unwrap();
        prop_assert_eq!(checked.tables().len(), rendered.references, "{}", rendered.sql);
        let verified = checked.verify(support::catalog);
        prop_assert!(verified.is_ok(), "{}\n{}", rendered.sql, verified.unwrap_err());
        for table in checked.tables() {
            // Confined by `tenant_id`, and by nothing else.
            prop_assert!(table.holds(Some("tenant_id")));
            prop_assert!(!table.holds(Some("org_id")), "{} in {}", table.type_name(), rendered.sql);
        }
    }

}

proptest! {
    // Each case checks every conjunct of its statement spoiled every way:
    // some fifty statements a case.
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn spoiling_one_conjunct_refuses_exactly_its_reference(statement in statement()) {
        let clean = render(&statement, None);
        for (site, expected) in clean.sites.iter().enumerate() {
            for &spoil in SPOILS {
                let spoiled = render(&statement, Some((site, spoil)));
                let problems = support::refused_or_empty(&spoiled.sql);
                let problem = match expected.expected {
                    Expected::Unconfined => Problem::Unconfined,
                    Expected::NotInserted => Problem::TenantColumnNotInserted,
                };
                prop_assert_eq!(
                    problems,
                    vec![(problem, expected.slot.clone())],
                    "{:?} at site {} in\n{}",
                    spoil,
                    site,
                    spoiled.sql
                );
            }
        }
    }
}
