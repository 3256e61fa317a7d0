//! SQL identifiers that come from outside the program (role, schema and table
//! names): validated when they are made, quoted when they are rendered, never
//! formatted into SQL as they are.

use core::fmt;

use crate::Error;

/// PostgreSQL truncates identifiers longer than this many bytes, which would
/// silently name another object.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// A validated SQL identifier: a role, schema or table name.
///
/// Accepted: 1 to 63 ASCII letters, digits, `_`, `$` or `-`, not starting with
/// a digit, `$` or `-`. It is always rendered double-quoted, so its case is
/// kept exactly as given, the way sea-query and the DDL generator render table
/// names.
///
/// ```
/// use tenancy_sqlx::Identifier;
///
/// let role = Identifier::new("role", "tenancy_app")?;
/// assert_eq!(role.quoted(), "\"tenancy_app\"");
/// assert!(Identifier::new("role", "app\"; DROP TABLE orders; --").is_err());
/// # Ok::<(), tenancy_sqlx::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Identifier {
    name: String,
}

impl Identifier {
    /// Validates `name` as an identifier; `kind` ("role", "schema", "table")
    /// names it in the error.
    pub fn new(kind: &'static str, name: &str) -> Result<Self, Error> {
        if is_valid_identifier(name) {
            Ok(Identifier {
                name: name.to_owned(),
            })
        } else {
            Err(Error::InvalidIdentifier {
                kind,
                name: truncate_for_error(name),
            })
        }
    }

    /// The name as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The name in double quotes, ready to be placed in SQL.
    #[must_use]
    pub fn quoted(&self) -> String {
        // Validation excludes `"`, so no escaping is needed.
        format!("\"{}\"", self.name)
    }
}

impl fmt::Debug for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.name, f)
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn is_valid_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    name.len() <= MAX_IDENTIFIER_BYTES
        && (first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'-'))
}

/// A table's name, schema-qualified when it has a schema, quoted.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))] // PostgreSQL only
pub(crate) fn quoted_table(schema: Option<&str>, table: &str) -> Result<String, Error> {
    let table = Identifier::new("table", table)?;
    Ok(match schema {
        Some(schema) => format!(
            "{}.{}",
            Identifier::new("schema", schema)?.quoted(),
            table.quoted()
        ),
        None => table.quoted(),
    })
}

/// Keeps error messages bounded when the input is hostile.
pub(crate) fn truncate_for_error(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in ["orders", "Orders", "_x", "app-role", "a$1", &"a".repeat(63)] {
            assert!(Identifier::new("table", name).is_ok(), "{name:?} refused");
        }
    }

    #[test]
    fn refuses_anything_that_could_escape_quoting() {
        for name in [
            "",
            "1abc",
            "-x",
            "a\"b",
            "a b",
            "a;b",
            "a.b",
            "ä",
            "a\0",
            &"a".repeat(64),
        ] {
            assert!(Identifier::new("table", name).is_err(), "{name:?} accepted");
        }
    }

    #[test]
    fn quotes_schema_and_table() {
        assert_eq!(
            quoted_table(Some("crm"), "Orders").unwrap(),
            "\"crm\".\"Orders\""
        );
        assert_eq!(quoted_table(None, "orders").unwrap(), "\"orders\"");
        assert!(quoted_table(Some("c rm"), "orders").is_err());
    }
}
