//! Statements written as SQL text with `tenant_sql!`, for what the builder
//! cannot say.
//!
//! The macro checked the text when the program was compiled: every
//! reference to a tenant table is confined by `<alias>.<tenant column> =
//! $tenant`, tables are named by their Rust types, and nothing in it can
//! change or escape the tenant context. What is left for run time is
//! writing it, and that goes through the same [`SqlWriter`] as the
//! builder's statements: the checked text as it was written, each table as
//! the schema-qualified name its metadata gives, and each parameter as a
//! placeholder bound in the same call. No value and no name reaches the
//! text any other way.

pub(crate) mod support;

use core::fmt;

use sea_query::Value;

use crate::BuildError;
use crate::ident::Identifier;
use crate::meta::TableMeta;
use crate::query::writer::SqlWriter;
use crate::statement::{BuildStatement, Dialect, Statement, StatementScope, sealed};
use crate::tenant::{KeyValue, TenantId, TenantKey};

/// One piece of a checked statement, in the order of its text.
#[derive(Clone, Copy, Debug)]
pub enum Piece {
    /// SQL text as the macro checked it.
    Text(&'static str),
    /// A table, written as its schema-qualified name.
    Table(fn() -> &'static TableMeta),
    /// `$tenant`: a placeholder bound to the witness's key.
    Tenant,
    /// `$name`: a placeholder bound to the value of the named parameter at
    /// this index.
    Param(usize),
}

/// A statement's text, checked when the program was compiled, with `N`
/// named parameters. Made by `tenant_sql!` only, in a `static`, where
/// [`new`](Self::new) checks that every parameter slot has a value.
#[derive(Debug)]
pub struct SqlTemplate<const N: usize> {
    body: TemplateBody,
}

/// A [`SqlTemplate`] without its parameter count.
#[derive(Debug)]
pub(crate) struct TemplateBody {
    /// The SQL as written in the macro (`{Type}` tables, `$name` parameters).
    source: &'static str,
    pieces: &'static [Piece],
    /// The named parameters, in order of first appearance.
    params: &'static [&'static str],
    /// Why the text cannot run on SQLite (the line, a caret and what to do),
    /// if it cannot.
    postgres_only: Option<&'static str>,
    read_only: bool,
}

impl<const N: usize> SqlTemplate<N> {
    /// A template. Panics, in the `static` that holds it and so at compile
    /// time, if a parameter slot has no value: values are then bound by
    /// index without a check.
    #[must_use]
    pub const fn new(
        source: &'static str,
        pieces: &'static [Piece],
        params: &'static [&'static str; N],
        postgres_only: Option<&'static str>,
        read_only: bool,
    ) -> Self {
        let mut at = 0;
        while at < pieces.len() {
            if let Piece::Param(index) = pieces[at] {
                assert!(
                    index < N,
                    "tenancy: a parameter slot of a `tenant_sql!` template has no value"
                );
            }
            at += 1;
        }
        SqlTemplate {
            body: TemplateBody {
                source,
                pieces,
                params,
                postgres_only,
                read_only,
            },
        }
    }
}

