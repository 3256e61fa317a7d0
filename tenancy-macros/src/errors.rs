//! Collects every error of one macro invocation, so the user sees all of them
//! at once, each at its own tokens (like serde's `Ctxt`).

use core::fmt::Display;

use quote::ToTokens;

/// The errors found so far. Dropping it unread would lose them, hence
/// `must_use`: end it with [`finish`](Errors::finish) or [`and`](Errors::and).
#[derive(Default)]
#[must_use = "errors are only reported through `finish` or `and`"]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Records an error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Records an error spanning `tokens`.
    pub(crate) fn at(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// `Err` with every recorded error, or `Ok` if there were none.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.combined.map_or(Ok(()), Err)
    }

    /// Every recorded error followed by `last`, for failures that stop the
    /// analysis early.
    pub(crate) fn and(self, last: syn::Error) -> syn::Error {
        match self.combined {
            Some(mut combined) => {
                combined.combine(last);
                combined
            }
            None => last,
        }
    }
}
