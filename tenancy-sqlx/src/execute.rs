//! The one place built statements are admitted and executed, for tenant
//! transactions and the owner pool alike: the scope check, building for the
//! backend's dialect and the registered tables' schema, the registry check,
//! and running with sqlx.

use core::future::Future;
use core::marker::PhantomData;

use sqlx::{AssertSqlSafe, Executor};
use tenancy_core::ddl::{Registration, TableSet, describe_difference};
use tenancy_core::{BuildStatement, KeyValue, Statement, StatementScope, TableMeta};

use crate::backend::Backend;
use crate::ident::Identifier;
use crate::{DecodeRow, Error};

/// Who runs a statement, and so which scopes it admits.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Runner {
    /// A transaction of this tenant: the tenant's own statements and
    /// statements on global tables only.
    Tenant(KeyValue),
    /// The owner pool, under a cross-tenant capability: statements across
    /// all tenants and on global tables, never one tenant's (those run in a
    /// tenant transaction, where RLS backs the predicate up).
    CrossTenant,
}

impl Runner {
    /// Checks the statement's scope, builds it for `DB` with tables declared
    /// without a schema in `schema` (the schema of the place it runs: the
    /// registered tables', or a tenant's own), and checks what was built,
    /// which is what is sent: its scope, and that every table it references
    /// is one `tables` holds, described by the very type the statement was
    /// built from. Nothing reaches the server for a statement refused here.
    pub(crate) fn prepare<DB: Backend>(
        self,
        tables: &TableSet,
        statement: &impl BuildStatement,
        schema: &Identifier,
    ) -> Result<Statement, Error> {
        self.admit(statement.scope())?;
        let built = statement.build_in(DB::DIALECT, schema)?;
        self.admit(built.scope())?;
        for &table in built.tables() {
            registered(tables, table, schema.as_str())?;
        }
        Ok(built)
    }

    fn admit(self, scope: StatementScope) -> Result<(), Error> {
        match (self, scope) {
            (_, StatementScope::Global) | (Runner::CrossTenant, StatementScope::AllTenants) => {
                Ok(())
            }
            (Runner::Tenant(transaction), StatementScope::Tenant(statement))
                if statement == transaction =>
            {
                Ok(())
            }
            (Runner::Tenant(transaction), StatementScope::Tenant(statement)) => {
                Err(Error::TenantMismatch {
                    statement,
                    transaction,
                })
            }
            (Runner::Tenant(transaction), StatementScope::AllTenants) => {
                Err(Error::CrossTenantInTenantTransaction { transaction })
            }
            (Runner::CrossTenant, StatementScope::Tenant(statement)) => {
                Err(Error::TenantStatementOnOwnerPool { statement })
            }
        }
    }
}

/// Refuses `table` unless `tables` holds it. A table the set does not know
/// may have no row-level security at all (only registered tables get it
/// from `apply_schema`, and only they are audited); one the set knows under
/// another type is scoped differently from what its policy enforces.
fn registered(tables: &TableSet, table: &'static TableMeta, schema: &str) -> Result<(), Error> {
    let name = || format!("{}.{}", table.schema_or(schema), table.name);
    match tables.registration(table)? {
        Registration::Registered => Ok(()),
        Registration::RegisteredAs(known) => Err(Error::TableRegisteredDifferently {
            table: name(),
            type_name: table.type_name,
            registered: known.type_name,
            difference: describe_difference(known, table),
        }),
        Registration::Unregistered => Err(Error::UnregisteredTable {
            table: name(),
            type_name: table.type_name,
        }),
    }
}

/// What running a statement yields: every row, the first row, or the
/// number of rows affected. One generic body per kind, for every backend.
pub(crate) trait Fetch<DB: Backend> {
    /// The result.
    type Output: Send;

    /// Runs `statement` on `connection`, as a named prepared statement that
    /// sqlx caches when `persistent`, else as the unnamed one, which lives
    /// only until the next statement (behind a transaction-mode pooler a
    /// named statement may be missing on, or clash with, the server
    /// connection of the next transaction).
    fn fetch<'c>(
        connection: &'c mut DB::Connection,
        statement: (String, sea_query::Values),
        persistent: bool,
    ) -> impl Future<Output = Result<Self::Output, sqlx::Error>> + Send + 'c
    where
        Self: 'c;
}

/// Every row, decoded as `R`.
pub(crate) struct AllRows<R>(PhantomData<fn() -> R>);

/// The first row, if any, decoded as `R`.
pub(crate) struct FirstRow<R>(PhantomData<fn() -> R>);

/// The number of rows affected.
pub(crate) struct RowsAffected;

impl<DB: Backend, R: DecodeRow<DB>> Fetch<DB> for AllRows<R> {
    type Output = Vec<R>;

    fn fetch<'c>(
        connection: &'c mut DB::Connection,
        (sql, values): (String, sea_query::Values),
        persistent: bool,
    ) -> impl Future<Output = Result<Vec<R>, sqlx::Error>> + Send + 'c
    where
        Self: 'c,
    {
        sqlx::query_as_with(AssertSqlSafe(sql), DB::values(values))
            .persistent(persistent)
            .fetch_all(DB::executor(connection))
    }
}

impl<DB: Backend, R: DecodeRow<DB>> Fetch<DB> for FirstRow<R> {
    type Output = Option<R>;

    fn fetch<'c>(
        connection: &'c mut DB::Connection,
        (sql, values): (String, sea_query::Values),
        persistent: bool,
    ) -> impl Future<Output = Result<Option<R>, sqlx::Error>> + Send + 'c
    where
        Self: 'c,
    {
        sqlx::query_as_with(AssertSqlSafe(sql), DB::values(values))
            .persistent(persistent)
            .fetch_optional(DB::executor(connection))
    }
}

impl<DB: Backend> Fetch<DB> for RowsAffected {
    type Output = u64;

    async fn fetch<'c>(
        connection: &'c mut DB::Connection,
        (sql, values): (String, sea_query::Values),
        persistent: bool,
    ) -> Result<u64, sqlx::Error>
    where
        Self: 'c,
    {
        let done = sqlx::query_with(AssertSqlSafe(sql), DB::values(values))
            .persistent(persistent)
            .execute(DB::executor(connection))
            .await?;
        Ok(DB::rows_affected(&done))
    }
}

/// Runs SQL text with no parameters (generated DDL, session resets) as one
/// simple query.
pub(crate) async fn execute_text<DB: Backend>(
    connection: &mut DB::Connection,
    sql: String,
) -> Result<(), sqlx::Error> {
    DB::executor(connection).execute(AssertSqlSafe(sql)).await?;
    Ok(())
}
