//! The `#[tenant_scoped]` and `#[global_table]` attributes and the
//! `tenant_sql!` macro of the tenancy crates. This crate is an
//! implementation detail: depend on `tenancy-core` or `tenancy-sqlx`, which
//! re-export the macros, and read their docs there.
//!
//! Each attribute parses the struct (`ast`, `attr`), checks the rules that
//! span fields (`valid`) and generates the impls (`expand`); on error the
//! struct is emitted unchanged next to every error found, each spanned at the
//! user's tokens. `tenant_sql!` has the same three steps in its own module.

use proc_macro::TokenStream;

mod ast;
mod attr;
mod case;
mod code;
mod errors;
mod expand;
mod fallback;
mod runtime;
mod sql;
mod symbol;
mod tenant_sql;
mod valid;

#[cfg(test)]
mod tests;

use ast::Kind;

/// Marks a struct as a table whose rows belong to tenants.
#[cfg_attr(not(doctest), doc = include_str!("../docs/tenant_scoped.md"))]
#[proc_macro_attribute]
pub fn tenant_scoped(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::TenantScoped, args.into(), item.into()).into()
}

/// Marks a struct as a table shared by all tenants.
#[cfg_attr(not(doctest), doc = include_str!("../docs/global_table.md"))]
#[proc_macro_attribute]
pub fn global_table(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Global, args.into(), item.into()).into()
}

/// A statement written in SQL, checked at compile time to be confined to
/// one tenant.
#[cfg_attr(not(doctest), doc = include_str!("../docs/tenant_sql.md"))]
#[proc_macro]
pub fn tenant_sql(input: TokenStream) -> TokenStream {
    tenant_sql::expand(input.into()).into()
}
