//! Runs the pipeline (parse, check, generate) and quotes the output: the
//! struct without our attributes, plus its impls.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{DeriveInput, Path};

use crate::ast::{Field, Kind, Table};
use crate::attr::{self, PiiAttr};
use crate::code::Code;
use crate::errors::Errors;
use crate::fallback;
use crate::runtime;
use crate::valid;

/// Expands `#[tenant_scoped(args)] item` or `#[global_table(args)] item`.
/// Never fails: errors come out as `compile_error!`s next to the item.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                format!(
                    "`{}` must be on a struct with named fields, like `struct Order {{ tenant_id: i64, id: i64 }}`",
                    kind.attribute()
                ),
            );
            return fallback::tokens(item, &error);
        }
    };
    match generate(kind, args, &input) {
        Ok(impls) => {
            let mut stripped = input;
            attr::strip(&mut stripped);
            quote! {
                #stripped
                #impls
            }
        }
        Err((error, stand_ins)) => fallback::item(&input, &error, stand_ins),
    }
}

/// Parses, checks and generates the impls, or returns every error found.
#[cfg(test)]
pub(crate) fn impls(
    kind: Kind,
    args: TokenStream,
    input: &DeriveInput,
) -> syn::Result<TokenStream> {
    generate(kind, args, input).map_err(|(error, _)| error)
}

/// The impls, or every error found and the stand-ins to emit beside them.
fn generate(
    kind: Kind,
    args: TokenStream,
    input: &DeriveInput,
) -> Result<TokenStream, (syn::Error, TokenStream)> {
    let mut errors = Errors::default();
    let attrs = attr::table_attrs(kind, args, &mut errors);
    let table = match Table::from_syn(kind, attrs, input, &mut errors) {
        Ok(table) => table,
        Err(error) => return Err((errors.and(error), TokenStream::new())),
    };
    valid::check(&table, &mut errors);
    let krate = table.attrs.krate.as_ref().map(|setting| &setting.value);
    let runtime = runtime::locate(runtime::Caller::Attribute(kind), krate);
    match (errors.finish(), runtime) {
        (Ok(()), Ok(runtime)) => Ok(Generator::new(&table, &runtime).impls()),
        (Err(error), Ok(runtime)) => {
            // Generic structs get none: impls without their parameters
            // would only add errors.
            let stand_ins = if input.generics.params.is_empty() {
                Generator::new(&table, &runtime).stand_ins()
            } else {
                TokenStream::new()
            };
            Err((error, stand_ins))
        }
        (Ok(()), Err(error)) => Err((error, TokenStream::new())),
        (Err(error), Err(missing)) => {
            let mut error = error;
            error.combine(missing);
            Err((error, TokenStream::new()))
        }
    }
}

/// Generated code names every runtime item through `p`, the runtime
/// crate's absolute path.
struct Generator<'a> {
    table: &'a Table<'a>,
    p: &'a Path,
    /// `p` written out, for the code written as text.
    p_text: String,
}

impl<'a> Generator<'a> {
    fn new(table: &'a Table<'a>, p: &'a Path) -> Self {
        Generator {
            table,
            p,
            p_text: p.to_token_stream().to_string(),
        }
    }
}

