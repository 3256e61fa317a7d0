//! Parses our own attributes: the arguments of `#[tenant_scoped(..)]` and
//! `#[global_table(..)]`, and `#[tenancy(..)]` on fields. Every other
//! attribute is left alone.
//!
//! Semantic mistakes (an unknown key, a value of the wrong kind, a key given
//! twice) are recorded and parsing goes on, so that one build shows them all;
//! only broken syntax stops the attribute it occurs in.

mod value;

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Path};

use crate::ast::Kind;
use crate::errors::Errors;
use crate::symbol::{
    self, CRATE, FIELD_KEYS, GENERATED, INDEX, PII, PRIMARY_KEY, REFERENCES, RENAME, SCHEMA, SKIP,
    SQL_TYPE, Symbol, TABLE, TABLE_KEYS, TENANCY, TENANT, UNIQUE,
};
use value::{crate_path, flag, index_list, pii, string, table_path, value};

/// How `#[tenancy(pii ..)]` says a personal-data column is anonymised.
pub(crate) enum PiiAttr {
    /// `pii`: NULL or `'redacted'`, by the column's type.
    Default,
    /// `pii = "null"`.
    Null,
    /// `pii = "redacted"`.
    Redacted,
    /// `pii = "schema.function"`: the function's name, checked.
    Function(String),
}

/// A key given with a value; `key` keeps the key's tokens for spans.
pub(crate) struct Setting<T> {
    /// The key as written.
    pub(crate) key: Path,
    /// Its value.
    pub(crate) value: T,
}

/// `index(a, b)` in the table options: a multi-column index.
pub(crate) struct IndexAttr {
    /// The fields of the index, in order.
    pub(crate) fields: Vec<Ident>,
}

/// The options of `#[tenant_scoped(..)]` / `#[global_table(..)]`.
#[derive(Default)]
pub(crate) struct TableAttrs {
    pub(crate) table: Option<Setting<LitStr>>,
    pub(crate) schema: Option<Setting<LitStr>>,
    pub(crate) indexes: Vec<IndexAttr>,
    pub(crate) krate: Option<Setting<Path>>,
}

/// The options of one field, from all its `#[tenancy(..)]` attributes.
/// Flags keep the key's tokens so that errors can point at them.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub(crate) tenant: Option<Path>,
    pub(crate) primary_key: Option<Path>,
    pub(crate) generated: Option<Path>,
    pub(crate) rename: Option<Setting<LitStr>>,
    pub(crate) index: Option<Path>,
    pub(crate) unique: Option<Path>,
    pub(crate) references: Option<Setting<Path>>,
    pub(crate) sql_type: Option<Setting<LitStr>>,
    pub(crate) pii: Option<Setting<PiiAttr>>,
    pub(crate) skip: Option<Path>,
}

