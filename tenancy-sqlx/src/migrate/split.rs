//! Statements of a `-- no-transaction` migration, one by one.
//!
//! PostgreSQL runs the statements of one simple query as one implicit
//! transaction, and refuses `CREATE INDEX CONCURRENTLY` in any transaction:
//! sent whole, a migration with two such statements fails. The runner sends
//! each statement on its own, and recognises the index each concurrent build
//! creates, so that a rerun after an interruption can tell a finished build
//! from a failed one.

/// Splits SQL text at the semicolons that end statements: not those inside
/// quotes (`'..'`, `E'..'`, `".."`), dollar quotes (`$tag$..$tag$`), or
/// comments (`-- ..`, nested `/* .. */`). Empty statements (only
/// whitespace and comments) are dropped.
pub(crate) fn statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut at = 0;
    let mut meaningful = false;
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            b'-' if bytes.get(at + 1) == Some(&b'-') => {
                at = bytes[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |end| at + end + 1);
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = block_comment_end(bytes, at);
                continue;
            }
            b'\'' => {
                // E'..' strings take backslash escapes.
                let escapes = at > 0
                    && matches!(bytes[at - 1], b'E' | b'e')
                    && !ident_byte(bytes.get(at.wrapping_sub(2)).copied());
                at = quoted_end(bytes, at, b'\'', escapes);
                meaningful = true;
                continue;
            }
            b'"' => {
                at = quoted_end(bytes, at, b'"', false);
                meaningful = true;
                continue;
            }
            b'$' => {
                if let Some(end) = dollar_quote_end(sql, at) {
                    at = end;
                    meaningful = true;
                    continue;
                }
            }
            b';' => {
                if meaningful {
                    statements.push(sql[start..at].trim());
                }
                start = at + 1;
                meaningful = false;
                at += 1;
                continue;
            }
            _ => {}
        }
        if !byte.is_ascii_whitespace() {
            meaningful = true;
        }
        at += 1;
    }
    if meaningful {
        statements.push(sql[start..].trim());
    }
    statements
}

fn ident_byte(byte: Option<u8>) -> bool {
    byte.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The index just past a `/* .. */` comment, which may nest.
fn block_comment_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0_usize;
    let mut at = start;
    while at + 1 < bytes.len() {
        match (bytes[at], bytes[at + 1]) {
            (b'/', b'*') => {
                depth += 1;
                at += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                at += 2;
                if depth == 0 {
                    return at;
                }
            }
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The index just past a quoted string or identifier starting at `start`;
/// a doubled quote stands for one.
fn quoted_end(bytes: &[u8], start: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        if backslash_escapes && bytes[at] == b'\\' {
            at += 2;
            continue;
        }
        if bytes[at] == quote {
            if bytes.get(at + 1) == Some(&quote) {
                at += 2;
                continue;
            }
            return at + 1;
        }
        at += 1;
    }
    bytes.len()
}

/// If a dollar quote opens at `start` (`$$` or `$tag$`), the index just past
/// its closing tag.
fn dollar_quote_end(sql: &str, start: usize) -> Option<usize> {
    let rest = &sql[start + 1..];
    let tag_len = rest.find('$')?;
    let tag = &rest[..tag_len];
    let valid_tag = tag
        .bytes()
        .enumerate()
        .all(|(i, b)| b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()));
    if !valid_tag {
        return None;
    }
    let delimiter = &sql[start..start + tag_len + 2];
    let body_start = start + tag_len + 2;
    let close = sql[body_start..].find(delimiter)?;
    Some(body_start + close + delimiter.len())
}

/// The index a `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] <name>`
/// statement creates, as `(schema, name)`; `None` for any other statement,
/// or one without a name.
pub(crate) fn concurrent_index(statement: &str) -> Option<(Option<String>, String)> {
    let mut words = Words::new(statement);
    if !words.keyword("CREATE") {
        return None;
    }
    words.keyword("UNIQUE");
    if !(words.keyword("INDEX") && words.keyword("CONCURRENTLY")) {
        return None;
    }
    if words.keyword("IF") && !(words.keyword("NOT") && words.keyword("EXISTS")) {
        return None;
    }
    if words.peek_keyword("ON") {
        return None;
    }
    let first = words.name()?;
    if words.dot() {
        let second = words.name()?;
        Some((Some(first), second))
    } else {
        Some((None, first))
    }
}

/// Keywords and names from the front of a statement, comments skipped.
struct Words<'a> {
    rest: &'a str,
}

