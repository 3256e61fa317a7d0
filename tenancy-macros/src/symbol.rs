//! The keywords of our attributes, kept in one place so that parsers and
//! error messages cannot drift apart.

use core::fmt;

use syn::Path;

/// One keyword of `#[tenancy(..)]` or of the macros' own arguments.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Symbol(pub(crate) &'static str);

/// The field attribute: `#[tenancy(..)]`.
pub(crate) const TENANCY: Symbol = Symbol("tenancy");

/// Table option: the table's name.
pub(crate) const TABLE: Symbol = Symbol("table");
/// Table option: the table's schema.
pub(crate) const SCHEMA: Symbol = Symbol("schema");
/// Table option `index(a, b)`, and field flag `index`.
pub(crate) const INDEX: Symbol = Symbol("index");
/// Table option: the path of the runtime crate.
pub(crate) const CRATE: Symbol = Symbol("crate");

/// Field flag: the tenant column.
pub(crate) const TENANT: Symbol = Symbol("tenant");
/// Field flag: part of the primary key.
pub(crate) const PRIMARY_KEY: Symbol = Symbol("primary_key");
/// Field flag: the database generates the value.
pub(crate) const GENERATED: Symbol = Symbol("generated");
/// Field option: the column's name in the database.
pub(crate) const RENAME: Symbol = Symbol("rename");
/// Field flag: unique within a tenant.
pub(crate) const UNIQUE: Symbol = Symbol("unique");
/// Field option: the referenced table.
pub(crate) const REFERENCES: Symbol = Symbol("references");
/// Field option: the column's SQL type, verbatim.
pub(crate) const SQL_TYPE: Symbol = Symbol("sql_type");
/// Field flag: not a column.
pub(crate) const SKIP: Symbol = Symbol("skip");
/// Field option: personal data, anonymised by erasure in retained tables.
pub(crate) const PII: Symbol = Symbol("pii");

/// Keys of `#[tenant_scoped(..)]` and `#[global_table(..)]`.
pub(crate) const TABLE_KEYS: &[Symbol] = &[TABLE, SCHEMA, INDEX, CRATE];

/// Keys of `#[tenancy(..)]` on a field.
pub(crate) const FIELD_KEYS: &[Symbol] = &[
    TENANT,
    PRIMARY_KEY,
    GENERATED,
    RENAME,
    INDEX,
    UNIQUE,
    REFERENCES,
    SQL_TYPE,
    PII,
    SKIP,
];

impl Symbol {
    /// How the key is written, for the lists of accepted keys in messages.
    pub(crate) fn usage(self) -> &'static str {
        match self.0 {
            "table" => "table = \"..\"",
            "schema" => "schema = \"..\"",
            "crate" => "crate = \"..\"",
            "rename" => "rename = \"..\"",
            "references" => "references = Table",
            "sql_type" => "sql_type = \"..\"",
            other => other,
        }
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for syn::Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

/// `a`, `b`, `c` — the usage of each key, for "accepted keys: .." lists.
pub(crate) fn list(keys: &[Symbol]) -> String {
    keys.iter()
        .map(|key| format!("`{}`", key.usage()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The accepted key closest to a misspelt one, if it is close enough to be
/// the likely intent (at most two edits away).
pub(crate) fn closest(word: &str, keys: &[Symbol]) -> Option<Symbol> {
    keys.iter()
        .map(|key| (edit_distance(word, key.0), *key))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, key)| key)
}

/// Levenshtein distance; the words are attribute keys, so quadratic is fine.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_near_misses() {
        assert_eq!(closest("primay_key", FIELD_KEYS), Some(PRIMARY_KEY));
        assert_eq!(closest("uniq", FIELD_KEYS), Some(UNIQUE));
        assert_eq!(closest("foreign_key", FIELD_KEYS), None);
        assert_eq!(closest("tabel", TABLE_KEYS), Some(TABLE));
        assert_eq!(closest("nullable", FIELD_KEYS), None);
    }
}
