//! Built statements: SQL text plus bound values, and the scope they were built in.

use crate::tenant::KeyValue;

/// The SQL dialect to render for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL: `$n` placeholders.
    Postgres,
    /// SQLite: `?` placeholders.
    Sqlite,
}

/// Whom a statement was built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatementScope {
    /// One tenant: every scoped table reference carries `tenant_col = $n`
    /// bound to this key.
    Tenant(KeyValue),
    /// All tenants, under a [`CrossTenant`](crate::CrossTenant) capability.
    AllTenants,
    /// Only global tables: no tenant involved.
    Global,
}

/// A built statement: SQL with placeholders, the values bound to them, and
/// the scope it was built in, which executors compare with their own before
/// sending anything.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// The SQL text, with placeholders for every value.
    pub sql: String,
    /// The bound values, in placeholder order.
    pub values: sea_query::Values,
    /// Whom the statement was built for.
    pub scope: StatementScope,
}

/// A statement builder that executors accept.
///
/// Implemented by the builders of this crate only (it is sealed): an executor
/// taking `impl BuildStatement` cannot be handed hand-written SQL.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a statement built by tenancy",
    label = "expected a scoped statement builder such as `Order::select(&tenant)`",
    note = "hand-written SQL goes through the transaction's raw connection (`tx.raw_connection()` in tenancy-sqlx), which still runs under the transaction's tenant context"
)]
pub trait BuildStatement: sealed::Sealed {
    /// Whom the statement is for.
    fn scope(&self) -> StatementScope;
    /// Renders the statement for a dialect.
    fn build(&self, dialect: Dialect) -> Result<Statement, crate::BuildError>;

    /// Renders the statement for PostgreSQL (`$n` placeholders).
    fn to_postgres(&self) -> Result<Statement, crate::BuildError> {
        self.build(Dialect::Postgres)
    }

    /// Renders the statement for SQLite (`?` placeholders).
    fn to_sqlite(&self) -> Result<Statement, crate::BuildError> {
        self.build(Dialect::Sqlite)
    }
}

pub(crate) mod sealed {
    pub trait Sealed {}
}
