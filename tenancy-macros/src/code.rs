//! Generated code written as text and handed to the compiler in one piece,
//! with the user's tokens spliced in where their spans matter.
//!
//! `quote!` builds every token one by one, and a crate compiles its proc
//! macros without optimisation: for a table, that was most of the macro's
//! run time. Text is parsed by the compiler's own lexer, in one call per
//! run of text. The tokens parsed from text are at the call site, as
//! `quote!`'s are; what a compiler error should point at (a field's type,
//! the key type, a referenced table) is spliced in as tokens instead.

use proc_macro2::{Delimiter, Group, TokenStream};
use quote::{ToTokens, TokenStreamExt};

/// Text and tokens, in order.
#[derive(Default)]
pub(crate) struct Code {
    tokens: TokenStream,
    text: String,
}

impl Code {
    /// Appends code written as text. A run of text, up to the next splice
    /// or group, must be balanced: every delimiter it opens it closes.
    pub(crate) fn text(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self.text.push(' ');
        self
    }

    /// Appends tokens as they are, spans kept.
    pub(crate) fn splice(&mut self, tokens: impl ToTokens) -> &mut Self {
        self.flush();
        tokens.to_tokens(&mut self.tokens);
        self
    }

    /// Appends a delimited group written by `inner`, for a group that holds
    /// spliced tokens.
    pub(crate) fn group(
        &mut self,
        delimiter: Delimiter,
        inner: impl FnOnce(&mut Code),
    ) -> &mut Self {
        self.flush();
        let mut code = Code::default();
        inner(&mut code);
        self.tokens.append(Group::new(delimiter, code.finish()));
        self
    }

    /// A string literal of `value`, written as text.
    pub(crate) fn str(&mut self, value: &str) -> &mut Self {
        use std::fmt::Write as _;
        // `{:?}` escapes what a Rust string literal needs escaped.
        let _ = write!(self.text, "{value:?} ");
        self
    }

    pub(crate) fn finish(mut self) -> TokenStream {
        self.flush();
        self.tokens
    }

    fn flush(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        match parse(&text) {
            Ok(tokens) => self.tokens.extend(tokens),
            // Only a bug in this crate gets here; say so where it shows.
            Err(error) => self.tokens.extend(
                syn::Error::new(
                    proc_macro2::Span::call_site(),
                    format!("tenancy: generated code does not parse ({error}): {text}"),
                )
                .to_compile_error(),
            ),
        }
    }
}

/// `text` parsed by the compiler, in a macro; by `proc_macro2` elsewhere
/// (the unit tests). `proc_macro2`'s own parsing first lexes the text
/// again, unoptimised, to check it: that check cost more than the
/// compiler's lexing, and the text is this crate's own.
fn parse(text: &str) -> Result<TokenStream, String> {
    if proc_macro::is_available() {
        text.parse::<proc_macro::TokenStream>()
            .map(TokenStream::from)
            .map_err(|error| error.to_string())
    } else {
        text.parse::<TokenStream>()
            .map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    #[test]
    fn text_splices_and_groups_keep_their_order() {
        let mut code = Code::default();
        code.text("impl Foo for")
            .splice(quote!(Bar))
            .group(Delimiter::Brace, |inner| {
                inner
                    .text("const X: &str =")
                    .str("a \"quoted\" name")
                    .text(";");
            });
        assert_eq!(
            code.finish().to_string(),
            quote!(impl Foo for Bar { const X: &str = "a \"quoted\" name"; }).to_string()
        );
    }

    #[test]
    fn unbalanced_text_is_a_compile_error_not_a_panic() {
        let mut code = Code::default();
        code.text("fn f() {");
        assert!(code.finish().to_string().contains("compile_error"));
    }
}
