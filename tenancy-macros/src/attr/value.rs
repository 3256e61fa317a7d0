//! The values that follow our keys: `= "text"`, `= Path`, `(a, b)` or
//! nothing. Each reader records a mistake and returns `None`, having consumed
//! the value, so that parsing can go on with the next key.

use proc_macro2::{Group, TokenStream};
use quote::{ToTokens, quote};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, ExprPath, Lit, LitStr, Path, Token};

use super::IndexAttr;
use crate::ast::Kind;
use crate::errors::Errors;
use crate::symbol::{INDEX, Symbol};

/// What follows a key inside the parentheses.
pub(super) enum Value {
    /// Nothing: a flag.
    Absent,
    /// `= expr`.
    Assigned(Box<Expr>),
    /// `( .. )`.
    List(Group),
}

impl Value {
    /// The string literal of `= "text"`.
    fn string(&self) -> Option<&LitStr> {
        match self {
            Value::Assigned(expr) => match &**expr {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) => Some(text),
                _ => None,
            },
            _ => None,
        }
    }

    /// The plain path of `= some::Type`.
    fn path(&self) -> Option<&Path> {
        match self {
            Value::Assigned(expr) => match &**expr {
                Expr::Path(ExprPath {
                    qself: None, path, ..
                }) => Some(path),
                _ => None,
            },
            _ => None,
        }
    }
}

impl ToTokens for Value {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Value::Absent => {}
            Value::Assigned(expr) => expr.to_tokens(tokens),
            Value::List(group) => group.to_tokens(tokens),
        }
    }
}

/// Consumes whatever follows the key, so parsing can go on after a mistake.
pub(super) fn value(meta: &ParseNestedMeta<'_>) -> syn::Result<Value> {
    if meta.input.peek(Token![=]) {
        Ok(Value::Assigned(Box::new(meta.value()?.parse()?)))
    } else if meta.input.peek(syn::token::Paren) {
        Ok(Value::List(meta.input.parse()?))
    } else {
        Ok(Value::Absent)
    }
}

/// A flag such as `skip`: `Ok(true)` if given correctly.
pub(super) fn flag(
    kind: Kind,
    meta: &ParseNestedMeta<'_>,
    key: Symbol,
    errors: &mut Errors,
) -> syn::Result<bool> {
    let given = value(meta)?;
    if let Value::Absent = given {
        return Ok(true);
    }
    let hint = if key == INDEX {
        format!(
            "; a multi-column index goes in the table options: `#[{}(index(status, created_at))]`",
            kind.name()
        )
    } else {
        String::new()
    };
    errors.at(
        &given,
        format!("`{key}` is a flag and takes no value: write `#[tenancy({key})]`{hint}"),
    );
    Ok(false)
}

/// `pii`, `pii = "null"`, `pii = "redacted"` or `pii = "schema.function"`.
pub(super) fn pii(
    meta: &ParseNestedMeta<'_>,
    errors: &mut Errors,
) -> syn::Result<Option<super::PiiAttr>> {
    use super::PiiAttr;
    const EXAMPLE: &str =
        "`pii`, `pii = \"null\"`, `pii = \"redacted\"` or `pii = \"schema.function\"`";
    let given = value(meta)?;
    let text = match (&given, given.string()) {
        (Value::Absent, _) => return Ok(Some(PiiAttr::Default)),
        (_, Some(text)) => text,
        (wrong, None) => {
            errors.at(
                wrong,
                format!("`pii` takes a string in double quotes: {EXAMPLE}"),
            );
            return Ok(None);
        }
    };
    let value = text.value();
    let function = |name: &str| {
        let parts: Vec<&str> = name.split('.').collect();
        parts.len() <= 2
            && parts
                .iter()
                .all(|part| crate::sql::identifier_problem(part).is_none())
    };
    Ok(match value.as_str() {
        "null" => Some(PiiAttr::Null),
        "redacted" => Some(PiiAttr::Redacted),
        name if function(name) => Some(PiiAttr::Function(value.clone())),
        _ => {
            errors.at(
                text,
                format!(
                    "`pii = \"{}\"` is neither `null`, `redacted` nor a function name \
                     (`function` or `schema.function`, each an identifier): {EXAMPLE}",
                    value.escape_default()
                ),
            );
            None
        }
    })
}

