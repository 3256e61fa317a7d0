//! Runs the pipeline (parse, check, generate) and quotes the output: the
//! struct without our attributes, plus its impls.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident, Path};

use crate::ast::{Field, Kind, Table};
use crate::attr::{self, PiiAttr};
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
        (Ok(()), Ok(runtime)) => Ok(Generator {
            table: &table,
            p: &runtime,
        }
        .impls()),
        (Err(error), Ok(runtime)) => {
            // Generic structs get none: impls without their parameters
            // would only add errors.
            let stand_ins = if input.generics.params.is_empty() {
                Generator {
                    table: &table,
                    p: &runtime,
                }
                .stand_ins()
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
}

impl Generator<'_> {
    /// The runtime path with every token at `span`. A trait-bound error is
    /// reported at the span of the whole path it arises in; a path whose
    /// first tokens are the macro's own would put it on the attribute
    /// instead of on the user's field.
    fn p_at(&self, span: Span) -> TokenStream {
        respan(self.p.to_token_stream(), span)
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
        let table_impl = self.table_impl(meta_body);
        let insert_row_impl = self.insert_row_impl(insert_values_body);
        let inherent_impl = self.inherent_impl();
        quote! {
            #inherent_impl

            const _: () = {
                #table_impl
                #scope_impl
                #insert_row_impl
            };
        }
    }

    /// `impl Table` (sealed) around `body`, the body of `meta()`. The seal
    /// holds what `tenant_sql!` reads at compile time: the tenant column's
    /// name and the key type (`AnyKey` for a global table).
    fn table_impl(&self, body: TokenStream) -> TokenStream {
        let Generator { table, p } = self;
        let ident = table.ident;
        let (column, key) = match table.tenant() {
            Some(tenant) => {
                let column = tenant.column_name();
                let key = tenant.ty;
                (quote!(#p::__private_v0_1::Some(#column)), quote!(#key))
            }
            None => (
                quote!(#p::__private_v0_1::None),
                quote!(#p::__private_v0_1::AnyKey),
            ),
        };
        quote! {
            #[automatically_derived]
            impl #p::__private_v0_1::SealedTable for #ident {
                const SQL_TENANT_COLUMN: ::core::option::Option<&'static str> = #column;
                type SqlKey = #key;
            }

            #[automatically_derived]
            impl #p::Table for #ident {
                #[inline]
                fn meta() -> &'static #p::TableMeta {
                    #body
                }
            }
        }
    }

    /// The metadata, built once in a static. Its constructor checks every
    /// name with the library's identifier rule when the static is
    /// evaluated, at compile time.
    fn meta_body(&self) -> TokenStream {
        let Generator { table, p } = self;
        let ident = table.ident;
        let ident_name = ident.unraw().to_string();
        let name = table.name();
        let schema = match &table.attrs.schema {
            Some(schema) => {
                let schema = schema.value.value();
                quote!(#p::__private_v0_1::Some(#schema))
            }
            None => quote!(#p::__private_v0_1::None),
        };
        let tenant = match table.tenant() {
            Some(tenant) => {
                let key = tenant.ty;
                let column = tenant.column_name();
                let p = self.p_at(key.span());
                quote_spanned! {key.span()=>
                    #p::__private_v0_1::Some(#p::__private_v0_1::tenant::<#key>(#column))
                }
            }
            None => quote!(#p::__private_v0_1::None),
        };
        let columns = table.columns().map(|field| self.column_spec(field));
        let indexes = table.attrs.indexes.iter().map(|index| {
            let columns = index
                .fields
                .iter()
                .filter_map(|ident| table.field(ident))
                .map(Field::column_name);
            quote!(&[#(#columns),*])
        });
        quote! {
            static __TENANCY_META: #p::TableMeta = #p::__private_v0_1::table(
                ::core::concat!(::core::module_path!(), "::", #ident_name),
                #schema,
                #name,
                #tenant,
                &#p::__private_v0_1::columns([#(#columns),*]),
                &[#(#indexes),*],
            );
            &__TENANCY_META
        }
    }

    /// One column's `ColumnSpec` tuple, its type's trait bounds spanned at
    /// the field's type so that a type without a column mapping is reported
    /// there.
    fn column_spec(&self, field: &Field<'_>) -> TokenStream {
        let p = self.p;
        let ty = field.ty;
        let column = field.column_name();
        let field_name = field.name();
        let (sql_type, nullable) = match &field.attrs.sql_type {
            Some(sql_type) => {
                let sql_type = sql_type.value.value();
                let nullable = field.is_option();
                (quote!(#p::SqlType::Custom(#sql_type)), quote!(#nullable))
            }
            None => {
                let p = self.p_at(ty.span());
                (
                    quote_spanned!(ty.span()=> <#ty as #p::ColumnType>::SQL_TYPE),
                    quote_spanned!(ty.span()=> <#ty as #p::ColumnType>::NULLABLE),
                )
            }
        };
        let attrs = &field.attrs;
        let flags = [
            (attrs.primary_key.is_some(), "PRIMARY_KEY"),
            (attrs.unique.is_some(), "UNIQUE"),
            (attrs.index.is_some(), "INDEXED"),
            (attrs.generated.is_some(), "GENERATED"),
        ]
        .into_iter()
        .filter(|(set, _)| *set)
        .map(|(_, flag)| {
            let flag = Ident::new(flag, Span::call_site());
            quote!(#p::__private_v0_1::#flag)
        })
        .collect::<Vec<_>>();
        let flags = if flags.is_empty() {
            quote!(0)
        } else {
            quote!(#(#flags)|*)
        };
        let references = match &attrs.references {
            Some(references) => {
                let target = &references.value;
                let p = self.p_at(target.span());
                quote_spanned!(target.span()=> #p::__private_v0_1::Some(<#target as #p::Table>::meta))
            }
            None => quote!(#p::__private_v0_1::None),
        };
        let pii = match &attrs.pii {
            Some(pii) => {
                let pii = match &pii.value {
                    PiiAttr::Default => quote!(#p::Pii::Default),
                    PiiAttr::Null => quote!(#p::Pii::Null),
                    PiiAttr::Redacted => quote!(#p::Pii::Redacted),
                    PiiAttr::Function(name) => quote!(#p::Pii::Function(#name)),
                };
                quote!(#p::__private_v0_1::Some(#pii))
            }
            None => quote!(#p::__private_v0_1::None),
        };
        quote! {
            (#column, #field_name, #sql_type, #nullable, #flags, #references, #pii)
        }
    }

    /// `impl TenantScoped` with the key type, or `impl GlobalTable`
    /// (each sealed).
    fn scope_impl(&self) -> TokenStream {
        let Generator { table, p } = self;
        let ident = table.ident;
        match table.tenant() {
            Some(tenant) => {
                let key = tenant.ty;
                let p_key = self.p_at(key.span());
                let tenant_scoped = quote_spanned! {key.span()=>
                    #[automatically_derived]
                    impl #p_key::TenantScoped for #ident {
                        type Key = #key;
                    }
                };
                quote! {
                    #[automatically_derived]
                    impl #p::__private_v0_1::SealedTenantScoped for #ident {}
                    #tenant_scoped
                }
            }
            None => quote! {
                #[automatically_derived]
                impl #p::__private_v0_1::SealedGlobalTable for #ident {}

                #[automatically_derived]
                impl #p::GlobalTable for #ident {}
            },
        }
    }

    /// `impl InsertRow`: every column the application supplies (not the
    /// tenant column, whose value is the witness's, nor generated ones).
    /// Mapped types convert through `ColumnType`, so a type without a
    /// mapping is reported once, by `ColumnType`; types with a verbatim
    /// `sql_type` convert with `From`.
    fn insert_row_impl(&self, body: TokenStream) -> TokenStream {
        let Generator { table, p } = self;
        let ident = table.ident;
        quote! {
            #[automatically_derived]
            impl #p::__private_v0_1::SealedInsertRow for #ident {}

            #[automatically_derived]
            impl #p::InsertRow for #ident {
                #[inline]
                fn insert_values(&self) -> ::std::vec::Vec<(&'static str, #p::__private_v0_1::Value)> {
                    #body
                }
            }
        }
    }

    fn insert_values_body(&self) -> TokenStream {
        let Generator { table, p: _ } = self;
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
    fn inherent_impl(&self) -> TokenStream {
        let ident = self.table.ident;
        // Unique by constant name: two fields named alike are an error of
        // their own, not a second definition of the constant.
        let mut names = Vec::new();
        let constants = self
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
            .map(|field| self.column_constant(field))
            .collect::<Vec<_>>();
        let entry_points = match (self.table.kind, self.table.tenant()) {
            (Kind::TenantScoped, Some(_)) => self.scoped_entry_points(),
            // Only in stand-ins: without a tenant column there is no key.
            (Kind::TenantScoped, None) => TokenStream::new(),
            (Kind::Global, _) => self.global_entry_points(),
        };
        quote! {
            #[automatically_derived]
            // The constants and entry points are a menu: a program uses some.
            #[allow(dead_code)]
            impl #ident {
                #(#constants)*
                #entry_points
            }
        }
    }

    fn column_constant(&self, field: &Field<'_>) -> TokenStream {
        let Generator { table, p } = self;
        let ident = table.ident;
        let constant = field.const_ident();
        let column = field.column_name();
        let table_name = table.name();
        if table.is_tenant(field) {
            let doc = format!(
                " The tenant column `{column}` of `{table_name}`. It can be selected and ordered by, \
                 never assigned or compared: its value is always the witness's."
            );
            return quote! {
                #[doc = #doc]
                pub const #constant: #p::TenantColumn<#ident> =
                    #p::__private_v0_1::tenant_column_constant::<#ident>(#column);
            };
        }
        let field_name = field.name();
        let doc = if column == field_name {
            format!(" The `{column}` column of `{table_name}`.")
        } else {
            format!(" The `{column}` column of `{table_name}`, read into field `{field_name}`.")
        };
        let ty = field.ty;
        quote! {
            #[doc = #doc]
            pub const #constant: #p::Column<#ident, #ty> =
                #p::__private_v0_1::column_constant::<#ident, #ty>(#column);
        }
    }

    fn scoped_entry_points(&self) -> TokenStream {
        let Generator { table, p } = self;
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
        quote! {
            #[doc = #select]
            pub fn select(tenant: #witness) -> #p::Select<Self> {
                #p::Select::scoped(tenant)
            }
            #[doc = #insert]
            pub fn insert(tenant: #witness) -> #p::Insert<Self> {
                #p::Insert::scoped(tenant)
            }
            #[doc = #update]
            pub fn update(tenant: #witness) -> #p::Update<Self> {
                #p::Update::scoped(tenant)
            }
            #[doc = #delete]
            pub fn delete(tenant: #witness) -> #p::Delete<Self> {
                #p::Delete::scoped(tenant)
            }
        }
    }

    fn global_entry_points(&self) -> TokenStream {
        let Generator { table, p } = self;
        let name = table.name();
        let doc = |verb: &str| {
            format!(
                " Starts {verb} `{name}`, a global table shared by all tenants: no tenant is involved."
            )
        };
        let (select, insert, update, delete) = (
            doc("a SELECT on"),
            doc("an INSERT into"),
            doc("an UPDATE on"),
            doc("a DELETE on"),
        );
        quote! {
            #[doc = #select]
            #[inline]
            pub fn select() -> #p::Select<Self> {
                #p::Select::global()
            }
            #[doc = #insert]
            #[inline]
            pub fn insert() -> #p::Insert<Self> {
                #p::Insert::global()
            }
            #[doc = #update]
            #[inline]
            pub fn update() -> #p::Update<Self> {
                #p::Update::global()
            }
            #[doc = #delete]
            #[inline]
            pub fn delete() -> #p::Delete<Self> {
                #p::Delete::global()
            }
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
