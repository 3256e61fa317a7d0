//! Our model of the annotated struct: the table options and each field with
//! its options, keeping the syn nodes so errors can point at the user's
//! tokens.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, PathArguments, Type};

use crate::attr::{self, FieldAttrs, TableAttrs};
use crate::case;
use crate::errors::Errors;
use crate::symbol::{FIELD_KEYS, Symbol, TENANCY, TENANT};

/// Which macro is expanding.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// `#[tenant_scoped]`: rows belong to tenants.
    TenantScoped,
    /// `#[global_table]`: rows are shared by all tenants.
    Global,
}

impl Kind {
    /// The macro's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::TenantScoped => "tenant_scoped",
            Kind::Global => "global_table",
        }
    }

    /// `#[tenant_scoped]`, for messages.
    pub(crate) fn attribute(self) -> String {
        format!("#[{}]", self.name())
    }

    /// `#[tenant_scoped(..)]`, for messages about its arguments.
    pub(crate) fn attribute_with_args(self) -> String {
        format!("#[{}(..)]", self.name())
    }

    /// The field keys this macro accepts.
    pub(crate) fn field_keys(self) -> Vec<Symbol> {
        FIELD_KEYS
            .iter()
            .copied()
            .filter(|key| self == Kind::TenantScoped || *key != TENANT)
            .collect()
    }
}

/// The annotated struct.
pub(crate) struct Table<'a> {
    pub(crate) kind: Kind,
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: TableAttrs,
    pub(crate) fields: Vec<Field<'a>>,
}

/// One named field.
pub(crate) struct Field<'a> {
    pub(crate) original: &'a syn::Field,
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) attrs: FieldAttrs,
}

/// The name of the conventional tenant field.
pub(crate) const TENANT_FIELD: &str = "tenant_id";

impl<'a> Table<'a> {
    /// Reads the struct and its fields' attributes. An item that is not a
    /// struct with named fields cannot be modelled: that error is returned;
    /// every other problem is recorded in `errors`.
    pub(crate) fn from_syn(
        kind: Kind,
        attrs: TableAttrs,
        input: &'a DeriveInput,
        errors: &mut Errors,
    ) -> Result<Self, syn::Error> {
        let fields = named_fields(kind, input)?;
        reject_generics(kind, input, errors);
        for attr in input.attrs.iter().filter(|attr| attr.path() == TENANCY) {
            errors.at(
                attr,
                format!(
                    "`#[tenancy(..)]` goes on fields; table options go in `{}` on the struct, e.g. `#[{}(table = \"orders\")]`",
                    kind.attribute_with_args(),
                    kind.name()
                ),
            );
        }
        let fields = fields
            .named
            .iter()
            .filter_map(|field| {
                Some(Field {
                    original: field,
                    ident: field.ident.as_ref()?,
                    ty: &field.ty,
                    attrs: attr::field_attrs(kind, field, errors),
                })
            })
            .collect();
        Ok(Table {
            kind,
            ident: &input.ident,
            attrs,
            fields,
        })
    }

    /// The table's name: `table = ".."`, or the struct's name in plural
    /// snake case.
    pub(crate) fn name(&self) -> String {
        match &self.attrs.table {
            Some(table) => table.value.value(),
            None => case::table_name(&self.ident.unraw().to_string()),
        }
    }

    /// Tokens to point at when the table name is wrong.
    pub(crate) fn name_tokens(&self) -> TokenStream {
        match &self.attrs.table {
            Some(table) => table.value.to_token_stream(),
            None => self.ident.to_token_stream(),
        }
    }

    /// The tenant column's field: the one marked `tenant`, else a field named
    /// `tenant_id` that is not skipped. Global tables have none.
    pub(crate) fn tenant(&self) -> Option<&Field<'a>> {
        if self.kind == Kind::Global {
            return None;
        }
        self.fields
            .iter()
            .find(|field| field.attrs.tenant.is_some())
            .or_else(|| {
                self.fields
                    .iter()
                    .find(|field| field.name() == TENANT_FIELD && !field.is_skipped())
            })
    }

    /// Whether `field` is the tenant column.
    pub(crate) fn is_tenant(&self, field: &Field<'_>) -> bool {
        self.tenant()
            .is_some_and(|tenant| tenant.ident == field.ident)
    }

    /// The columns besides the tenant column, in field order.
    pub(crate) fn columns(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields
            .iter()
            .filter(|field| !field.is_skipped() && !self.is_tenant(field))
    }

    /// The field with this name.
    pub(crate) fn field(&self, ident: &Ident) -> Option<&Field<'a>> {
        self.fields.iter().find(|field| field.ident == ident)
    }
}

impl Field<'_> {
    /// The field's name without `r#`.
    pub(crate) fn name(&self) -> String {
        self.ident.unraw().to_string()
    }

    /// The column's name in the database.
    pub(crate) fn column_name(&self) -> String {
        match &self.attrs.rename {
            Some(rename) => rename.value.value(),
            None => self.name(),
        }
    }

    /// Tokens to point at when the column name is wrong.
    pub(crate) fn column_name_tokens(&self) -> TokenStream {
        match &self.attrs.rename {
            Some(rename) => rename.value.to_token_stream(),
            None => self.ident.to_token_stream(),
        }
    }

    /// The name of the field's associated constant: `STATUS`.
    pub(crate) fn const_ident(&self) -> Ident {
        Ident::new(&case::screaming_snake_case(&self.name()), self.ident.span())
    }

    /// Whether the field is left out of the table.
    pub(crate) fn is_skipped(&self) -> bool {
        self.attrs.skip.is_some()
    }

    /// Whether the type is written `Option<..>` (the only way to tell
    /// nullability of a type with a verbatim `sql_type`).
    pub(crate) fn is_option(&self) -> bool {
        let Type::Path(path) = self.ty else {
            return false;
        };
        path.qself.is_none()
            && path.path.segments.last().is_some_and(|last| {
                last.ident == "Option"
                    && matches!(&last.arguments, PathArguments::AngleBracketed(args)
                        if args.args.len() == 1 && matches!(args.args[0], GenericArgument::Type(_)))
            })
    }
}

/// The fields of a struct with named fields, or why the item is not one.
fn named_fields(kind: Kind, input: &DeriveInput) -> Result<&syn::FieldsNamed, syn::Error> {
    let ident = &input.ident;
    let (tokens, found) = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => return Ok(fields),
            Fields::Unnamed(fields) => (fields.to_token_stream(), "a tuple struct"),
            Fields::Unit => (quote!(#ident), "a unit struct"),
        },
        Data::Enum(data) => {
            let token = data.enum_token;
            (quote!(#token #ident), "an enum")
        }
        Data::Union(data) => {
            let token = data.union_token;
            (quote!(#token #ident), "a union")
        }
    };
    Err(syn::Error::new_spanned(
        tokens,
        format!(
            "`{}` must be on a struct with named fields, like `struct Order {{ tenant_id: i64, id: i64 }}`; this is {found}",
            kind.attribute()
        ),
    ))
}

fn reject_generics(kind: Kind, input: &DeriveInput, errors: &mut Errors) {
    let generics = &input.generics;
    let message = format!(
        "`{}` must be on a struct with named fields and no generic parameters: a table has one fixed set of column types",
        kind.attribute()
    );
    if !generics.params.is_empty() {
        errors.at(generics, message);
    } else if let Some(where_clause) = &generics.where_clause {
        errors.at(where_clause, message);
    }
}
