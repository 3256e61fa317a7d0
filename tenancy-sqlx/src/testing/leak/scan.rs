//! Searching what an operation returned for seeded values.

use serde_json::Value;

use super::marker::{Marker, MarkerValue};

/// Where in a value a marker was found, as a JSON path: `$` is the whole
/// value (a text body), `$[2].body` a field of the third row, and
/// `$.notes (key)` an object key.
pub(crate) fn find<'m>(value: &Value, markers: &'m [Marker]) -> Vec<(&'m Marker, String)> {
    let mut found = Vec::new();
    walk(value, &mut String::from("$"), markers, &mut found);
    found
}

fn walk<'m>(
    value: &Value,
    path: &mut String,
    markers: &'m [Marker],
    found: &mut Vec<(&'m Marker, String)>,
) {
    match value {
        Value::String(text) => {
            for marker in markers.iter().filter(|marker| in_text(text, &marker.value)) {
                found.push((marker, path.clone()));
            }
        }
        Value::Number(number) => {
            let number = number.as_i64();
            for marker in markers {
                if matches!(marker.value, MarkerValue::Integer(id) if Some(id) == number) {
                    found.push((marker, path.clone()));
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{index}]"));
                walk(item, path, markers, found);
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let len = path.len();
                push_key(path, key);
                for marker in markers.iter().filter(|marker| in_text(key, &marker.value)) {
                    found.push((marker, format!("{path} (key)")));
                }
                walk(item, path, markers, found);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// `.key` for plain keys, `["key"]` for any other.
fn push_key(path: &mut String, key: &str) {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str(&format!("[{key:?}]"));
    }
}

fn in_text(text: &str, value: &MarkerValue) -> bool {
    match value {
        MarkerValue::Text(marker) => !marker.is_empty() && text.contains(marker.as_str()),
        MarkerValue::Integer(number) => contains_whole_number(text, *number),
    }
}

/// Whether `number` appears in `text` with no digit (or, for a positive
/// number, no minus sign) right before it and no digit right after it.
fn contains_whole_number(text: &str, number: i64) -> bool {
    let needle = number.to_string();
    let bytes = text.as_bytes();
    text.match_indices(&needle).any(|(start, _)| {
        let end = start + needle.len();
        let before = start.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(end).copied();
        let joined_before =
            before.is_some_and(|b| b.is_ascii_digit() || (number >= 0 && b == b'-'));
        let joined_after = after.is_some_and(|b| b.is_ascii_digit());
        !joined_before && !joined_after
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn marker(label: &str, value: impl Into<MarkerValue>) -> Marker {
        Marker {
            label: label.to_owned(),
            value: value.into(),
        }
    }

    fn paths(value: &Value, markers: &[Marker]) -> Vec<String> {
        let mut found: Vec<_> = find(value, markers)
            .into_iter()
            .map(|(marker, path)| format!("{} at {path}", marker.label))
            .collect();
        // Object key order depends on serde_json's features.
        found.sort();
        found
    }

    #[test]
    fn finds_text_in_fields_keys_and_bodies() {
        let markers = [marker("body", "body-00ff")];
        let rows = json!([{"body": "mine"}, {"body": "x body-00ff y", "body-00ff": 1, "a b": ["body-00ff"]}]);
        assert_eq!(
            paths(&rows, &markers),
            [
                "body at $[1].body",
                "body at $[1][\"a b\"][0]",
                "body at $[1][\"body-00ff\"] (key)"
            ]
        );
        assert_eq!(paths(&json!("<li>body-00ff</li>"), &markers), ["body at $"]);
        assert!(paths(&json!({"body": "body-00f"}), &markers).is_empty());
    }

    #[test]
    fn finds_ids_as_numbers_and_whole_numbers_in_text() {
        let markers = [marker("id", 1_000_000_000_000_042_i64)];
        let seen = json!({
            "id": 1_000_000_000_000_042_i64,
            "href": "/notes/1000000000000042",
            "longer": "10000000000000421",
            "negative": "-1000000000000042",
            "float": 1.5,
        });
        assert_eq!(paths(&seen, &markers), ["id at $.href", "id at $.id"]);
    }
}
