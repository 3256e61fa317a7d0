//! Byte offsets for the line-and-column locations sqlparser reports.
//!
//! sqlparser counts lines from 1 at each `\n` and columns from 1 in
//! characters. Every location it attaches to a token or syntax node is a
//! token boundary, so the offsets of all boundaries, computed once in one
//! pass over the text, answer every lookup.

use std::ops::Range;

use sqlparser::tokenizer::{Location, Span, TokenWithSpan};

/// The SQL text, and where each token boundary falls in it.
#[derive(Debug)]
pub(crate) struct Source {
    len: usize,
    /// Every token boundary, in order: `(line, column)` and byte offset.
    boundaries: Vec<((u64, u64), usize)>,
}

impl Source {
    /// Maps the boundaries of `tokens` (contiguous, in order, as the
    /// tokenizer returns them) to byte offsets in `text`; also returns each
    /// token's byte range.
    pub(crate) fn new(text: &str, tokens: &[TokenWithSpan]) -> (Self, Vec<Range<usize>>) {
        let mut cursor = Cursor::new(text);
        let mut boundaries = Vec::with_capacity(tokens.len() + 2);
        let mut ranges = Vec::with_capacity(tokens.len());
        for token in tokens {
            let mut range = [0; 2];
            for (bound, location) in range.iter_mut().zip([token.span.start, token.span.end]) {
                let key = (location.line, location.column);
                *bound = cursor.advance_to(location);
                if boundaries.last().is_none_or(|(last, _)| *last < key) {
                    boundaries.push((key, *bound));
                }
            }
            ranges.push(range[0]..range[1].max(range[0]));
        }
        let end = cursor.advance_to(Location::new(u64::MAX, u64::MAX));
        let key = (cursor.line, cursor.column);
        if boundaries.last().is_none_or(|(last, _)| *last < key) {
            boundaries.push((key, end));
        }
        let source = Self {
            len: text.len(),
            boundaries,
        };
        (source, ranges)
    }

    fn find(&self, location: Location) -> Result<usize, usize> {
        self.boundaries
            .binary_search_by_key(&(location.line, location.column), |(key, _)| *key)
    }

    /// The byte offset of `location`, or the end of the text for a location
    /// that is not a token boundary (sqlparser leaves some spans empty).
    pub(crate) fn offset(&self, location: Location) -> usize {
        self.find(location)
            .map_or(self.len, |index| self.boundaries[index].1)
    }

    /// The byte range of the token that starts at `location`.
    pub(crate) fn token_at(&self, location: Location) -> Range<usize> {
        match self.find(location) {
            Ok(index) => {
                let start = self.boundaries[index].1;
                let end = self
                    .boundaries
                    .get(index + 1)
                    .map_or(self.len, |(_, end)| *end);
                start..end
            }
            Err(_) => self.len..self.len,
        }
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
        let (source, ranges) = Source::new(text, &tokens);
        let pieces: String = tokens
            .iter()
            .map(|token| &text[source.range(token.span)])
            .collect();
        assert_eq!(pieces, text);
        let by_range: String = ranges.iter().map(|range| &text[range.clone()]).collect();
        assert_eq!(by_range, text);
        let quoted = tokens
            .iter()
            .find(|token| token.to_string() == "'größe'")
            .unwrap();
        assert_eq!(&text[source.range(quoted.span)], "'größe'");
    }
}
