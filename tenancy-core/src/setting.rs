//! The name of the database setting that carries the tenant inside a
//! transaction (`app.tenant_id`), read by the row-level security policies.

use core::fmt;
use std::borrow::Cow;

use crate::ident::{is_identifier, truncate_for_error};

/// The custom PostgreSQL setting that holds the current tenant inside a
/// transaction, read by the RLS policies. Default: `app.tenant_id`.
///
/// It must be `<prefix>.<name>` (a custom setting needs a dot), each part an
/// identifier (1 to 63 bytes: an ASCII letter or `_`, then ASCII letters,
/// digits or `_`): the name is placed inside SQL string literals and
/// dollar-quoted policy bodies, so nothing else is accepted.
///
/// ```
/// use tenancy_core::SettingName;
///
/// assert_eq!(SettingName::default().as_str(), "app.tenant_id");
/// assert!(SettingName::new("myapp.current_tenant").is_ok());
/// assert!(SettingName::new("tenant_id").is_err());
/// assert!(SettingName::new("app.x'; DROP TABLE t; --").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SettingName {
    name: Cow<'static, str>,
}

/// A setting name that is not `<prefix>.<name>` of two identifiers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid setting name {name:?}: expected `<prefix>.<name>`, each part an ASCII letter or `_` followed by ASCII letters, digits or `_` (at most 63 bytes), such as `app.tenant_id`"
)]
#[non_exhaustive]
pub struct SettingNameError {
    /// The offending name, truncated.
    pub name: String,
}

impl SettingName {
    /// The default setting, `app.tenant_id`.
    pub const DEFAULT: &'static str = "app.tenant_id";

    /// Validates a setting name of the form `<prefix>.<name>`.
    pub fn new(name: &str) -> Result<Self, SettingNameError> {
        let valid = name
            .split_once('.')
            .is_some_and(|(prefix, rest)| is_identifier(prefix) && is_identifier(rest));
        if valid {
            Ok(SettingName {
                name: Cow::Owned(name.to_owned()),
            })
        } else {
            Err(SettingNameError {
                name: truncate_for_error(name),
            })
        }
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The name as SQL writes it in `SET` and `RESET`, each part quoted: a
    /// valid part may still be a keyword (`app.user`), which unquoted would
    /// be a syntax error.
    #[must_use]
    pub fn quoted(&self) -> String {
        // `new` made sure of the dot and of parts without quotes.
        let (prefix, name) = self.name.split_once('.').unwrap_or(("", &self.name));
        format!("\"{prefix}\".\"{name}\"")
    }
}

impl Default for SettingName {
    fn default() -> Self {
        SettingName {
            name: Cow::Borrowed(Self::DEFAULT),
        }
    }
}

impl fmt::Debug for SettingName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.name, f)
    }
}

impl fmt::Display for SettingName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_needs_two_identifiers() {
        for good in ["app.tenant_id", "a.b", "_x.y_1", SettingName::DEFAULT] {
            assert!(SettingName::new(good).is_ok(), "{good:?} refused");
        }
        let long = format!("app.{}", "x".repeat(64));
        for bad in [
            "", "app", "app.", ".x", "a.b.c", "a-b.c", "a.b'", "1a.b", "a. b", "a.b;", "a.$b",
            &long,
        ] {
            assert!(SettingName::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn both_parts_are_quoted_for_set_and_reset() {
        assert_eq!(
            SettingName::new("select.user").unwrap().quoted(),
            r#""select"."user""#
        );
        assert_eq!(SettingName::default().quoted(), r#""app"."tenant_id""#);
    }
}