impl FieldAttrs {
    /// Every key given except `skip`, in a fixed order.
    pub(crate) fn keys_besides_skip(&self) -> Vec<&Path> {
        [
            self.tenant.as_ref(),
            self.primary_key.as_ref(),
            self.generated.as_ref(),
            self.rename.as_ref().map(|s| &s.key),
            self.index.as_ref(),
            self.unique.as_ref(),
            self.references.as_ref().map(|s| &s.key),
            self.sql_type.as_ref().map(|s| &s.key),
            self.pii.as_ref().map(|s| &s.key),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Parses the macro's own arguments.
pub(crate) fn table_attrs(kind: Kind, args: TokenStream, errors: &mut Errors) -> TableAttrs {
    let mut attrs = TableAttrs::default();
    let parser = syn::meta::parser(|meta| attrs.parse_key(kind, &meta, errors));
    if let Err(error) = parser.parse2(args) {
        errors.push(error);
    }
    attrs
}

/// Parses every `#[tenancy(..)]` of a field.
pub(crate) fn field_attrs(kind: Kind, field: &syn::Field, errors: &mut Errors) -> FieldAttrs {
    let mut attrs = FieldAttrs::default();
    let name = field
        .ident
        .as_ref()
        .map_or_else(String::new, |ident| ident.unraw().to_string());
    for attr in field.attrs.iter().filter(|attr| attr.path() == TENANCY) {
        let parsed = attr.parse_nested_meta(|meta| attrs.parse_key(kind, &name, &meta, errors));
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    attrs
}

/// Removes our `#[tenancy(..)]` attributes from the struct and its fields
/// (of any item shape, so that fail-soft output never carries them): the
/// compiler does not know them, and other derives must not see them.
pub(crate) fn strip(input: &mut DeriveInput) {
    input.attrs.retain(|attr| attr.path() != TENANCY);
    let fields: Vec<&mut Fields> = match &mut input.data {
        Data::Struct(data) => vec![&mut data.fields],
        Data::Enum(data) => data.variants.iter_mut().map(|v| &mut v.fields).collect(),
        Data::Union(data) => {
            for field in &mut data.fields.named {
                field.attrs.retain(|attr| attr.path() != TENANCY);
            }
            Vec::new()
        }
    };
    for field in fields.into_iter().flat_map(|fields| fields.iter_mut()) {
        field.attrs.retain(|attr| attr.path() != TENANCY);
    }
}

impl TableAttrs {
    fn parse_key(
        &mut self,
        kind: Kind,
        meta: &ParseNestedMeta<'_>,
        errors: &mut Errors,
    ) -> syn::Result<()> {
        let key = &meta.path;
        let place = format!("in `{}`", kind.attribute_with_args());
        if *key == TABLE {
            if let Some(value) = string(meta, TABLE, "table = \"orders\"", errors)? {
                set_setting(errors, &mut self.table, key, &place, value);
            }
        } else if *key == SCHEMA {
            if let Some(value) = string(meta, SCHEMA, "schema = \"app\"", errors)? {
                set_setting(errors, &mut self.schema, key, &place, value);
            }
        } else if *key == INDEX {
            if let Some(index) = index_list(kind, meta, errors)? {
                self.indexes.push(index);
            }
        } else if *key == CRATE {
            if let Some(value) = crate_path(meta, errors)? {
                set_setting(errors, &mut self.krate, key, &place, value);
            }
        } else {
            errors.at(key, unknown_table_key(kind, key));
            value(meta)?;
        }
        Ok(())
    }
}

impl FieldAttrs {
    fn parse_key(
        &mut self,
        kind: Kind,
        field: &str,
        meta: &ParseNestedMeta<'_>,
        errors: &mut Errors,
    ) -> syn::Result<()> {
        let key = &meta.path;
        let place = format!("on field `{field}`");
        let flags = [
            (TENANT, &mut self.tenant),
            (PRIMARY_KEY, &mut self.primary_key),
            (GENERATED, &mut self.generated),
            (INDEX, &mut self.index),
            (UNIQUE, &mut self.unique),
            (SKIP, &mut self.skip),
        ];
        if let Some((symbol, slot)) = flags.into_iter().find(|(symbol, _)| key == symbol) {
            if flag(kind, meta, symbol, errors)? {
                set_once(errors, slot, key, &place, key.clone());
            }
        } else if *key == RENAME {
            if let Some(value) = string(meta, RENAME, "rename = \"state\"", errors)? {
                set_setting(errors, &mut self.rename, key, &place, value);
            }
        } else if *key == SQL_TYPE {
            if let Some(value) = string(meta, SQL_TYPE, "sql_type = \"jsonb\"", errors)? {
                set_setting(errors, &mut self.sql_type, key, &place, value);
            }
        } else if *key == PII {
            if let Some(value) = pii(meta, errors)? {
                set_setting(errors, &mut self.pii, key, &place, value);
            }
        } else if *key == REFERENCES {
            if let Some(value) = table_path(meta, errors)? {
                set_setting(errors, &mut self.references, key, &place, value);
            }
        } else {
            errors.at(key, unknown_field_key(kind, field, key));
            value(meta)?;
        }
        Ok(())
    }
}

/// Records `key = value` in `slot`, or an error if the key was already given.
fn set_setting<T>(
    errors: &mut Errors,
    slot: &mut Option<Setting<T>>,
    key: &Path,
    place: &str,
    value: T,
) {
    let setting = Setting {
        key: key.clone(),
        value,
    };
    set_once(errors, slot, key, place, setting);
}

/// Records `value` in `slot`, or an error if the key was already given.
fn set_once<T>(errors: &mut Errors, slot: &mut Option<T>, key: &Path, place: &str, value: T) {
    if slot.is_some() {
        errors.at(
            key,
            format!("duplicate `{}` {place}: give each key once", path_name(key)),
        );
    } else {
        *slot = Some(value);
    }
}

fn unknown_table_key(kind: Kind, key: &Path) -> String {
    let name = path_name(key);
    if FIELD_KEYS.iter().any(|field_key| *key == *field_key) {
        return format!(
            "`{name}` is a field option, not a table option: put `#[tenancy({})]` on the field it applies to",
            symbol_usage(FIELD_KEYS, &name)
        );
    }
    format!(
        "unknown key `{name}` in `{}`{}; accepted keys: {}",
        kind.attribute_with_args(),
        suggestion(&name, TABLE_KEYS),
        symbol::list(TABLE_KEYS)
    )
}

fn unknown_field_key(kind: Kind, field: &str, key: &Path) -> String {
    let name = path_name(key);
    if TABLE_KEYS.iter().any(|table_key| *key == *table_key) {
        return format!(
            "`{name}` is a table option, not a field option: put it in `#[{}({})]` on the struct",
            kind.name(),
            symbol_usage(TABLE_KEYS, &name)
        );
    }
    let accepted = kind.field_keys();
    format!(
        "unknown key `{name}` in `#[tenancy(..)]` on field `{field}`{}; accepted keys: {}",
        suggestion(&name, &accepted),
        symbol::list(&accepted)
    )
}

fn suggestion(name: &str, keys: &[Symbol]) -> String {
    symbol::closest(name, keys).map_or_else(String::new, |key| format!(" (did you mean `{key}`?)"))
}

fn symbol_usage(keys: &[Symbol], name: &str) -> &'static str {
    keys.iter()
        .find(|key| key.0 == name)
        .map_or("", |key| key.usage())
}

/// A key as written, `foo` or `foo::bar`, for messages.
fn path_name(path: &Path) -> String {
    path.segments
        .iter()
        .map(|segment| segment.ident.unraw().to_string())
        .collect::<Vec<_>>()
        .join("::")
}
