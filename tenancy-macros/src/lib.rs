//! Placeholder until the macro lands.
use proc_macro::TokenStream;
/// Marks a tenant-scoped table.
#[proc_macro_attribute]
pub fn tenant_scoped(_a: TokenStream, item: TokenStream) -> TokenStream { item }
/// Marks a global table.
#[proc_macro_attribute]
pub fn global_table(_a: TokenStream, item: TokenStream) -> TokenStream { item }
