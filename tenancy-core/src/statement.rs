//! Built statements: SQL text plus bound values, the scope they were built
//! in, and the tables they touch.

use core::fmt;

use crate::ident::Identifier;
use crate::meta::TableMeta;
use crate::tenant::KeyValue;

/// The SQL dialect to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL: `$n` placeholders; tables declared without a schema are
    /// in `public` unless the statement is built for another schema.
    Postgres,
    /// SQLite: `?` placeholders; tables declared without a schema are in
    /// `main`, the database SQLite opened, so a `TEMP` table of the same
    /// name cannot capture a statement.
    Sqlite,
}

static PUBLIC: Identifier = Identifier::PUBLIC;
static MAIN: Identifier = Identifier::MAIN;

impl Dialect {
    /// The schema [`BuildStatement::build`] puts tables declared without one
    /// in: `public` on PostgreSQL, `main` on SQLite.
    ///
    /// ```
    /// use tenancy_core::Dialect;
    ///
    /// assert_eq!(Dialect::Postgres.default_schema().as_str(), "public");
    /// assert_eq!(Dialect::Sqlite.default_schema().as_str(), "main");
    /// ```
    #[must_use]
    pub fn default_schema(self) -> &'static Identifier {
        match self {
            Dialect::Postgres => &PUBLIC,
            Dialect::Sqlite => &MAIN,
        }
    }
}

/// Whom a statement was built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatementScope {
    /// One tenant: every scoped table reference carries `tenant_col = $n`
    /// bound to this key.
    Tenant(KeyValue),
    /// All tenants, under a [`CrossTenant`](crate::CrossTenant) capability.
    AllTenants,
    /// Only global tables: no tenant involved.
    Global,
}

/// A built statement: SQL with placeholders, the values bound to them, the
/// scope it was built in (which executors compare with their own before
/// sending anything), and every table it references.
///
/// Only the builders make one; its parts are read-only.
///
/// ```
/// # include!("../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Order::select(&tenant)
///     .filter(Order::CUSTOMER_ID.in_subquery(Customer::ID.subquery(Customer::NAME.eq("ACME"))))
///     .to_postgres()?;
/// assert!(statement.sql().starts_with(r#"SELECT "orders"."tenant_id""#));
/// assert_eq!(statement.values().0.len(), 3);
/// let tables: Vec<_> = statement.tables().iter().map(|table| table.name).collect();
/// assert_eq!(tables, ["orders", "customers"]);
/// let (sql, values) = statement.into_parts();
/// # let _ = (sql, values);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Statement {
    sql: String,
    values: sea_query::Values,
    scope: StatementScope,
    tables: Vec<&'static TableMeta>,
}

impl Statement {
    pub(crate) fn new(
        sql: String,
        values: sea_query::Values,
        scope: StatementScope,
        tables: Vec<&'static TableMeta>,
    ) -> Self {
        Statement {
            sql,
            values,
            scope,
            tables,
        }
    }

    /// The SQL text, with a placeholder for every value.
    #[must_use]
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The bound values, in placeholder order.
    #[must_use]
    pub fn values(&self) -> &sea_query::Values {
        &self.values
    }

    /// Whom the statement was built for.
    #[must_use]
    pub fn scope(&self) -> StatementScope {
        self.scope
    }

    /// Every distinct table the statement references anywhere (`FROM`,
    /// `JOIN`, subqueries at any depth, the target of a write), in the
    /// order they first appear. An executor can refuse a statement on a
    /// table its registry describes differently or does not know.
    #[must_use]
    pub fn tables(&self) -> &[&'static TableMeta] {
        &self.tables
    }

    /// The SQL text and the values, for binding and sending.
    #[must_use]
    pub fn into_parts(self) -> (String, sea_query::Values) {
        (self.sql, self.values)
    }
}

impl fmt::Debug for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tables: Vec<String> = self.tables.iter().map(|t| t.qualified_name()).collect();
        f.debug_struct("Statement")
            .field("sql", &self.sql)
            .field("values", &self.values)
            .field("scope", &self.scope)
            .field("tables", &tables)
            .finish()
    }
}

/// Statements are equal when they send the same SQL with the same values
/// for the same scope; tables are compared by identity.
impl PartialEq for Statement {
    fn eq(&self, other: &Self) -> bool {
        self.sql == other.sql
            && self.values == other.values
            && self.scope == other.scope
            && self.tables.len() == other.tables.len()
            && self
                .tables
                .iter()
                .zip(&other.tables)
                .all(|(a, b)| core::ptr::eq(*a, *b))
    }
}

/// A statement builder that executors accept.
///
/// Implemented by the builders of this crate and by the statements of
/// `tenant_sql!` only (it is sealed): an executor taking `impl
/// BuildStatement` cannot be handed SQL that was not checked.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a statement built by tenancy",
    label = "expected a scoped statement builder such as `Order::select(&tenant)`",
    note = "write SQL the builder cannot say with `tenant_sql!(&tenant, \"..\")`, which checks at compile time that it is confined to the tenant",
    note = "other hand-written SQL goes through the transaction's raw connection (`tx.raw_connection()` in tenancy-sqlx), which still runs under the transaction's tenant context"
)]
pub trait BuildStatement: sealed::Sealed {
    /// Whom the statement is for.
    fn scope(&self) -> StatementScope;

    /// Writes the statement for a dialect, with every table declared
    /// without a schema qualified by `schema` (the schema of the place the
    /// statement runs: the adapter passes its transaction's).
    fn build_in(
        &self,
        dialect: Dialect,
        schema: &Identifier,
    ) -> Result<Statement, crate::BuildError>;

    /// Writes the statement for a dialect, tables declared without a schema
    /// qualified by the dialect's [default schema](Dialect::default_schema).
    fn build(&self, dialect: Dialect) -> Result<Statement, crate::BuildError> {
        self.build_in(dialect, dialect.default_schema())
    }

    /// Writes the statement for PostgreSQL (`$n` placeholders, tables in
    /// `public` unless declared elsewhere).
    fn to_postgres(&self) -> Result<Statement, crate::BuildError> {
        self.build(Dialect::Postgres)
    }

    /// Writes the statement for SQLite (`?` placeholders, tables in `main`
    /// unless declared elsewhere).
    fn to_sqlite(&self) -> Result<Statement, crate::BuildError> {
        self.build(Dialect::Sqlite)
    }
}

pub(crate) mod sealed {
    pub trait Sealed {}
}