impl Generator<'_> {
    /// The runtime path with every token at `span`. A trait-bound error is
    /// reported at the span of the whole path it arises in; a path whose
    /// first tokens are the macro's own would put it on the attribute
    /// instead of on the user's field.
    fn p_at(&self, span: Span) -> TokenStream {
        respan(self.p.to_token_stream(), span)
    }

    /// The runtime path as text, for the code written as text.
    fn p_text(&self) -> &str {
        &self.p_text
    }

    fn impls(&self) -> TokenStream {
        self.output(
            self.meta_body(),
            self.insert_values_body(),
            self.scope_impl(),
        )
    }

    /// What the output holds beside a macro error: the column constants,
    /// entry points and trait impls of the fields that parsed, with bodies
    /// that never run (the crate does not compile), so that uses of the
    /// table report nothing but the one mistake.
    fn stand_ins(&self) -> TokenStream {
        let never = quote! {
            ::core::unreachable!("the table's attribute has an error")
        };
        let scope_impl = match (self.table.kind, self.table.tenant()) {
            // Without a tenant column there is no key type to name.
            (Kind::TenantScoped, None) => TokenStream::new(),
            _ => self.scope_impl(),
        };
        self.output(never.clone(), never, scope_impl)
    }

    /// The inherent impl, then the trait impls with these bodies.
    ///
    /// The trait methods are `#[inline]`: a crate compiles every
    /// non-generic function it defines, used or not, while an inline one is
    /// compiled only where it is called. A crate of many tables then pays
    /// code generation for the tables it inserts into or reads metadata of,
    /// not for every table it declares.
    fn output(
        &self,
        meta_body: TokenStream,
        insert_values_body: TokenStream,
        scope_impl: TokenStream,
    ) -> TokenStream {
        let mut code = Code::default();
        self.inherent_impl(&mut code);
        code.text("const _: () =").group(Delimiter::Brace, |code| {
            self.table_impl(code, meta_body);
            code.splice(scope_impl);
            self.insert_row_impl(code, insert_values_body);
        });
        code.text(";");
        code.finish()
    }

    /// `impl Table` (sealed) around `body`, the body of `meta()`. The seal
    /// holds what `tenant_sql!` reads at compile time: the tenant column's
    /// name and the key type (`AnyKey` for a global table).
    fn table_impl(&self, code: &mut Code, body: TokenStream) {
        let table = self.table;
        let p = self.p_text();
        code.text("#[automatically_derived] impl")
            .text(p)
            .text("::__private_v0_1::SealedTable for")
            .splice(table.ident)
            .group(Delimiter::Brace, |code| {
                code.text("const SQL_TENANT_COLUMN: ::core::option::Option<&'static str> =");
                match table.tenant() {
                    Some(tenant) => {
                        code.text(&format!(
                            "{p}::__private_v0_1::Some({:?}); type SqlKey =",
                            tenant.column_name()
                        ))
                        .splice(tenant.ty)
                        .text(";");
                    }
                    None => {
                        code.text(&format!(
                            "{p}::__private_v0_1::None; type SqlKey = {p}::__private_v0_1::AnyKey;"
                        ));
                    }
                }
            });
        code.text("#[automatically_derived] impl")
            .text(p)
            .text("::Table for")
            .splice(table.ident)
            .group(Delimiter::Brace, |code| {
                code.text(&format!("#[inline] fn meta() -> &'static {p}::TableMeta"))
                    .group(Delimiter::Brace, |code| {
                        code.splice(body);
                    });
            });
    }

    /// The metadata, built once in a static. Its constructor checks every
    /// name with the library's identifier rule when the static is
    /// evaluated, at compile time.
    fn meta_body(&self) -> TokenStream {
        let table = self.table;
        let p = self.p_text();
        let ident_name = table.ident.unraw().to_string();
        let mut code = Code::default();
        code.text(&format!(
            "static __TENANCY_META: {p}::TableMeta = {p}::__private_v0_1::table"
        ))
        .group(Delimiter::Parenthesis, |code| {
            code.text("::core::concat!(::core::module_path!(), \"::\",")
                .str(&ident_name)
                .text("),");
            match &table.attrs.schema {
                Some(schema) => code
                    .text(&format!("{p}::__private_v0_1::Some("))
                    .str(&schema.value.value())
                    .text("),"),
                None => code.text(&format!("{p}::__private_v0_1::None,")),
            };
            code.str(&table.name()).text(",");
            match table.tenant() {
                Some(tenant) => {
                    let key = tenant.ty;
                    let column = tenant.column_name();
                    let p = self.p_at(key.span());
                    code.splice(quote_spanned! {key.span()=>
                        #p::__private_v0_1::Some(#p::__private_v0_1::tenant::<#key>(#column))
                    });
                }
                None => {
                    code.text(&format!("{p}::__private_v0_1::None"));
                }
            }
            code.text(&format!(", &{p}::__private_v0_1::columns"))
                .group(Delimiter::Parenthesis, |code| {
                    code.group(Delimiter::Bracket, |code| {
                        for field in table.columns() {
                            self.column_spec(code, field);
                            code.text(",");
                        }
                    });
                });
            let mut indexes = String::from(", &[");
            for index in &table.attrs.indexes {
                indexes.push_str("&[");
                for column in index.fields.iter().filter_map(|ident| table.field(ident)) {
                    indexes.push_str(&format!("{:?},", column.column_name()));
                }
                indexes.push_str("],");
            }
            indexes.push(']');
            code.text(&indexes);
        })
        .text("; &__TENANCY_META");
        code.finish()
    }

    /// One column's `ColumnSpec` tuple, its type's trait bounds spanned at
    /// the field's type so that a type without a column mapping is reported
    /// there.
    fn column_spec(&self, code: &mut Code, field: &Field<'_>) {
        let p = self.p_text();
        let ty = field.ty;
        let attrs = &field.attrs;
        code.group(Delimiter::Parenthesis, |code| {
            code.str(&field.column_name())
                .text(",")
                .str(&field.name())
                .text(",");
            match &attrs.sql_type {
                Some(sql_type) => {
                    code.text(&format!("{p}::SqlType::Custom("))
                        .str(&sql_type.value.value())
                        .text(&format!("), {},", field.is_option()));
                }
                None => {
                    let p = self.p_at(ty.span());
                    code.splice(quote_spanned! {ty.span()=>
                        <#ty as #p::ColumnType>::SQL_TYPE, <#ty as #p::ColumnType>::NULLABLE,
                    });
                }
            }
            let flags = [
                (attrs.primary_key.is_some(), "PRIMARY_KEY"),
                (attrs.unique.is_some(), "UNIQUE"),
                (attrs.index.is_some(), "INDEXED"),
                (attrs.generated.is_some(), "GENERATED"),
            ]
            .into_iter()
            .filter(|(set, _)| *set)
            .map(|(_, flag)| format!("{p}::__private_v0_1::{flag}"))
            .collect::<Vec<_>>();
            if flags.is_empty() {
                code.text("0,");
            } else {
                code.text(&flags.join(" | ")).text(",");
            }
            match &attrs.references {
                Some(references) => {
                    let target = &references.value;
                    let p = self.p_at(target.span());
                    code.splice(quote_spanned! {target.span()=>
                        #p::__private_v0_1::Some(<#target as #p::Table>::meta),
                    });
                }
                None => {
                    code.text(&format!("{p}::__private_v0_1::None,"));
                }
            }
            match &attrs.pii {
                Some(pii) => {
                    let variant = match &pii.value {
                        PiiAttr::Default => "Default".to_owned(),
                        PiiAttr::Null => "Null".to_owned(),
                        PiiAttr::Redacted => "Redacted".to_owned(),
                        PiiAttr::Function(name) => format!("Function({name:?})"),
                    };
                    code.text(&format!("{p}::__private_v0_1::Some({p}::Pii::{variant})"));
                }
                None => {
                    code.text(&format!("{p}::__private_v0_1::None"));
                }
            }
        });
    }

    /// `impl TenantScoped` with the key type, or `impl GlobalTable`
    /// (each sealed).
    fn scope_impl(&self) -> TokenStream {
        let table = self.table;
        let p = self.p_text();
        let ident = table.ident;
        let mut code = Code::default();
        match table.tenant() {
            Some(tenant) => {
                let key = tenant.ty;
                let p_key = self.p_at(key.span());
                code.text("#[automatically_derived] impl")
                    .text(p)
                    .text("::__private_v0_1::SealedTenantScoped for")
                    .splice(ident)
                    .text("{}")
                    .splice(quote_spanned! {key.span()=>
                        #[automatically_derived]
                        impl #p_key::TenantScoped for #ident {
                            type Key = #key;
                        }
                    });
            }
            None => {
                code.text("#[automatically_derived] impl")
                    .text(p)
                    .text("::__private_v0_1::SealedGlobalTable for")
                    .splice(ident)
                    .text("{} #[automatically_derived] impl")
                    .text(p)
                    .text("::GlobalTable for")
                    .splice(ident)
                    .text("{}");
            }
        }
        code.finish()
    }

    /// `impl InsertRow`: every column the application supplies (not the
    /// tenant column, whose value is the witness's, nor generated ones).
    /// Mapped types convert through `ColumnType`, so a type without a
    /// mapping is reported once, by `ColumnType`; types with a verbatim
    /// `sql_type` convert with `From`.
    fn insert_row_impl(&self, code: &mut Code, body: TokenStream) {
        let ident = self.table.ident;
        let p = self.p_text();
        code.text("#[automatically_derived] impl")
            .text(p)
            .text("::__private_v0_1::SealedInsertRow for")
            .splice(ident)
            .text("{} #[automatically_derived] impl")
            .text(p)
            .text("::InsertRow for")
            .splice(ident)
            .group(Delimiter::Brace, |code| {
                code.text(&format!(
                    "#[inline] fn insert_values(&self) -> ::std::vec::Vec<(&'static str, {p}::__private_v0_1::Value)>"
                ))
                .group(Delimiter::Brace, |code| {
                    code.splice(body);
                });
            });
    }

    fn insert_values_body(&self) -> TokenStream {
        let table = self.table;
        let values = table
            .columns()
            .filter(|field| field.attrs.generated.is_none())
            .map(|field| {
                let column = field.column_name();
                let member = field.ident;
                let ty = field.ty;
                // Spanned at the type too: a field type that is not `Clone`
                // is reported on the field, not on the attribute.
                let value = quote_spanned!(ty.span()=> ::core::clone::Clone::clone(&self.#member));
                let p = self.p_at(ty.span());
                match field.attrs.sql_type {
                    Some(_) => quote_spanned! {ty.span()=>
                        (#column, #p::__private_v0_1::Value::from(#value))
                    },
                    None => quote_spanned! {ty.span()=>
                        (#column, <#ty as #p::ColumnType>::into_value(#value))
                    },
                }
            });
        quote! {
            ::std::vec![#(#values),*]
        }
    }

    /// The column constants and the statement entry points.
    fn inherent_impl(&self, code: &mut Code) {
        let ident = self.table.ident;
        // Unique by constant name: two fields named alike are an error of
        // their own, not a second definition of the constant.
        let mut names = Vec::new();
        let fields = self
            .table
            .fields
            .iter()
            .filter(|field| !field.is_skipped())
            .filter(|field| {
                let name = field.const_ident().to_string();
                let first = !names.contains(&name);
                names.push(name);
                first
            })
            .collect::<Vec<_>>();
        // The constants and entry points are a menu: a program uses some.
        code.text("#[automatically_derived] #[allow(dead_code)] impl")
            .splice(ident)
            .group(Delimiter::Brace, |code| {
                for field in fields {
                    self.column_constant(code, field);
                }
                match (self.table.kind, self.table.tenant()) {
                    (Kind::TenantScoped, Some(_)) => self.scoped_entry_points(code),
                    // Only in stand-ins: without a tenant column there is no key.
                    (Kind::TenantScoped, None) => {}
                    (Kind::Global, _) => self.global_entry_points(code),
                }
            });
    }

    fn column_constant(&self, code: &mut Code, field: &Field<'_>) {
        let table = self.table;
        let p = self.p_text();
        let constant = field.const_ident();
        let column = field.column_name();
        let table_name = table.name();
        if table.is_tenant(field) {
            let doc = format!(
                " The tenant column `{column}` of `{table_name}`. It can be selected and ordered by, \
                 never assigned or compared: its value is always the witness's."
            );
            code.text("#[doc =")
                .str(&doc)
                .text("] pub const")
                .splice(constant)
                .text(&format!(
                    ": {p}::TenantColumn<Self> = {p}::__private_v0_1::tenant_column_constant("
                ))
                .str(&column)
                .text(");");
            return;
        }
        let field_name = field.name();
        let doc = if column == field_name {
            format!(" The `{column}` column of `{table_name}`.")
        } else {
            format!(" The `{column}` column of `{table_name}`, read into field `{field_name}`.")
        };
        code.text("#[doc =")
            .str(&doc)
            .text("] pub const")
            .splice(constant)
            .text(&format!(": {p}::Column<Self,"))
            .splice(field.ty)
            .text(&format!("> = {p}::__private_v0_1::column_constant("))
            .str(&column)
            .text(");");
    }

    fn scoped_entry_points(&self, code: &mut Code) {
        let table = self.table;
        let p = self.p_text();
        let name = table.name();
        let tenant_column = table.tenant().map(Field::column_name).unwrap_or_default();
        let select = format!(
            " Starts a SELECT on `{name}` that sees only `tenant`'s rows: the statement always \
             carries `{name}.{tenant_column} = $n`, bound to the tenant's key."
        );
        let insert = format!(
            " Starts an INSERT into `{name}` for `tenant`: every row's `{tenant_column}` is the \
             tenant's key, never a value taken from the row."
        );
        let update = format!(
            " Starts an UPDATE on `{name}` that can change only `tenant`'s rows; \
             `{tenant_column}` itself cannot be assigned."
        );
        let delete = format!(" Starts a DELETE on `{name}` that can remove only `tenant`'s rows.");
        // Spanned at the key type: if that type is no tenant key, the
        // signatures report it there, next to `TenantScoped`'s own error.
        let key_span = table
            .tenant()
            .map_or_else(Span::call_site, |tenant| tenant.ty.span());
        let p_key = self.p_at(key_span);
        let witness = quote_spanned! {key_span=>
            &impl #p_key::TenantWitness<<Self as #p_key::TenantScoped>::Key>
        };
        for (doc, function, builder) in [
            (select, "select", "Select"),
            (insert, "insert", "Insert"),
            (update, "update", "Update"),
            (delete, "delete", "Delete"),
        ] {
            code.text("#[doc =")
                .str(&doc)
                .text(&format!("] pub fn {function}"))
                .group(Delimiter::Parenthesis, |code| {
                    code.text("tenant:").splice(&witness);
                })
                .text(&format!(
                    "-> {p}::{builder}<Self> {{ {p}::{builder}::scoped(tenant) }}"
                ));
        }
    }

    fn global_entry_points(&self, code: &mut Code) {
        let p = self.p_text();
        let name = self.table.name();
        for (verb, function, builder) in [
            ("a SELECT on", "select", "Select"),
            ("an INSERT into", "insert", "Insert"),
            ("an UPDATE on", "update", "Update"),
            ("a DELETE on", "delete", "Delete"),
        ] {
            let doc = format!(
                " Starts {verb} `{name}`, a global table shared by all tenants: no tenant is involved."
            );
            code.text("#[doc =").str(&doc).text(&format!(
                "] #[inline] pub fn {function}() -> {p}::{builder}<Self> {{ {p}::{builder}::global() }}"
            ));
        }
    }
}

/// `tokens` with every token, nested ones included, at `span`.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut respanned = Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                token = TokenTree::Group(respanned);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}
