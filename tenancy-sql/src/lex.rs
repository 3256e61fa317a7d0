//! Tokenizing: sqlparser's PostgreSQL tokenizer, plus what this crate adds
//! to the text: `{Type}` table slots and `$name` parameters, found among
//! the tokens (never inside strings or comments), and lexical forms refused
//! because PostgreSQL could read them differently.

use std::ops::Range;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer, Whitespace, Word};

use crate::diagnostic::{Diagnostic, Problem};
use crate::name::is_plain_identifier;
use crate::source::Source;
use crate::template::{Param, Segment, Template};

/// The longest SQL text checked, in bytes.
pub(crate) const MAX_BYTES: usize = 256 * 1024;
/// The most tokens (other than whitespace and comments) checked. It bounds
/// the depth of the syntax tree, which sqlparser builds and drops
/// recursively; the bound is tested on a 2 MiB thread stack.
pub(crate) const MAX_TOKENS: usize = 10_000;
/// Names starting with this are the library's own.
pub(crate) const RESERVED_PREFIX: &str = "__tenancy_";
/// The identifier a table slot is parsed as: this prefix and its number.
pub(crate) const SLOT_MARKER: &str = "__tenancy_slot_";

/// What the text may contain beyond PostgreSQL's SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// `tenant_sql!` text: `{Type}` slots and `$name` parameters.
    Slots,
    /// A tenant's ad hoc SQL: neither. It is printed back from its syntax
    /// tree, which cannot escape a `"` inside a quoted name reliably, so
    /// such names are refused.
    Plain,
    /// Ad hoc SQL once confined: slots, `$tenant` alone, and only the
    /// literals the printer writes (no `'..'` string with a backslash, whose
    /// meaning would depend on `standard_conforming_strings`).
    Confined,
}

impl Syntax {
    fn slots(self) -> bool {
        matches!(self, Self::Slots | Self::Confined)
    }

    /// How much larger than the input limits confined SQL may be: each
    /// table reference grows into a subquery of about sixteen tokens. The
    /// syntax tree grows no deeper than a few levels per reference.
    fn growth(self) -> usize {
        match self {
            Self::Confined => 20,
            Self::Slots | Self::Plain => 1,
        }
    }
}

/// A `{Type}` table slot.
#[derive(Clone, Debug)]
pub(crate) struct Slot {
    /// The type name or path between the braces, without whitespace.
    pub(crate) type_name: String,
    /// The byte range of the slot, braces included.
    pub(crate) span: Range<usize>,
}

/// The tokens for the parser, and what the text adds to plain SQL.
#[derive(Debug)]
pub(crate) struct Lexed {
    /// The SQL text.
    pub(crate) text: String,
    pub(crate) source: Source,
    /// The tokens, each slot replaced by one identifier `__tenancy_slot_<n>`
    /// whose span covers the slot.
    pub(crate) tokens: Vec<TokenWithSpan>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) template: Template,
    /// Where each `SELECT` keyword starts: every one must begin a query the
    /// checker visited.
    pub(crate) select_keywords: Vec<Location>,
    /// How many `TABLE` keywords there are: each must be a `TABLE name`
    /// query the checker visited.
    pub(crate) table_keywords: usize,
    /// The statement's first keyword (or token), and its byte range.
    pub(crate) first_word: (String, Range<usize>),
    /// Where each of the template's parameters first appears.
    pub(crate) param_spans: Vec<Range<usize>>,
}

impl Lexed {
    /// The slot a parsed identifier stands for, if it is a slot marker.
    pub(crate) fn slot_of(&self, identifier: &str) -> Option<usize> {
        let number = identifier.strip_prefix(SLOT_MARKER)?;
        let index: usize = number.parse().ok()?;
        (index < self.slots.len()).then_some(index)
    }

    /// `text` with every slot marker written back as its `{Type}`.
    pub(crate) fn unmark(&self, text: &str) -> String {
        let mut out = text.to_owned();
        // Longest numbers first, so `_1` does not replace the start of `_12`.
        for (index, slot) in self.slots.iter().enumerate().rev() {
            out = out.replace(
                &format!("{SLOT_MARKER}{index}"),
                &format!("{{{}}}", slot.type_name),
            );
        }
        out
    }
}

