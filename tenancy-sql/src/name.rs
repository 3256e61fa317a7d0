//! Identifiers as the database compares them.

use sqlparser::ast::Ident;

/// An SQL identifier as PostgreSQL resolves it: an unquoted name folds to
/// lower case (ASCII letters only, as PostgreSQL does in UTF-8), a quoted
/// one is taken exactly. Two names are the same name exactly when their
/// folded forms are equal. SQLite compares identifiers ignoring ASCII case
/// even when quoted, so equal folded names are also equal there: a match
/// this crate accepts is a match on both backends.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Name(String);

impl Name {
    pub(crate) fn of(ident: &Ident) -> Self {
        if ident.quote_style.is_some() {
            Self(ident.value.clone())
        } else {
            Self(ident.value.to_ascii_lowercase())
        }
    }

    /// The folded form, which is the name as the catalog stores it.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

/// Whether `text` is a plain identifier, `[A-Za-z_][A-Za-z0-9_]*`: a name
/// that needs no quoting to be written and no escaping to be quoted.
pub(crate) fn is_plain_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoted_names_fold_and_quoted_ones_do_not() {
        let unquoted = Name::of(&Ident::new("Tenant_ID"));
        let quoted = Name::of(&Ident::with_quote('"', "Tenant_ID"));
        assert_eq!(unquoted.as_str(), "tenant_id");
        assert_eq!(quoted.as_str(), "Tenant_ID");
        assert_ne!(unquoted, quoted);
        assert_eq!(unquoted, Name::of(&Ident::with_quote('"', "tenant_id")));
        // Only ASCII folds, as in PostgreSQL with UTF-8.
        assert_eq!(Name::of(&Ident::new("ÄB")).as_str(), "Äb");
    }
}
