//! The macro's arguments: an optional `crate = ".."`, the witness, the SQL
//! literal, and the named parameters, each kept as the user's tokens for
//! spans.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitStr, Path, Token};

/// How the macro is called, for messages.
pub(crate) const FORM: &str = "`tenant_sql!(&tenant, \"SELECT .. FROM {Order} o WHERE o.tenant_id = $tenant AND o.status = $status\", status = ..)`";

/// `tenant_sql!([crate = "..",] witness, "SQL" [, name = value | name]*)`.
pub(crate) struct Input {
    /// The runtime crate's path, when it is not found in `Cargo.toml`.
    pub(crate) krate: Option<Path>,
    /// The expression that yields `&TenantId<K>`.
    pub(crate) witness: Expr,
    /// The SQL text.
    pub(crate) sql: LitStr,
    /// The named parameters, in the order written.
    pub(crate) args: Vec<Arg>,
}

/// `name = value`, or `name` alone for `name = name`.
pub(crate) struct Arg {
    /// The name, as `$name` in the SQL.
    pub(crate) name: Ident,
    /// The value.
    pub(crate) value: Expr,
}

impl Arg {
    /// The name without `r#`, as the SQL writes it.
    pub(crate) fn sql_name(&self) -> String {
        self.name.unraw().to_string()
    }
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "`tenant_sql!` takes the tenant witness, the SQL and its parameters: {FORM}"
                ),
            ));
        }
        let krate = if input.peek(Token![crate]) && input.peek2(Token![=]) {
            input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            let path = crate_path(input)?;
            input.parse::<Token![,]>()?;
            Some(path)
        } else {
            None
        };
        let witness: Expr = input.parse()?;
        if input.is_empty() {
            return Err(syn::Error::new_spanned(
                &witness,
                format!(
                    "the SQL is missing: after the witness comes the SQL as a string literal, {FORM}"
                ),
            ));
        }
        input.parse::<Token![,]>()?;
        let sql = sql_literal(input)?;
        let mut args = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            args.push(input.parse()?);
        }
        Ok(Input {
            krate,
            witness,
            sql,
            args,
        })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let expected = || {
            input.error(
                "expected a parameter: `name = value` for `$name` in the SQL, or `name` alone to \
                 pass the variable of that name",
            )
        };
        if !input.peek(Ident) {
            return Err(expected());
        }
        let name: Ident = input.parse()?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            input.parse()?
        } else if input.is_empty() || input.peek(Token![,]) {
            syn::parse_quote!(#name)
        } else {
            return Err(expected());
        };
        Ok(Arg { name, value })
    }
}

/// `crate = "path"`'s path.
fn crate_path(input: ParseStream<'_>) -> syn::Result<Path> {
    let message =
        "`crate` takes the path of the tenancy crate as a string: `crate = \"::tenancy_core\"`";
    match input.parse::<LitStr>() {
        Ok(text) => text
            .parse::<Path>()
            .map_err(|_| syn::Error::new(text.span(), message)),
        Err(error) => Err(syn::Error::new(error.span(), message)),
    }
}

/// The SQL: a string literal, so that the macro can read it.
fn sql_literal(input: ParseStream<'_>) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        return input.parse();
    }
    let given: Expr = input.parse()?;
    Err(syn::Error::new_spanned(
        given,
        "the SQL of `tenant_sql!` must be a string literal, which the macro checks when the \
         program is compiled; a constant, `concat!` or `format!` cannot be checked",
    ))
}
