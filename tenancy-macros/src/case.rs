//! Names derived from Rust identifiers: default table names and the names of
//! the generated column constants.

/// `OrderItem` → `order_item`, `HTTPLog` → `http_log`.
///
/// Only ASCII letters change case, so the result of an identifier is still
/// an identifier.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut snake = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let after_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let ends_acronym = i > 0
                && chars[i - 1].is_ascii_uppercase()
                && chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if after_lower || ends_acronym {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

/// English plural by the regular rules only: `order` → `orders`,
/// `company` → `companies`, `address` → `addresses`. Irregular nouns are what
/// `table = ".."` is for.
pub(crate) fn plural(word: &str) -> String {
    let sibilant = ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|end| word.ends_with(end));
    let consonant_y = word.ends_with('y')
        && word
            .chars()
            .rev()
            .nth(1)
            .is_some_and(|c| !"aeiou".contains(c.to_ascii_lowercase()));
    if sibilant {
        format!("{word}es")
    } else if consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else {
        format!("{word}s")
    }
}

/// The default table name of a struct: snake case, plural.
pub(crate) fn table_name(struct_name: &str) -> String {
    plural(&snake_case(struct_name))
}

/// `created_at` → `CREATED_AT`, the name of a column's associated constant.
pub(crate) fn screaming_snake_case(field: &str) -> String {
    snake_case(field).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table_names() {
        for (name, table) in [
            ("Order", "orders"),
            ("OrderItem", "order_items"),
            ("Company", "companies"),
            ("Address", "addresses"),
            ("Box", "boxes"),
            ("Batch", "batches"),
            ("Key", "keys"),
            ("HTTPLog", "http_logs"),
            ("Plan2Feature", "plan2_features"),
        ] {
            assert_eq!(table_name(name), table, "{name}");
        }
    }

    #[test]
    fn constant_names() {
        assert_eq!(screaming_snake_case("created_at"), "CREATED_AT");
        assert_eq!(screaming_snake_case("id"), "ID");
        assert_eq!(screaming_snake_case("tenant_id"), "TENANT_ID");
    }
}
