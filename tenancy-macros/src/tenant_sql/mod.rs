//! `tenant_sql!`: parses the arguments (`input`), checks the SQL with
//! `tenancy-sql` and matches its parameters with the arguments (`check`),
//! and quotes the statement (`expand`). On error the errors come out
//! beside a stand-in of the statement's type, so that the rest of the
//! user's code still type-checks.

mod check;
mod expand;
mod input;

use proc_macro2::TokenStream;

use crate::runtime::{self, Caller};
use input::Input;

/// Expands `tenant_sql!(..)`. Never fails: errors come out as
/// `compile_error!`s in place of the statement.
pub(crate) fn expand(tokens: TokenStream) -> TokenStream {
    let parsed = syn::parse2::<Input>(tokens);
    let explicit = parsed.as_ref().ok().and_then(|input| input.krate.as_ref());
    let runtime = runtime::locate(Caller::TenantSql, explicit);
    let input = match parsed {
        Ok(input) => input,
        Err(error) => return expand::stand_in(None, runtime.ok().as_ref(), &error),
    };
    match (check::check(&input), runtime) {
        (Ok(checked), Ok(p)) => expand::statement(&input, &checked, &p),
        (Err(error), Ok(p)) => expand::stand_in(Some(&input), Some(&p), &error),
        (Ok(_), Err(missing)) => expand::stand_in(Some(&input), None, &missing),
        (Err(mut error), Err(missing)) => {
            error.combine(missing);
            expand::stand_in(Some(&input), None, &error)
        }
    }
}

/// Every error `tenant_sql!(tokens)` reports.
#[cfg(test)]
pub(crate) fn errors(tokens: TokenStream) -> Vec<syn::Error> {
    let error = match syn::parse2::<Input>(tokens) {
        Ok(input) => match check::check(&input) {
            Ok(_) => return Vec::new(),
            Err(error) => error,
        },
        Err(error) => error,
    };
    error.into_iter().collect()
}