impl<'a> Words<'a> {
    fn new(text: &'a str) -> Self {
        Words { rest: text }
    }

    fn skip(&mut self) {
        loop {
            self.rest = self.rest.trim_start();
            if let Some(rest) = self.rest.strip_prefix("--") {
                self.rest = rest.find('\n').map_or("", |end| &rest[end..]);
            } else if self.rest.starts_with("/*") {
                let end = block_comment_end(self.rest.as_bytes(), 0);
                self.rest = &self.rest[end..];
            } else {
                return;
            }
        }
    }

    fn word(&self) -> &'a str {
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(self.rest.len());
        &self.rest[..end]
    }

    fn peek_keyword(&mut self, keyword: &str) -> bool {
        self.skip();
        self.word().eq_ignore_ascii_case(keyword)
    }

    fn keyword(&mut self, keyword: &str) -> bool {
        if self.peek_keyword(keyword) {
            self.rest = &self.rest[keyword.len()..];
            true
        } else {
            false
        }
    }

    /// An unquoted name (folded to lower case, as PostgreSQL does) or a
    /// quoted one (kept exactly).
    fn name(&mut self) -> Option<String> {
        self.skip();
        if self.rest.starts_with('"') {
            let end = quoted_end(self.rest.as_bytes(), 0, b'"', false);
            let quoted = self.rest.get(1..end.checked_sub(1)?)?;
            self.rest = &self.rest[end..];
            return Some(quoted.replace("\"\"", "\""));
        }
        let word = self.word();
        if word.is_empty() {
            return None;
        }
        self.rest = &self.rest[word.len()..];
        Some(word.to_ascii_lowercase())
    }

    fn dot(&mut self) -> bool {
        self.skip();
        match self.rest.strip_prefix('.') {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_statement_ends_only() {
        let sql = "-- no-transaction\n\
                   CREATE INDEX CONCURRENTLY a ON t (x);\n\
                   /* a ; in /* a nested */ comment */ SELECT 'it''s; fine', E'a\\';b', \"we;ird\";\n\
                   DO $body$ BEGIN PERFORM 1; END $body$;\n\
                   SELECT $$;$$;  -- trailing ; comment\n\
                   ;;";
        assert_eq!(
            statements(sql),
            [
                "-- no-transaction\nCREATE INDEX CONCURRENTLY a ON t (x)",
                "/* a ; in /* a nested */ comment */ SELECT 'it''s; fine', E'a\\';b', \"we;ird\"",
                "DO $body$ BEGIN PERFORM 1; END $body$",
                "SELECT $$;$$",
            ]
        );
        assert_eq!(statements("SELECT 1"), ["SELECT 1"]);
        assert!(statements("-- only a comment\n  ").is_empty());
        // A positional parameter is not a dollar quote.
        assert_eq!(statements("SELECT $1; SELECT 2"), ["SELECT $1", "SELECT 2"]);
    }

    #[test]
    fn finds_the_index_of_a_concurrent_build() {
        assert_eq!(
            concurrent_index(
                "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS Orders_Status ON orders (status)"
            ),
            Some((None, "orders_status".to_owned()))
        );
        assert_eq!(
            concurrent_index("create unique index concurrently \"Weird\"\"Name\" on t (x)"),
            Some((None, "Weird\"Name".to_owned()))
        );
        assert_eq!(
            concurrent_index("CREATE INDEX CONCURRENTLY tenant_1.idx ON tenant_1.t (x)"),
            Some((Some("tenant_1".to_owned()), "idx".to_owned()))
        );
        assert_eq!(concurrent_index("CREATE INDEX CONCURRENTLY ON t (x)"), None);
        assert_eq!(concurrent_index("CREATE INDEX idx ON t (x)"), None);
        assert_eq!(concurrent_index("VACUUM t"), None);
    }
}