/// A `key = "string"` option.
pub(super) fn string(
    meta: &ParseNestedMeta<'_>,
    key: Symbol,
    example: &str,
    errors: &mut Errors,
) -> syn::Result<Option<LitStr>> {
    let given = value(meta)?;
    match (&given, given.string()) {
        (_, Some(text)) => return Ok(Some(text.clone())),
        (Value::Absent, _) => errors.at(&meta.path, format!("`{key}` needs a value: `{example}`")),
        (wrong, None) => errors.at(
            wrong,
            format!("`{key}` takes a string in double quotes: `{example}`"),
        ),
    }
    Ok(None)
}

/// `references = Customer`: the referenced table's type.
pub(super) fn table_path(
    meta: &ParseNestedMeta<'_>,
    errors: &mut Errors,
) -> syn::Result<Option<Path>> {
    let message = "`references` takes the type of the referenced table struct, without quotes: `references = Customer`";
    let given = value(meta)?;
    match (&given, given.path()) {
        (_, Some(path)) => return Ok(Some(path.clone())),
        (Value::Absent, _) => errors.at(&meta.path, message),
        (wrong, None) => errors.at(wrong, message),
    }
    Ok(None)
}

/// `crate = "::path::to::tenancy_core"`.
pub(super) fn crate_path(
    meta: &ParseNestedMeta<'_>,
    errors: &mut Errors,
) -> syn::Result<Option<Path>> {
    let message =
        "`crate` takes the path of the tenancy crate as a string: `crate = \"::tenancy_core\"`";
    let given = value(meta)?;
    match (&given, given.string()) {
        (_, Some(text)) => match text.parse::<Path>() {
            Ok(path) => return Ok(Some(path)),
            Err(_) => errors.at(text, message),
        },
        (Value::Absent, _) => errors.at(&meta.path, message),
        (wrong, None) => errors.at(wrong, message),
    }
    Ok(None)
}

/// `index(status, created_at)` in the table options.
pub(super) fn index_list(
    kind: Kind,
    meta: &ParseNestedMeta<'_>,
    errors: &mut Errors,
) -> syn::Result<Option<IndexAttr>> {
    let form = "`index(status, created_at)`";
    if !meta.input.peek(syn::token::Paren) {
        let given = value(meta)?;
        let message = format!(
            "`index` in `{}` lists the fields of a multi-column index: {form}; to index one column, put `#[tenancy(index)]` on its field",
            kind.attribute_with_args()
        );
        match given {
            Value::Absent => errors.at(&meta.path, message),
            wrong => errors.at(&wrong, message),
        }
        return Ok(None);
    }
    // An empty `index()` deserves its own message, not syn's "unexpected end
    // of input", so the list is parsed from its group.
    let list: Group = meta.input.parse()?;
    if list.stream().is_empty() {
        errors.at(
            &list,
            format!("`index()` is empty: list the fields of the index, {form}"),
        );
        return Ok(None);
    }
    let mut fields = Vec::new();
    let parser = syn::meta::parser(|entry| {
        let plain = entry.input.is_empty() || entry.input.peek(Token![,]);
        match entry.path.get_ident() {
            Some(field) if plain => fields.push(field.clone()),
            _ => {
                let given = value(&entry)?;
                let path = &entry.path;
                errors.at(
                    quote!(#path #given),
                    format!("`index(..)` lists field names, separated by commas: {form}"),
                );
            }
        }
        Ok(())
    });
    parser.parse2(list.stream())?;
    Ok((!fields.is_empty()).then_some(IndexAttr { fields }))
}
