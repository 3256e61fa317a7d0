//! Quotes the checked statement: the assertions on the tables' metadata,
//! the template in a `static`, the witness with its key checked against
//! every table, and the parameters' values.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Path;
use syn::spanned::Spanned;
use tenancy_sql::Rule;

use super::check::{Assertion, Checked, Piece};
use super::input::Input;
use crate::expand::respan;

/// The statement: a block that evaluates to a `TenantSql`.
///
/// Errors the compiler finds are placed where the user can act on them:
/// about a table (not a table, its tenant column) at the SQL literal, with
/// the SQL line and a caret in the message; about the witness (not one, or
/// of another key type than a table's) at the witness; about a value at
/// the value.
pub(crate) fn statement(input: &Input, checked: &Checked, p: &Path) -> TokenStream {
    let at = input.sql.span();
    let private = respan(quote!(#p::__private_v0_1), at);
    // Every use of a table goes through the same `slot::<T>()`, at the same
    // span: a type that is no table is then one error, not one per use.
    let slots: Vec<TokenStream> = checked
        .tables
        .iter()
        .map(|table| respan(quote!(#private::slot::<#table>()), at))
        .collect();
    let assertions = checked
        .assertions
        .iter()
        .map(|assertion| assert_rule(assertion, &slots[assertion.table], &private, at));

    let template = format_ident!("__TENANCY_SQL", span = at);
    let pieces = checked.pieces.iter().map(|piece| match piece {
        Piece::Text(text) => quote!(#private::Piece::Text(#text)),
        Piece::Table(table) => {
            let slot = &slots[*table];
            quote!(#private::Piece::Table(#slot.meta()))
        }
        Piece::Tenant => quote!(#private::Piece::Tenant),
        Piece::Param(index) => {
            let index = Literal::usize_unsuffixed(*index);
            quote!(#private::Piece::Param(#index))
        }
    });
    let count = Literal::usize_unsuffixed(checked.params.len());
    let names = checked.params.iter().map(|(name, _)| name);
    let source = &checked.source;
    let postgres_only = match &checked.postgres_only {
        Some(reason) => quote!(#private::Some(#reason)),
        None => quote!(#private::None),
    };
    let read_only = checked.read_only;

    // The witness and its key checks, at the witness.
    let witness = &input.witness;
    let witness_span = witness.span();
    let private_w = respan(quote!(#p::__private_v0_1), witness_span);
    let table_vars: Vec<_> = (0..checked.tables.len())
        .map(|index| format_ident!("__tenancy_table_{index}", span = at))
        .collect();
    let table_uses = (0..checked.tables.len())
        .map(|index| format_ident!("__tenancy_table_{index}", span = witness_span));
    let tenant = format_ident!("__tenancy_tenant", span = witness_span);
    let witness_check = quote_spanned! {witness_span=>
        let #tenant = #private_w::witness(#witness)#(.table(#table_uses))*;
    };

    // The values, evaluated in the order written, each converted at its
    // expression.
    let arg_vars: Vec<_> = input
        .args
        .iter()
        .enumerate()
        .map(|(index, arg)| format_ident!("__tenancy_arg_{index}", span = arg.value.span()))
        .collect();
    let args = input.args.iter().zip(&arg_vars).map(|(arg, var)| {
        let value = &arg.value;
        let private = respan(quote!(#p::__private_v0_1), value.span());
        quote_spanned!(value.span()=> let #var = #private::param(#value);)
    });
    let values = checked.params.iter().map(|(_, arg)| &arg_vars[*arg]);

    quote! {
        {
            #(#assertions)*
            static #template: #private::SqlTemplate<#count> = #private::SqlTemplate::new(
                #source,
                &[#(#pieces),*],
                &[#(#names),*],
                #postgres_only,
                #read_only,
            );
            #(let #table_vars = #slots;)*
            #witness_check
            #(#args)*
            #tenant.statement(&#template, [#(#values),*])
        }
    }
}

/// A `const` item that fails to compile, with the rendered error, unless
/// the table's tenant column meets `assertion`'s rule.
fn assert_rule(
    assertion: &Assertion,
    slot: &TokenStream,
    private: &TokenStream,
    at: Span,
) -> TokenStream {
    let check = match &assertion.rule {
        Rule::TenantColumnIn(columns) => {
            quote!(#private::tenant_column_in(COLUMN, &[#(#columns),*]))
        }
        Rule::TenantColumnIsNot(column) => {
            quote!(#private::tenant_column_is_not(COLUMN, #column))
        }
    };
    let parts = &assertion.message;
    quote_spanned! {at=>
        const _: () = {
            const COLUMN: ::core::option::Option<&'static str> = #slot.tenant_column();
            if !#check {
                const PARTS: &[&str] = &[#(#parts),*];
                const NAME: &str = #private::column_or_placeholder(COLUMN);
                const LEN: usize = #private::message_len(PARTS, NAME);
                // Joined only here, where the rule failed: a `const` item
                // would be evaluated for every rule that holds too.
                ::core::panic!(
                    "{}",
                    #private::message_str(&#private::message::<LEN>(PARTS, NAME))
                );
            }
        };
    }
}

/// What stands in for the statement beside a compile error: a
/// `TenantSql` that is never made, with the witness and the values still
/// type-checked, so that the error is the only one.
pub(crate) fn stand_in(input: Option<&Input>, p: Option<&Path>, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    let uses = input.map(|input| {
        let witness = &input.witness;
        let values = input.args.iter().map(|arg| &arg.value);
        // Type-checked, never run; a block, not a closure, so that `.await`
        // and `?` in them are still what they are in the user's code.
        quote!(if false { let _ = (&#witness, #(&#values,)*); })
    });
    // Typed by a function pointer, so that no code follows the `!`.
    let never = p.map(|p| {
        quote! {
            let __tenancy_never: fn() -> #p::TenantSql = || ::core::unreachable!();
            __tenancy_never()
        }
    });
    quote! {
        {
            #errors
            #uses
            #never
        }
    }
}