/// Tokenizes `sql`, or says everything that is wrong with its tokens.
pub(crate) fn lex(sql: &str, syntax: Syntax) -> Result<Lexed, Vec<Diagnostic>> {
    let (max_bytes, max_tokens) = (MAX_BYTES * syntax.growth(), MAX_TOKENS * syntax.growth());
    if sql.len() > max_bytes {
        return Err(vec![Diagnostic::new(
            Problem::TooLarge,
            0..0,
            format!(
                "the SQL text is {} bytes long; at most {max_bytes} are checked",
                sql.len()
            ),
        )]);
    }
    let raw = match Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location() {
        Ok(raw) => raw,
        Err(error) => {
            let at = offset_in(sql, error.location);
            let end = next_char_boundary(sql, at);
            return Err(vec![Diagnostic::new(
                Problem::Syntax,
                at..end,
                error.message.clone(),
            )]);
        }
    };
    let (source, ranges) = Source::new(sql, &raw);
    let significant = raw.iter().filter(|t| !is_whitespace(&t.token)).count();
    if significant > max_tokens {
        return Err(vec![Diagnostic::new(
            Problem::TooLarge,
            0..sql.len(),
            format!("the statement has {significant} tokens; at most {max_tokens} are checked"),
        )]);
    }
    let parts = Lexer {
        sql,
        syntax,
        raw: &raw,
        ranges: &ranges,
        runs: Vec::new(),
        slots: Vec::new(),
        segments: Vec::new(),
        text: String::new(),
        params: Vec::new(),
        param_spans: Vec::new(),
        not_sqlite: None,
        select_keywords: Vec::new(),
        table_keywords: 0,
        diagnostics: Vec::new(),
    }
    .run()?;
    let tokens = parser_tokens(raw, &parts.runs);
    Ok(Lexed {
        text: sql.to_owned(),
        source,
        tokens,
        slots: parts.slots,
        template: parts.template,
        select_keywords: parts.select_keywords,
        table_keywords: parts.table_keywords,
        first_word: parts.first_word,
        param_spans: parts.param_spans,
    })
}

/// The tokens for the parser: `raw`, each slot's tokens (the index ranges
/// in `runs`) replaced by one identifier `__tenancy_slot_<n>` that spans
/// them.
fn parser_tokens(raw: Vec<TokenWithSpan>, runs: &[(usize, usize)]) -> Vec<TokenWithSpan> {
    let mut tokens = Vec::with_capacity(raw.len());
    let mut runs = runs.iter().enumerate().peekable();
    let mut open = None;
    for (index, token) in raw.into_iter().enumerate() {
        match runs.peek() {
            Some((_, (start, _))) if *start == index => open = Some(token.span.start),
            _ => {}
        }
        match (open, runs.peek()) {
            (Some(start), Some((number, (_, end)))) if *end == index => {
                tokens.push(TokenWithSpan::new(
                    Token::Word(Word {
                        value: format!("{SLOT_MARKER}{number}"),
                        quote_style: None,
                        keyword: Keyword::NoKeyword,
                    }),
                    Span::new(start, token.span.end),
                ));
                open = None;
                runs.next();
            }
            (Some(_), _) => {}
            (None, _) => tokens.push(token),
        }
    }
    tokens
}

struct Parts {
    first_word: (String, Range<usize>),
    param_spans: Vec<Range<usize>>,
    runs: Vec<(usize, usize)>,
    slots: Vec<Slot>,
    template: Template,
    select_keywords: Vec<Location>,
    table_keywords: usize,
}

struct Lexer<'a> {
    sql: &'a str,
    syntax: Syntax,
    raw: &'a [TokenWithSpan],
    /// Each raw token's byte range.
    ranges: &'a [Range<usize>],
    /// The first and last raw token of each slot.
    runs: Vec<(usize, usize)>,
    slots: Vec<Slot>,
    segments: Vec<Segment>,
    text: String,
    params: Vec<Param>,
    param_spans: Vec<Range<usize>>,
    not_sqlite: Option<(String, Range<usize>)>,
    select_keywords: Vec<Location>,
    table_keywords: usize,
    diagnostics: Vec<Diagnostic>,
}

