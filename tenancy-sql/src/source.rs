//! Byte offsets for the line-and-column locations sqlparser reports.
//!
//! sqlparser counts lines from 1 at each `\n` and columns from 1 in
//! characters. Every location it attaches to a token or syntax node is a
//! token boundary, so the offsets of all boundaries, computed once in one
//! pass over the text, answer every lookup.

use std::collections::HashMap;
use std::ops::Range;

use sqlparser::tokenizer::{Location, Span, TokenWithSpan};

/// The SQL text, and where each token boundary falls in it.
#[derive(Debug)]
pub(crate) struct Source {
    len: usize,
    boundaries: HashMap<(u64, u64), usize>,
}

impl Source {
    /// Maps the boundaries of `tokens` (contiguous, in order, as the
    /// tokenizer returns them) to byte offsets in `text`.
    pub(crate) fn new(text: &str, tokens: &[TokenWithSpan]) -> Self {
        let mut cursor = Cursor::new(text);
        let mut boundaries = HashMap::with_capacity(tokens.len() * 2 + 1);
        for token in tokens {
            for location in [token.span.start, token.span.end] {
                let offset = cursor.advance_to(location);
                boundaries.insert((location.line, location.column), offset);
            }
        }
        let end = cursor.advance_to(Location::new(u64::MAX, u64::MAX));
        boundaries.insert((cursor.line, cursor.column), end);
        Self {
            len: text.len(),
            boundaries,
        }
    }

    /// The byte offset of `location`, or the end of the text for a location
    /// that is not a token boundary (sqlparser leaves some spans empty).
    pub(crate) fn offset(&self, location: Location) -> usize {
        self.boundaries
            .get(&(location.line, location.column))
            .copied()
            .unwrap_or(self.len)
    }

    /// The byte range of `span`; an empty span maps to an empty range at the
    /// end of the text.
    pub(crate) fn range(&self, span: Span) -> Range<usize> {
        if span == Span::empty() {
            return self.len..self.len;
        }
        let start = self.offset(span.start);
        let end = self.offset(span.end).max(start);
        start..end
    }

    /// The length of the text in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Walks the text as the tokenizer does, character by character.
struct Cursor<'a> {
    rest: std::str::CharIndices<'a>,
    offset: usize,
    line: u64,
    column: u64,
    text_len: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text.char_indices(),
            offset: 0,
            line: 1,
            column: 1,
            text_len: text.len(),
        }
    }

    /// Moves forward to `target` (never back) and returns its byte offset.
    fn advance_to(&mut self, target: Location) -> usize {
        while (self.line, self.column) < (target.line, target.column) {
            let Some((index, ch)) = self.rest.next() else {
                self.offset = self.text_len;
                return self.offset;
            };
            self.offset = index + ch.len_utf8();
            if ch == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::Tokenizer;

    use super::*;

    #[test]
    fn every_token_maps_to_its_bytes() {
        let text = "SELECT 'größe',\r\n  \"ü\" -- note\n/* x */ FROM t";
        let tokens = Tokenizer::new(&PostgreSqlDialect {}, text)
            .tokenize_with_location()
            .unwrap();
        let source = Source::new(text, &tokens);
        let pieces: String = tokens
            .iter()
            .map(|token| &text[source.range(token.span)])
            .collect();
        assert_eq!(pieces, text);
        let quoted = tokens
            .iter()
            .find(|token| token.to_string() == "'größe'")
            .unwrap();
        assert_eq!(&text[source.range(quoted.span)], "'größe'");
    }
}
