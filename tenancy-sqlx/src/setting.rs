//! The name of the setting that carries the tenant (`app.tenant_id`), and the
//! text form of a key in the `SET LOCAL` that opens a tenant transaction.

use core::fmt;

use tenancy_core::KeyValue;

use crate::Error;
use crate::ident::truncate_for_error;

/// The custom PostgreSQL setting that holds the current tenant inside a
/// transaction, read by the RLS policies. Default: `app.tenant_id`.
///
/// It must be `<ident>.<ident>` (a custom setting needs a dot), each part
/// ASCII letters, digits and `_`, not starting with a digit: the name is
/// placed inside SQL string literals, so nothing else is accepted.
///
/// ```
/// use tenancy_sqlx::SettingName;
///
/// assert_eq!(SettingName::default().as_str(), "app.tenant_id");
/// assert!(SettingName::new("myapp.current_tenant").is_ok());
/// assert!(SettingName::new("tenant_id").is_err());
/// assert!(SettingName::new("app.x'; DROP TABLE t; --").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SettingName {
    name: String,
}

impl SettingName {
    /// The default setting, `app.tenant_id`.
    pub const DEFAULT: &'static str = "app.tenant_id";

    /// Validates a setting name of the form `<ident>.<ident>`.
    pub fn new(name: &str) -> Result<Self, Error> {
        let valid = name
            .split_once('.')
            .is_some_and(|(prefix, rest)| is_setting_part(prefix) && is_setting_part(rest));
        if valid {
            Ok(SettingName {
                name: name.to_owned(),
            })
        } else {
            Err(Error::InvalidSetting {
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
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))] // PostgreSQL only
    pub(crate) fn quoted(&self) -> String {
        // `new` made sure of the dot and of parts without quotes.
        let (class, name) = self.name.split_once('.').unwrap_or(("", &self.name));
        format!("\"{class}\".\"{name}\"")
    }
}

impl Default for SettingName {
    fn default() -> Self {
        SettingName {
            name: Self::DEFAULT.to_owned(),
        }
    }
}

impl fmt::Debug for SettingName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.name, f)
    }
}

impl fmt::Display for SettingName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn is_setting_part(part: &str) -> bool {
    let mut bytes = part.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && part.len() <= 63
}

/// The key as the text placed in `SET LOCAL .. = '<key>'`.
///
/// Keys are integers or UUIDs (`TenantKey` is sealed), so their text is
/// digits, hex letters and `-`. That is checked here as well, so that no
/// future key type can put a quote into the statement.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))] // PostgreSQL only
pub(crate) fn key_literal(key: KeyValue) -> Result<String, Error> {
    let text = key.to_string();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        Ok(text)
    } else {
        Err(Error::UnrenderableKey {
            key: truncate_for_error(&text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_needs_two_plain_parts() {
        for good in ["app.tenant_id", "a.b", "_x.y_1"] {
            assert!(SettingName::new(good).is_ok(), "{good:?} refused");
        }
        for bad in [
            "", "app", "app.", ".x", "a.b.c", "a-b.c", "a.b'", "1a.b", "a. b", "a.b;",
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
    }

    #[test]
    fn keys_render_as_plain_text() {
        assert_eq!(key_literal(KeyValue::I64(-42)).unwrap(), "-42");
        assert_eq!(key_literal(KeyValue::I32(7)).unwrap(), "7");
    }

    #[cfg(feature = "uuid")]
    #[test]
    fn uuid_keys_render_hyphenated() {
        let key = sqlx::types::Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8);
        assert_eq!(
            key_literal(KeyValue::Uuid(key)).unwrap(),
            "67e55044-10b1-426f-9247-bb680e5fe0c8"
        );
    }
}
