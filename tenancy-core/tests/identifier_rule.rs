//! One identifier rule: the macros refuse a name at compile time exactly
//! when `Identifier::new` refuses it at run time (and when the private
//! metadata constructors, which call the same `const fn`, would fail the
//! build). The macro crate cannot depend on this one, so its check is
//! compiled here from its own source and compared with the library's on
//! every short name and on random ones.

#[allow(dead_code)] // the macro crate's module, compiled for its rule alone
#[path = "../../tenancy-macros/src/sql.rs"]
mod macro_rule;

use proptest::prelude::*;
use tenancy_core::Identifier;

fn agree(name: &str) -> Result<(), String> {
    let at_compile_time = macro_rule::identifier_problem(name).is_none();
    let at_run_time = Identifier::new("table", name).is_ok();
    if at_compile_time == at_run_time {
        Ok(())
    } else {
        Err(format!(
            "{name:?}: the macros say {at_compile_time}, the library says {at_run_time}"
        ))
    }
}

#[test]
fn the_rules_agree_on_every_name_of_one_or_two_bytes() {
    let bytes: Vec<char> = (0u8..=127)
        .map(char::from)
        .chain(['é', 'ß', '\u{200b}'])
        .collect();
    assert_eq!(agree(""), Ok(()));
    for &first in &bytes {
        assert_eq!(agree(&first.to_string()), Ok(()));
        for &second in &bytes {
            assert_eq!(agree(&format!("{first}{second}")), Ok(()));
        }
    }
}

#[test]
fn the_rules_agree_at_the_length_limit() {
    for length in 60..=66 {
        let name = "a".repeat(length);
        assert_eq!(agree(&name), Ok(()));
        assert_eq!(Identifier::new("table", &name).is_ok(), length <= 63);
        for bad in ['$', '-', ' ', '"', '.'] {
            for at in [1, length / 2, length - 1] {
                let mut spoiled: Vec<char> = name.chars().collect();
                spoiled[at] = bad;
                let spoiled: String = spoiled.into_iter().collect();
                assert_eq!(agree(&spoiled), Ok(()));
                assert!(Identifier::new("table", &spoiled).is_err(), "{spoiled:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_rules_agree_on_random_names(name in "[A-Za-z0-9_$ .\"-]{0,70}|\\PC{0,8}") {
        prop_assert_eq!(agree(&name), Ok(()));
    }
}
