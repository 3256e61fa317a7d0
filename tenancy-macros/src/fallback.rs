//! Fail-soft output: on error, the user's item still comes out (without our
//! attributes) next to the errors, so the rest of their crate type-checks and
//! the IDE keeps working.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::attr;

/// The item, stripped of our attributes, followed by the errors and the
/// stand-ins for what the macro would have generated (the column constants
/// and entry points of the fields that parsed), so that one mistake in an
/// attribute is reported once, not again at every use of the table.
pub(crate) fn item(input: &DeriveInput, error: &syn::Error, stand_ins: TokenStream) -> TokenStream {
    let mut stripped = input.clone();
    attr::strip(&mut stripped);
    let errors = error.to_compile_error();
    quote! {
        #stripped
        #errors
        #stand_ins
    }
}

/// Input that is not even a struct, enum or union: returned unchanged.
pub(crate) fn tokens(item: TokenStream, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    quote! {
        #item
        #errors
    }
}
