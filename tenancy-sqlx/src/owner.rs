//! The owner pool: migrations, RLS set-up and cross-tenant statements, under
//! the [`CrossTenant`] capability.

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Acquire, AssertSqlSafe, Executor};
use tenancy_core::ddl::TableSet;
use tenancy_core::{BuildStatement, CrossTenant, Statement, StatementScope};

use crate::backend::Backend;
use crate::audit::{self, Finding};
use crate::rls::RlsPolicy;
use crate::setting::SettingName;
use crate::{Error, Postgres};

/// A pool for the role that owns the tables: for migrations, the RLS DDL and
/// statements across all tenants (erasure, exports, analytics).
///
/// It is deliberately not a [`TenantPool`](crate::TenantPool): it cannot open
/// tenant transactions, it is made only with a [`CrossTenant`] capability
/// (whose creation is logged with its reason), and every statement it runs is
/// logged on target `tenancy::cross_tenant` with that reason.
///
/// Row-level security is forced on tenant tables, so the owner role sees
/// rows only if it skips the policies: give the role that runs cross-tenant
/// reads `BYPASSRLS`, and keep it out of the application's configuration.
/// DDL is not affected by policies.
///
/// ```no_run
/// # async fn run(tables: tenancy_sqlx::ddl::TableSet) -> Result<(), tenancy_sqlx::Error> {
/// use tenancy_sqlx::{CrossTenant, OwnerPool, rls::RlsPolicy};
///
/// let owner = OwnerPool::connect(
///     "postgres://owner@localhost/shop",
///     CrossTenant::with_reason("deploy: migrations and RLS policies"),
/// )
/// .await?;
/// owner.apply_schema(&tables, &RlsPolicy::for_role("app")?).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OwnerPool {
    pool: PgPool,
    reason: std::sync::Arc<str>,
}

impl OwnerPool {
    /// Connects to the database at `url` as the owner role.
    pub async fn connect(url: &str, capability: CrossTenant) -> Result<Self, Error> {
        let pool = PgPoolOptions::new().connect(url).await?;
        Ok(Self::from_pool(pool, capability))
    }

    /// Wraps an existing pool of the owner role.
    #[must_use]
    pub fn from_pool(pool: PgPool, capability: CrossTenant) -> Self {
        OwnerPool {
            pool,
            reason: capability.reason().into(),
        }
    }

    /// The underlying pool, for migrations (`sqlx::migrate!`) and raw SQL
    /// that runs as the owner, outside any tenant.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Why this pool exists, as stated by the capability it was made with.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Creates the tables (`CREATE TABLE/INDEX IF NOT EXISTS`, every key led
    /// by the tenant column: [`ddl`](crate::ddl)) and protects them with the
    /// RLS DDL ([`RlsPolicy::statements`]), in one transaction: either all of
    /// it happens or none. Safe to run again.
    pub async fn apply_schema(&self, tables: &TableSet, policy: &RlsPolicy) -> Result<(), Error> {
        let mut statements = tables.create_statements(Postgres::DIALECT)?;
        statements.extend(policy.statements(tables)?);
        self.run_ddl(statements).await
    }

    /// Runs only the RLS DDL ([`RlsPolicy::statements`]) in one transaction,
    /// for tables your own migrations create. Safe to run again.
    pub async fn apply_rls(&self, tables: &TableSet, policy: &RlsPolicy) -> Result<(), Error> {
        let statements = policy.statements(tables)?;
        self.run_ddl(statements).await
    }

    /// Checks the live catalog for `tables` ([`audit::verify_tables`]).
    pub async fn verify(&self, tables: &TableSet, setting: &SettingName) -> Result<Vec<Finding>, Error> {
        let mut connection = self.pool.acquire().await?;
        audit::verify_tables(&mut connection, tables, setting).await
    }

    /// Runs DDL statements in one transaction.
    async fn run_ddl(&self, statements: Vec<String>) -> Result<(), Error> {
        let mut connection = self.pool.acquire().await?;
        let mut tx = connection.begin().await?;
        for statement in statements {
            tracing::info!(target: "tenancy::cross_tenant", reason = %self.reason, %statement, "schema change");
            tx.execute(AssertSqlSafe(statement)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Runs a cross-tenant or global query and decodes every row.
    pub async fn fetch_all<R>(&self, statement: impl BuildStatement) -> Result<Vec<R>, Error>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        let statement = self.prepare(&statement)?;
        let mut connection = self.pool.acquire().await?;
        Ok(Postgres::fetch_all(&mut connection, statement).await?)
    }

    /// Runs a cross-tenant or global query and decodes its first row, if any.
    pub async fn fetch_optional<R>(
        &self,
        statement: impl BuildStatement,
    ) -> Result<Option<R>, Error>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        let statement = self.prepare(&statement)?;
        let mut connection = self.pool.acquire().await?;
        Ok(Postgres::fetch_optional(&mut connection, statement).await?)
    }

    /// Runs a cross-tenant or global statement; returns the rows affected.
    pub async fn execute(&self, statement: impl BuildStatement) -> Result<u64, Error> {
        let statement = self.prepare(&statement)?;
        let mut connection = self.pool.acquire().await?;
        Ok(Postgres::execute(&mut connection, statement).await?)
    }

    /// Builds a statement, refusing one built for a single tenant: those run
    /// in a tenant transaction, where RLS backs up the builder's predicate.
    fn prepare(&self, statement: &impl BuildStatement) -> Result<Statement, Error> {
        Self::check_scope(statement.scope())?;
        let built = statement.build(Postgres::DIALECT)?;
        Self::check_scope(built.scope)?;
        tracing::info!(
            target: "tenancy::cross_tenant",
            reason = %self.reason,
            sql = %built.sql,
            "cross-tenant statement"
        );
        Ok(built)
    }

    fn check_scope(scope: StatementScope) -> Result<(), Error> {
        match scope {
            StatementScope::AllTenants | StatementScope::Global => Ok(()),
            StatementScope::Tenant(statement) => {
                Err(Error::TenantStatementOnOwnerPool { statement })
            }
            other => Err(Error::UnknownScope {
                scope: format!("{other:?}"),
            }),
        }
    }
}
