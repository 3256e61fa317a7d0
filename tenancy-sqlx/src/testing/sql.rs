//! Identifiers in the administrative statements (`CREATE DATABASE`,
//! `CREATE ROLE`), which take no bind parameters: names are validated and
//! quoted, never formatted in raw.

use super::TestSupportError;

/// PostgreSQL truncates identifiers longer than this (`NAMEDATALEN - 1`).
pub(crate) const MAX_IDENTIFIER_LEN: usize = 63;

/// SQLSTATE of `CREATE DATABASE` for a name that is taken.
pub(crate) const DUPLICATE_DATABASE: &str = "42P04";

/// `name` as a quoted identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Accepts a plain lower-case identifier of at most `max_len` characters.
pub(crate) fn validate_role_name(name: &str, max_len: usize) -> Result<(), TestSupportError> {
    // The library's identifier rule, and lower case, so that the name is
    // the same quoted and unquoted in the test SQL that names the role.
    let is_identifier = tenancy_core::Identifier::new("role", name).is_ok();
    let is_lower = !name.bytes().any(|b| b.is_ascii_uppercase());
    if is_identifier && is_lower && name.len() <= max_len {
        Ok(())
    } else {
        Err(TestSupportError::InvalidRoleName {
            name: name.to_owned(),
            max_len,
        })
    }
}

/// Whether `error` is the database error with SQLSTATE `code`.
pub(crate) fn has_code(error: &sqlx::Error, code: &str) -> bool {
    error
        .as_database_error()
        .and_then(|database_error| database_error.code())
        .is_some_and(|actual| actual == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(quote_ident("plain"), "\"plain\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn role_names_are_plain_identifiers() {
        assert!(validate_role_name("bypass_rls2", 20).is_ok());
        for bad in [
            "",
            "2fast",
            "Upper",
            "semi;colon",
            "quote\"",
            "space d",
            "é",
        ] {
            assert!(validate_role_name(bad, 20).is_err(), "{bad:?} was accepted");
        }
        assert!(validate_role_name("abcdef", 5).is_err());
    }
}