impl Lexer<'_> {
    fn run(mut self) -> Result<Parts, Vec<Diagnostic>> {
        // The template holds the statement alone: no leading or trailing
        // whitespace, comments or semicolons.
        let body = |t: &TokenWithSpan| !is_whitespace(&t.token) && t.token != Token::SemiColon;
        let first = self.raw.iter().position(body).unwrap_or(self.raw.len());
        let last = self.raw.iter().rposition(body).unwrap_or(0);

        let mut index = 0;
        while index < self.raw.len() {
            let in_body = (first..=last).contains(&index);
            if self.raw[index].token == Token::LBrace && self.syntax.slots() {
                index = self.slot(index, in_body) + 1;
                continue;
            }
            self.check(index);
            if in_body {
                self.template_piece(index);
            }
            index += 1;
        }
        if !self.text.is_empty() {
            self.segments
                .push(Segment::Text(std::mem::take(&mut self.text)));
        }
        if !self.diagnostics.is_empty() {
            return Err(self.diagnostics);
        }
        let slots = self.slots.iter().map(|s| s.type_name.clone()).collect();
        let first_word = match self.raw.get(first) {
            Some(token) => {
                let range = self.ranges[first].clone();
                let word = match &token.token {
                    Token::Word(word) => word.value.clone(),
                    _ => self.sql[range.clone()].to_owned(),
                };
                (word, range)
            }
            None => (String::new(), 0..0),
        };
        Ok(Parts {
            first_word,
            param_spans: self.param_spans,
            template: Template::new(self.segments, self.params, slots, self.not_sqlite),
            runs: self.runs,
            slots: self.slots,
            select_keywords: self.select_keywords,
            table_keywords: self.table_keywords,
        })
    }

    fn range(&self, index: usize) -> Range<usize> {
        self.ranges
            .get(index)
            .cloned()
            .unwrap_or(self.sql.len()..self.sql.len())
    }

    fn report(&mut self, problem: Problem, span: Range<usize>, message: String, help: &str) {
        let diagnostic = Diagnostic::new(problem, span, message);
        self.diagnostics.push(if help.is_empty() {
            diagnostic
        } else {
            diagnostic.with_help(help)
        });
    }

    /// Reads the slot whose `{` is at `open`; returns the index of its last
    /// token, the `}` (or, when it is malformed, of the `{`).
    fn slot(&mut self, open: usize, in_body: bool) -> usize {
        let mut index = self.skip_whitespace(open + 1);
        let mut path = Vec::new();
        loop {
            match self.raw.get(index).map(|t| &t.token) {
                Some(Token::Word(Word {
                    value,
                    quote_style: None,
                    ..
                })) if is_plain_identifier(value) && value != "_" => path.push(value.clone()),
                _ => break,
            }
            index = self.skip_whitespace(index + 1);
            if self.raw.get(index).map(|t| &t.token) == Some(&Token::DoubleColon) {
                index = self.skip_whitespace(index + 1);
            } else {
                break;
            }
        }
        let close = index;
        let closed = self.raw.get(close).map(|t| &t.token) == Some(&Token::RBrace);
        let start = self.range(open).start;
        if path.is_empty() || !closed {
            let end = self.range(close).end;
            self.report(
                Problem::Slot,
                start..end,
                "a `{` must start a table slot: a Rust type name or path between braces".into(),
                "name the table by its type, for example `{Order}` or `{billing::Invoice}`",
            );
            // A malformed slot still parses as far as its `}`, if it has one.
            let brace = self.raw[open..]
                .iter()
                .position(|t| t.token == Token::RBrace)
                .map_or(open, |offset| open + offset);
            return brace;
        }
        let span = start..self.range(close).end;
        let number = self.slots.len();
        self.slots.push(Slot {
            type_name: path.join("::"),
            span,
        });
        self.runs.push((open, close));
        if in_body {
            self.flush_text();
            self.segments.push(Segment::Table(number));
        }
        close
    }

    fn skip_whitespace(&self, mut index: usize) -> usize {
        while self
            .raw
            .get(index)
            .is_some_and(|t| matches!(t.token, Token::Whitespace(_)))
        {
            index += 1;
        }
        index
    }

    /// Refuses what the token may not be.
    fn check(&mut self, index: usize) {
        let token = &self.raw[index];
        let range = self.range(index);
        match &token.token {
            Token::LBrace | Token::RBrace => {
                let (message, help) = match self.syntax {
                    Syntax::Slots | Syntax::Confined => (
                        "a `}` without its `{`".to_owned(),
                        "name the table by its type, for example `{Order}`",
                    ),
                    Syntax::Plain => ("braces are not part of SQL".to_owned(), ""),
                };
                self.report(Problem::Slot, range, message, help);
            }
            Token::Placeholder(text) => self.placeholder(text, range),
            Token::SingleQuotedString(text)
                if self.syntax == Syntax::Confined && text.contains('\\') =>
            {
                self.report(
                    Problem::Internal,
                    range,
                    "a `'..'` string with a backslash in confined SQL".into(),
                    "",
                );
            }
            Token::Word(word) => self.word(index, word, range),
            Token::DollarQuotedString(quoted) => {
                let odd = quoted.tag.as_deref().is_some_and(|tag| {
                    tag.starts_with(|c: char| c.is_ascii_digit()) || !tag.is_ascii()
                });
                if odd {
                    self.report(
                        Problem::Lexical,
                        range.clone(),
                        "a dollar-quote tag must be an ASCII identifier".into(),
                        "use `$$..$$` or a tag like `$body$..$body$`",
                    );
                }
                self.not_sqlite(range);
            }
            Token::EscapedStringLiteral(_) | Token::UnicodeStringLiteral(_) => {
                self.not_sqlite(range);
            }
            token
                if !is_whitespace(token)
                    && !is_literal(token)
                    && self.sql[range.clone()].contains(['?', ':', '@', '$', '[', ']', '`']) =>
            {
                self.not_sqlite(range);
            }
            _ => {}
        }
    }

    fn placeholder(&mut self, text: &str, range: Range<usize>) {
        let name = text.strip_prefix('$').unwrap_or(text);
        match self.syntax {
            Syntax::Plain => self.report(
                Problem::Parameter,
                range,
                format!("`{text}`: parameters are not allowed here"),
                "write the value itself",
            ),
            Syntax::Confined if text == "$tenant" => {}
            Syntax::Confined => self.report(
                Problem::Internal,
                range,
                format!("`{text}` in confined SQL"),
                "",
            ),
            Syntax::Slots if text.starts_with('$') && is_plain_identifier(name) => {}
            Syntax::Slots if !name.is_empty() && name.chars().all(|c| c.is_ascii_digit()) => self
                .report(
                    Problem::Parameter,
                    range,
                    format!("`{text}` is a numbered parameter"),
                    "name the parameter, for example `$status`, and pass a value of that name",
                ),
            Syntax::Slots => self.report(
                Problem::Parameter,
                range,
                format!("`{text}` is not a parameter name"),
                "a parameter is `$` and an ASCII identifier, for example `$status`",
            ),
        }
    }

    fn word(&mut self, index: usize, word: &Word, range: Range<usize>) {
        if word
            .value
            .get(..RESERVED_PREFIX.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(RESERVED_PREFIX))
        {
            self.report(
                Problem::ReservedName,
                range.clone(),
                format!("names starting with `{RESERVED_PREFIX}` are reserved"),
                "rename it",
            );
        }
        if word.quote_style.is_some() && word.value.contains('"') && self.syntax != Syntax::Slots {
            self.report(
                Problem::Lexical,
                range.clone(),
                "names with a `\"` in them are not supported".into(),
                "rename it",
            );
        }
        if word.quote_style.is_none() && word.value.eq_ignore_ascii_case("u") {
            self.unicode_escape(index, range.clone());
        }
        if word.quote_style.is_none() {
            match word.keyword {
                Keyword::SELECT => self.select_keywords.push(self.raw[index].span.start),
                Keyword::TABLE => self.table_keywords += 1,
                _ => {}
            }
        }
    }

    /// `U&"d\0061t"` is an identifier with Unicode escapes to PostgreSQL,
    /// but `U & "d\0061t"` to sqlparser: refused, so that both read the same.
    fn unicode_escape(&mut self, index: usize, range: Range<usize>) {
        let (Some(amp), Some(quoted)) = (self.raw.get(index + 1), self.raw.get(index + 2)) else {
            return;
        };
        let adjacent = |a: &TokenWithSpan, b: &TokenWithSpan| a.span.end == b.span.start;
        let is_quoted_name = matches!(
            &quoted.token,
            Token::Word(Word {
                quote_style: Some(_),
                ..
            })
        );
        if amp.token == Token::Ampersand
            && adjacent(&self.raw[index], amp)
            && adjacent(amp, quoted)
            && is_quoted_name
        {
            let end = self.range(index + 2).end;
            self.report(
                Problem::Lexical,
                range.start..end,
                "Unicode escapes in identifiers (`U&\"..\"`) are not supported".into(),
                "write the name itself in double quotes",
            );
        }
    }

    fn not_sqlite(&mut self, range: Range<usize>) {
        if self.not_sqlite.is_none() {
            self.not_sqlite = Some((self.sql[range.clone()].to_owned(), range));
        }
    }

    fn template_piece(&mut self, index: usize) {
        let range = self.range(index);
        match &self.raw[index].token {
            // Comments are dropped: SQLite does not nest `/* */`, and a
            // trailing `--` would swallow whatever the runtime appends.
            Token::Whitespace(
                Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_),
            ) => self.text.push(' '),
            Token::Placeholder(text) => {
                let param = Param::from_name(text.strip_prefix('$').unwrap_or(text));
                let number = match self.params.iter().position(|p| *p == param) {
                    Some(number) => number,
                    None => {
                        self.params.push(param);
                        self.param_spans.push(range);
                        self.params.len() - 1
                    }
                };
                self.flush_text();
                self.segments.push(Segment::Param(number));
            }
            _ => self.text.push_str(&self.sql[range]),
        }
    }

    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            self.segments
                .push(Segment::Text(std::mem::take(&mut self.text)));
        }
    }
}

