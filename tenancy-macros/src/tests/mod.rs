//! Unit tests of the whole pipeline: the messages and spans of every error
//! (`errors`), snapshots of the expansion (`snapshots`), and both for
//! `tenant_sql!` (`tenant_sql`).

mod errors;
mod snapshots;
mod tenant_sql;

use proc_macro2::TokenStream;

use crate::ast::Kind;
use crate::expand;

/// One reported error: its message and the source text it points at.
#[derive(Debug, PartialEq, Eq)]
struct Reported {
    message: String,
    at: String,
}

fn tokens(source: &str) -> TokenStream {
    source
        .parse()
        .unwrap_or_else(|error| panic!("test input does not lex: {error}\n{source}"))
}

/// Every error `#[kind(args)] item` reports, in order.
fn reported(kind: Kind, args: &str, item: &str) -> Vec<Reported> {
    let input = syn::parse2(tokens(item)).expect("test input is a struct, enum or union");
    match expand::impls(kind, tokens(args), &input) {
        Ok(_) => Vec::new(),
        Err(error) => error
            .into_iter()
            .map(|error| Reported {
                message: error.to_string(),
                at: error.span().source_text().unwrap_or_default(),
            })
            .collect(),
    }
}

/// The single error `#[tenant_scoped(args)] item` reports.
fn one_error(args: &str, item: &str) -> Reported {
    let mut all = reported(Kind::TenantScoped, args, item);
    assert_eq!(all.len(), 1, "expected exactly one error, got {all:#?}");
    all.remove(0)
}

/// The expansion, formatted as rustfmt would.
fn pretty(kind: Kind, args: &str, item: &str) -> String {
    let expanded = expand::expand(kind, tokens(args), tokens(item));
    let file: syn::File = syn::parse2(expanded.clone())
        .unwrap_or_else(|error| panic!("expansion does not parse: {error}\n{expanded}"));
    prettyplease::unparse(&file)
}
