//! Parsing exactly one statement from the lexed tokens.

use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token};

use crate::diagnostic::{Diagnostic, Problem};
use crate::lex::Lexed;

/// The one statement in `lexed` (whose tokens it takes); anything before
/// or after it but semicolons is an error, whatever the parser would have
/// stopped at.
pub(crate) fn parse_one(lexed: &mut Lexed) -> Result<Statement, Diagnostic> {
    let dialect = PostgreSqlDialect {};
    let tokens = std::mem::take(&mut lexed.tokens);
    let mut parser = Parser::new(&dialect).with_tokens_with_locations(tokens);
    while parser.consume_token(&Token::SemiColon) {}
    if parser.peek_token_ref().token == Token::EOF {
        return Err(Diagnostic::new(
            Problem::StatementCount,
            0..lexed.source.len(),
            "there is no SQL statement here",
        ));
    }
    let statement = parser
        .parse_statement()
        .map_err(|error| parse_error(lexed, &error))?;
    let mut separated = false;
    while parser.consume_token(&Token::SemiColon) {
        separated = true;
    }
    let next = parser.peek_token();
    if next.token == Token::EOF {
        return Ok(statement);
    }
    let at = lexed.source.range(next.span);
    if separated {
        Err(Diagnostic::new(
            Problem::StatementCount,
            at.start..lexed.source.len(),
            "only one statement is allowed, and another one starts here",
        )
        .with_help("run each statement on its own"))
    } else {
        // sqlparser ends a statement where it stops understanding it.
        Err(Diagnostic::new(
            Problem::Syntax,
            at.clone(),
            format!(
                "expected the end of the statement, found `{}`",
                lexed.unmark(lexed.text.get(at).unwrap_or_default())
            ),
        ))
    }
}

fn parse_error(lexed: &Lexed, error: &ParserError) -> Diagnostic {
    let message = match error {
        ParserError::TokenizerError(message) | ParserError::ParserError(message) => message,
        ParserError::RecursionLimitExceeded => {
            return Diagnostic::new(
                Problem::TooLarge,
                0..lexed.source.len(),
                "the statement nests too deeply to check",
            )
            .with_help("flatten its parentheses or subqueries");
        }
    };
    let (text, location) = split_location(message);
    let span = match location {
        Some(location) => lexed.source.token_at(location),
        None => lexed.source.len()..lexed.source.len(),
    };
    Diagnostic::new(Problem::Syntax, span, lexed.unmark(text))
}

/// sqlparser ends its messages with ` at Line: <l>, Column: <c>`.
fn split_location(message: &str) -> (&str, Option<Location>) {
    let Some(at) = message.rfind(" at Line: ") else {
        return (message, None);
    };
    let rest = &message[at + " at Line: ".len()..];
    let mut numbers = rest.split(", Column: ");
    let line = numbers.next().and_then(|n| n.parse().ok());
    let column = numbers.next().and_then(|n| n.parse().ok());
    match (line, column) {
        (Some(line), Some(column)) => (&message[..at], Some(Location::new(line, column))),
        _ => (message, None),
    }
}