fn is_whitespace(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

/// Literals and names, whose text may hold any character.
fn is_literal(token: &Token) -> bool {
    matches!(
        token,
        Token::Word(_)
            | Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::NationalStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::Placeholder(_)
    )
}

/// The byte offset of `location` in `text`, walking it as the tokenizer
/// does; for errors raised before the token boundaries are known.
pub(crate) fn offset_in(text: &str, location: Location) -> usize {
    let (mut line, mut column) = (1, 1);
    for (index, ch) in text.char_indices() {
        if (line, column) >= (location.line, location.column) {
            return index;
        }
        if ch == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    text.len()
}

fn next_char_boundary(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(at, |c| at + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(sql: &str) -> String {
        lex(sql, Syntax::Slots).unwrap().template.to_string()
    }

    #[test]
    fn slots_and_parameters_are_found_among_tokens_only() {
        let lexed = lex(
            "SELECT '{Order}', \"$x\" FROM {Order} o WHERE o.a = $tenant AND o.b = $b -- {X}",
            Syntax::Slots,
        )
        .unwrap();
        assert_eq!(lexed.slots.len(), 1);
        assert_eq!(lexed.slots[0].type_name, "Order");
        assert_eq!(
            lexed.template.params(),
            [Param::Tenant, Param::Named("b".into())]
        );
    }

    #[test]
    fn slot_paths_and_spacing() {
        let lexed = lex("SELECT 1 FROM { billing :: Invoice } i", Syntax::Slots).unwrap();
        assert_eq!(lexed.slots[0].type_name, "billing::Invoice");
        assert_eq!(lexed.slots[0].span, 14..36);
    }

    #[test]
    fn the_template_drops_comments_and_the_outer_semicolons() {
        assert_eq!(
            template("; SELECT 1 /* a */ FROM {T} t -- end\n WHERE t.x = $x;;"),
            "SELECT 1   FROM {T} t  \n WHERE t.x = $x"
        );
    }

    #[test]
    fn refusals() {
        let problems = |sql: &str, syntax| -> Vec<Problem> {
            lex(sql, syntax)
                .err()
                .unwrap_or_default()
                .iter()
                .map(Diagnostic::problem)
                .collect()
        };
        assert_eq!(problems("SELECT $1", Syntax::Slots), [Problem::Parameter]);
        assert_eq!(
            problems("SELECT $tenant", Syntax::Plain),
            [Problem::Parameter]
        );
        assert_eq!(
            problems("SELECT 1 FROM {Order o", Syntax::Slots),
            [Problem::Slot]
        );
        assert_eq!(
            problems("SELECT 1 FROM {} o", Syntax::Slots),
            [Problem::Slot]
        );
        assert_eq!(
            problems("SELECT 1 FROM {\"O\"} o", Syntax::Slots),
            [Problem::Slot]
        );
        assert_eq!(
            problems("SELECT 1 FROM {Order} o", Syntax::Plain),
            [Problem::Slot, Problem::Slot]
        );
        assert_eq!(
            problems("SELECT __Tenancy_x", Syntax::Slots),
            [Problem::ReservedName]
        );
        assert_eq!(
            problems("SELECT U&\"d\\0061t\"", Syntax::Plain),
            [Problem::Lexical]
        );
        assert_eq!(
            problems("SELECT $1a$ x $1a$", Syntax::Plain),
            [Problem::Lexical]
        );
        assert_eq!(
            problems("SELECT 'unterminated", Syntax::Plain),
            [Problem::Syntax]
        );
        assert!(problems("SELECT U & \"x\"", Syntax::Plain).is_empty());
    }

    #[test]
    fn postgres_only_forms_are_noted_for_sqlite() {
        let runs = |sql: &str| lex(sql, Syntax::Slots).unwrap().template.runs_on_sqlite();
        assert!(runs("SELECT 'a:b?' FROM {T} t WHERE t.x = $x"));
        assert!(!runs("SELECT t.x::text FROM {T} t"));
        assert!(!runs("SELECT $$a$$"));
        assert!(!runs("SELECT E'a'"));
        assert!(!runs("SELECT t.j ? 'k' FROM {T} t"));
    }
}