/// A statement written as SQL with `tenant_sql!`, for one tenant.
///
/// The macro checked its text when the program was compiled: every
/// reference to a tenant table, in every `FROM`, `JOIN`, subquery, `WITH`
/// query and as the target of `INSERT`, `UPDATE` or `DELETE`, is confined
/// by a top-level conjunct `<alias>.<tenant column> = $tenant`; tables are
/// named by their Rust types, so it is written with each table's
/// schema-qualified name from its metadata; `$tenant` is bound to the key
/// of the witness it was made with, and every other parameter to its value,
/// always as a placeholder.
///
/// Like the builder's statements it implements [`BuildStatement`]: its
/// [scope](BuildStatement::scope) is the witness's tenant, so a tenant
/// transaction runs it only for that tenant, and
/// [`Statement::tables`] lists the tables it names.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tenancy_core::{BuildStatement, Dialect, Identifier, StatementScope, TenantId, tenant_sql};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let big_spenders = tenant_sql!(
///     &tenant,
///     "SELECT c.name, sum(o.total) AS spent FROM {Customer} c
///      JOIN {Order} o ON o.tenant_id = $tenant AND o.customer_id = c.id
///      WHERE c.tenant_id = $tenant
///      GROUP BY c.name HAVING sum(o.total) > $least",
///     least = 10_000_i64,
/// );
/// assert_eq!(big_spenders.scope(), StatementScope::Tenant(tenant.key_value()));
/// let statement = big_spenders.build_in(Dialect::Postgres, &Identifier::new("schema", "shop")?)?;
/// assert!(statement.sql().starts_with(
///     r#"SELECT c.name, sum(o.total) AS spent FROM "shop"."customers" c
///      JOIN "shop"."orders" o ON o.tenant_id = $1"#
/// ));
/// assert_eq!(statement.values().0, [7_i64.into(), 7_i64.into(), 10_000_i64.into()]);
/// let tables: Vec<_> = statement.tables().iter().map(|table| table.name).collect();
/// assert_eq!(tables, ["customers", "orders"]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use = "a statement does nothing until a transaction runs it"]
pub struct TenantSql {
    template: &'static TemplateBody,
    tenant: KeyValue,
    /// The witness's key, bound wherever `$tenant` appears.
    key: Value,
    /// One per named parameter, as many as the template has: its
    /// parameter slots index this without a check.
    values: Vec<Value>,
}

impl TenantSql {
    fn new<K: TenantKey, const N: usize>(
        template: &'static SqlTemplate<N>,
        tenant: TenantId<K>,
        values: [Value; N],
    ) -> Self {
        TenantSql {
            template: &template.body,
            tenant: tenant.key_value(),
            key: tenant.key().to_value(),
            values: Vec::from(values),
        }
    }

    /// The SQL as written in the macro: tables as `{Type}`, parameters as
    /// `$name`.
    #[must_use]
    pub fn source(&self) -> &'static str {
        self.template.source
    }

    /// Whether the statement only reads: a `SELECT` without `FOR UPDATE` or
    /// `FOR SHARE` and without data-modifying `WITH` queries. (Functions it
    /// calls are not looked into.)
    #[must_use]
    pub fn is_read_only(&self) -> bool {
        self.template.read_only
    }

    /// Whether the text can run on SQLite: it uses no syntax that SQLite
    /// reads differently from PostgreSQL (a `::` cast, a dollar-quoted or
    /// escape string, an operator with `?`, `@` or `:`, a subscript).
    /// [`build`](BuildStatement::build) for SQLite refuses it otherwise.
    #[must_use]
    pub fn runs_on_sqlite(&self) -> bool {
        self.template.postgres_only.is_none()
    }
}

impl sealed::Sealed for TenantSql {}

impl BuildStatement for TenantSql {
    fn scope(&self) -> StatementScope {
        StatementScope::Tenant(self.tenant)
    }

    fn build_in(&self, dialect: Dialect, schema: &Identifier) -> Result<Statement, BuildError> {
        let template = self.template;
        if let (Dialect::Sqlite, Some(reason)) = (dialect, template.postgres_only) {
            return Err(BuildError::PostgresOnlySql { reason });
        }
        let mut writer = SqlWriter::new(dialect, schema);
        for piece in template.pieces {
            match *piece {
                Piece::Text(text) => writer.checked_sql(text),
                Piece::Table(meta) => writer.table(meta()),
                Piece::Tenant => writer.bind(&self.key)?,
                // In range: `SqlTemplate::new` checked every slot against
                // the number of values, which the type makes equal.
                Piece::Param(index) => writer.bind(&self.values[index])?,
            }
        }
        Ok(writer.finish(self.scope()))
    }
}

impl fmt::Debug for TenantSql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<(&str, &Value)> = self
            .template
            .params
            .iter()
            .copied()
            .zip(&self.values)
            .collect();
        f.debug_struct("TenantSql")
            .field("source", &self.template.source)
            .field("scope", &self.scope())
            .field("params", &params)
            .finish()
    }
}
