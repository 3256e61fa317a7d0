//! What the database accepts as names and types, checked at compile time so
//! that DDL and statements never meet a name they would have to escape.

/// PostgreSQL truncates identifiers longer than this (`NAMEDATALEN - 1`).
pub(crate) const MAX_IDENTIFIER_BYTES: usize = 63;

/// Why `name` is not a plain SQL identifier, or `None` if it is one:
/// `[A-Za-z_][A-Za-z0-9_]*`, at most 63 bytes.
pub(crate) fn identifier_problem(name: &str) -> Option<String> {
    let rule = "an SQL identifier is an ASCII letter or `_` followed by letters, digits or `_`, at most 63 bytes";
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let continues_well = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if name.is_empty() {
        Some(format!("the name is empty; {rule}"))
    } else if !starts_well || !continues_well {
        Some(format!("`{name}` is not a valid SQL identifier; {rule}"))
    } else if name.len() > MAX_IDENTIFIER_BYTES {
        Some(format!(
            "`{name}` is {} bytes long; {rule} (PostgreSQL would silently truncate it)",
            name.len()
        ))
    } else {
        None
    }
}

/// Whether `sql_type` looks like an SQL type name: `jsonb`, `numeric(10, 2)`,
/// `text[]`, `double precision`, `app.mood`. The text goes into DDL verbatim,
/// so anything else (quotes, semicolons, comments) is refused.
pub(crate) fn is_type_name(sql_type: &str) -> bool {
    sql_type.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && sql_type
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _(),.[]".contains(c))
}

/// Whether `sql_type` names PostgreSQL's `json` (not `jsonb`), bare, in
/// `pg_catalog`, or as an array of it, in any case and spacing.
pub(crate) fn is_json(sql_type: &str) -> bool {
    let name: String = sql_type
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let name = name.strip_prefix("pg_catalog.").unwrap_or(&name);
    let name = name.trim_end_matches("[]");
    name == "json"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_recognised_however_it_is_written() {
        for json in [
            "json",
            "JSON",
            " json ",
            "pg_catalog.json",
            "json[]",
            "json [ ]",
        ] {
            assert!(is_json(json), "{json}");
        }
        for other in ["jsonb", "jsonpath", "app.json", "json_doc", "text"] {
            assert!(!is_json(other), "{other}");
        }
    }

    #[test]
    fn identifiers() {
        for good in ["orders", "_x", "Order_Items2", &"a".repeat(63)] {
            assert_eq!(identifier_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "2fast",
            "order-items",
            "orders;",
            "\"x\"",
            "größe",
            &"a".repeat(64),
        ] {
            assert!(identifier_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn type_names() {
        for good in [
            "jsonb",
            "numeric(10, 2)",
            "text[]",
            "double precision",
            "app.mood",
        ] {
            assert!(is_type_name(good), "{good}");
        }
        for bad in ["", "1x", "text; DROP TABLE x", "text -- c", "'x'"] {
            assert!(!is_type_name(bad), "{bad}");
        }
    }
}
