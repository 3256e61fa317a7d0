//! The owner pool: migrations, RLS set-up and cross-tenant statements, under
//! the [`CrossTenant`] capability.

use core::future::Future;
use std::sync::Arc;

use sqlx::Connection;
#[cfg(feature = "postgres")]
use sqlx::postgres::PgPoolOptions;
use tenancy_core::ddl::TableSet;
use tenancy_core::{BuildStatement, CrossTenant, Statement};

use crate::backend::{Backend, DefaultBackend};
use crate::execute::{AllRows, Fetch, FirstRow, RowsAffected, Runner, execute_text};
use crate::{DecodeRow, Error};
#[cfg(feature = "postgres")]
use crate::{
    Postgres,
    audit::{self, Finding, FindingKind},
    citus::{self, Distribution},
    drift::{self, Drift},
    manifest::Manifest,
    rls::RlsPolicy,
    search_path,
};

/// A pool for the role that owns the tables: for migrations, the RLS DDL and
/// statements across all tenants (erasure, exports, analytics).
///
/// It is deliberately not a [`TenantPool`](crate::TenantPool): it cannot open
/// tenant transactions, it is made only with a [`CrossTenant`] capability
/// (whose creation is logged with its reason), and every statement it runs is
/// logged on target `tenancy::cross_tenant` with that reason.
///
/// Row-level security is forced on tenant tables, on the owner too, and no
/// role needs `BYPASSRLS` for anything the library does: the generated
/// policies include one for the role that applies them
/// ([`rls::OWNER_POLICY_NAME`](crate::rls::OWNER_POLICY_NAME)), so the owner
/// sees the rows of the tenant its transaction sets and, without one, no
/// row at all. Work on a tenant's rows (erasure, export) runs one
/// transaction per tenant with the tenant set; a statement across all
/// tenants sees nothing. DDL is not affected by policies.
///
/// It may connect through a transaction-mode pooler (PgBouncer): each of
/// its statements runs in a transaction of its own as the unnamed prepared
/// statement, and the schema methods ([`apply_schema`](Self::apply_schema),
/// [`apply_rls`](Self::apply_rls), [`verify`](Self::verify)) close the
/// statements they prepared before their transaction ends, so none is left
/// on a server connection that another client uses next, nor expected on
/// one that does not have it.
///
/// ```no_run
/// # async fn run(tables: tenancy_sqlx::ddl::TableSet) -> Result<(), tenancy_sqlx::Error> {
/// use tenancy_sqlx::{CrossTenant, OwnerPool, rls::RlsPolicy};
///
/// let owner = OwnerPool::connect(
///     "postgres://owner@localhost/shop",
///     CrossTenant::with_reason("deploy: migrations and RLS policies")?,
/// )
/// .await?;
/// owner.apply_schema(&tables, &RlsPolicy::for_role("app")?).await?;
/// # Ok(()) }
/// ```
///
/// On SQLite (feature `sqlite`) there are no roles and no row-level
/// security: the owner pool creates the tables with plain DDL and runs
/// cross-tenant statements, under the same capability and logging.
pub struct OwnerPool<DB: Backend = DefaultBackend> {
    pool: sqlx::Pool<DB>,
    reason: Arc<str>,
    /// The registered tables its statements may touch.
    tables: Arc<TableSet>,
}

impl<DB: Backend> Clone for OwnerPool<DB> {
    fn clone(&self) -> Self {
        OwnerPool {
            pool: self.pool.clone(),
            reason: Arc::clone(&self.reason),
            tables: Arc::clone(&self.tables),
        }
    }
}

impl<DB: Backend> core::fmt::Debug for OwnerPool<DB> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OwnerPool")
            .field("pool", &self.pool)
            .field("reason", &self.reason)
            .field("tables", &self.tables)
            .finish()
    }
}

#[cfg(feature = "postgres")]
impl OwnerPool<Postgres> {
    /// Connects to the database at `url` as the owner role.
    pub async fn connect(url: &str, capability: CrossTenant) -> Result<Self, Error> {
        let pool = PgPoolOptions::new().connect(url).await?;
        Ok(Self::from_pool(pool, capability))
    }

    /// Creates the tables (`CREATE TABLE/INDEX IF NOT EXISTS`, every key led
    /// by the tenant column: [`ddl`](crate::ddl)) and protects them with the
    /// RLS DDL ([`RlsPolicy::statements`]), in one transaction: either all of
    /// it happens or none. Safe to run again.
    ///
    /// It never alters a table that exists. So that a changed struct cannot
    /// go unnoticed until its first insert fails, it first compares the
    /// existing tables with the registered ones ([`drift`](crate::drift))
    /// and, if they differ in a way its DDL cannot repair (a missing or
    /// changed column, key or foreign key, an extra `NOT NULL` column
    /// without a default: [`Drift::blocks_apply`]), changes nothing and
    /// returns [`Error::SchemaDrift`] with each difference and the SQL that
    /// repairs it. Missing tables and indexes it creates; RLS and the
    /// policy it applies again.
    ///
    /// PostgreSQL enum types ([`pg_enum!`](crate::pg_enum)) it creates
    /// before the tables, in their declared schema or else the set's; to a
    /// type that exists it adds each label declared since, in its declared
    /// place (`ALTER TYPE .. ADD VALUE .. BEFORE/AFTER`, which PostgreSQL 12
    /// and later run in the transaction: the label is usable once it has
    /// committed). A label the type has and the enum does not declare, or
    /// labels in another order, it refuses as drift
    /// ([`Change::EnumLabelExtra`](crate::drift::Change::EnumLabelExtra),
    /// [`Change::EnumLabelOrder`](crate::drift::Change::EnumLabelOrder)):
    /// PostgreSQL can neither drop nor reorder labels, and rows may hold
    /// them.
    ///
    /// On a Citus coordinator it then distributes the tables as
    /// [`Distribution::default`](crate::citus::Distribution) lays them out
    /// (every global table a reference table); to distribute the tenants
    /// table by its key, use [`apply_distributed_schema`](Self::apply_distributed_schema).
    ///
    /// Then, in the same transaction, it checks its own result with the
    /// catalog checks of [`audit::verify`], and if anything leaves a table
    /// protected otherwise than the library would protect it — a
    /// permissive policy of another name that widens what tenants see, a
    /// privilege granted by hand beyond the generated grants (`TRUNCATE`,
    /// writes to a global table), a key that does not lead with the tenant,
    /// an application role that can create objects — it rolls everything
    /// back and returns [`Error::SchemaNotProtected`] with each finding and
    /// its fix. Drift it leaves alone by design (a nullable column or a key
    /// the struct does not declare) is no reason to.
    pub async fn apply_schema(&self, tables: &TableSet, policy: &RlsPolicy) -> Result<(), Error> {
        self.apply_distributed_schema(tables, policy, &Distribution::default())
            .await
    }

    /// [`apply_schema`](Self::apply_schema), and on a Citus coordinator the
    /// statements of `distribution` ([`Distribution::statements`]) in the
    /// same transaction: tenant tables distributed by their tenant column in
    /// one colocation group, global tables as reference tables, and
    /// `citus.propagate_set_commands = 'local'` for the database. On a
    /// server without Citus, `distribution` is not used.
    pub async fn apply_distributed_schema(
        &self,
        tables: &TableSet,
        policy: &RlsPolicy,
        distribution: &Distribution,
    ) -> Result<(), Error> {
        let manifest = Manifest::new(tables, policy)?;
        let mut connection = self.pool.acquire().await?;
        let mut tx = connection.begin().await?;
        let applied = self
            .apply_in(&mut tx, tables, &manifest, distribution)
            .await;
        end_transaction(tx, applied).await
    }

    /// The body of [`apply_distributed_schema`](Self::apply_distributed_schema),
    /// in its transaction: an error rolls it back.
    async fn apply_in(
        &self,
        tx: &mut sqlx::PgConnection,
        tables: &TableSet,
        manifest: &Manifest,
        distribution: &Distribution,
    ) -> Result<(), Error> {
        search_path::pin(tx, tables.schema(Postgres::DIALECT)).await?;
        let drifted = drift::detect(tx, manifest, None).await?;
        let blocking: Vec<Finding> = drifted
            .iter()
            .filter(|drift| drift.blocks_apply())
            .map(Drift::finding)
            .collect();
        if !blocking.is_empty() {
            return Err(Error::SchemaDrift { findings: blocking });
        }
        // What the DDL leaves alone by design; what it creates must be there.
        let tolerated: Vec<Finding> = drifted
            .iter()
            .map(Drift::finding)
            .filter(|finding| {
                !matches!(
                    finding.kind,
                    FindingKind::TableMissing
                        | FindingKind::IndexMissing
                        | FindingKind::EnumTypeMissing
                        | FindingKind::EnumLabelMissing
                )
            })
            .collect();
        // Labels declared since the type was created. PostgreSQL adds them
        // inside this transaction, where nothing uses them before commit.
        let mut statements = drifted
            .iter()
            .filter_map(|drift| drift::add_label_statement(drift.change()))
            .collect::<Result<Vec<_>, _>>()?;
        statements.extend(manifest.schema_statements());
        if citus::is_coordinator(tx).await? {
            // Distributing tables with foreign keys to reference tables in
            // the transaction that created them needs one connection per
            // worker. And a table with a foreign key to a new reference
            // table must not become a Citus local table: identity columns
            // cannot be converted from one.
            execute_text::<Postgres>(
                tx,
                "SET LOCAL citus.multi_shard_modify_mode TO 'sequential'; \
                 SET LOCAL citus.enable_local_reference_table_foreign_keys TO off"
                    .to_owned(),
            )
            .await?;
            statements.extend(distribution.statements(tables)?);
        }
        self.log_and_run(tx, statements).await?;
        let findings: Vec<Finding> = audit::verify(tx, manifest, None)
            .await?
            .into_iter()
            .filter(|finding| !tolerated.contains(finding))
            .collect();
        if !findings.is_empty() {
            return Err(Error::SchemaNotProtected { findings });
        }
        Ok(())
    }

    /// Runs only the RLS DDL ([`RlsPolicy::statements`]) in one transaction,
    /// for tables your own migrations create. Safe to run again. The DDL
    /// names tables declared without a schema bare: they are the set's
    /// schema's, with `search_path` pinned to it for the transaction.
    pub async fn apply_rls(&self, tables: &TableSet, policy: &RlsPolicy) -> Result<(), Error> {
        let statements = policy.statements(tables)?;
        let mut connection = self.pool.acquire().await?;
        let mut tx = connection.begin().await?;
        let applied = async {
            search_path::pin(&mut tx, tables.schema(Postgres::DIALECT)).await?;
            self.log_and_run(&mut tx, statements).await
        }
        .await;
        end_transaction(tx, applied).await
    }

    /// Checks the live catalog for `tables` ([`audit::verify_tables`]):
    /// row-level security, the policy reading the set's tenant setting,
    /// tenant-led keys and indexes, and drift from the tables' generated
    /// DDL.
    pub async fn verify(&self, tables: &TableSet) -> Result<Vec<Finding>, Error> {
        let mut connection = self.pool.acquire().await?;
        let mut tx = connection.begin().await?;
        let findings = audit::verify_tables(&mut tx, tables).await;
        end_transaction(tx, findings).await
    }
}

impl<DB: Backend> OwnerPool<DB> {
    /// Wraps an existing pool of the owner role. It holds no registered
    /// tables until [`with_tables`](Self::with_tables) gives it the
    /// application's, and refuses every built statement until then.
    #[must_use]
    pub fn from_pool(pool: sqlx::Pool<DB>, capability: CrossTenant) -> Self {
        OwnerPool {
            pool,
            reason: capability.reason().into(),
            tables: Arc::new(TableSet::new()),
        }
    }

    /// The application's registered tables, which the pool's statements
    /// ([`fetch_all`](Self::fetch_all), [`execute`](Self::execute), ...)
    /// are checked against, as a tenant transaction's are: a statement on a
    /// table the set does not hold ([`Error::UnregisteredTable`]) or
    /// describes with another type ([`Error::TableRegisteredDifferently`])
    /// is refused before anything is sent. Tables declared without a schema
    /// are qualified by the set's schema.
    #[must_use]
    pub fn with_tables(mut self, tables: &TableSet) -> Self {
        self.tables = Arc::new(tables.clone());
        self
    }

    /// The registered tables its statements are checked against.
    #[must_use]
    pub fn tables(&self) -> &TableSet {
        &self.tables
    }

    /// The underlying pool, for migrations (`sqlx::migrate!`) and raw SQL
    /// that runs as the owner, outside any tenant.
    #[must_use]
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// Why this pool exists, as stated by the capability it was made with.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Runs DDL statements in one transaction, each logged on target
    /// `tenancy::cross_tenant` with the capability's reason.
    pub(crate) async fn run_ddl(&self, statements: Vec<String>) -> Result<(), Error> {
        let mut connection = self.pool.acquire().await?;
        let mut tx = connection.begin().await?;
        let ran = self.log_and_run(&mut tx, statements).await;
        end_transaction(tx, ran).await
    }

    /// Runs DDL statements on `connection`, each logged on target
    /// `tenancy::cross_tenant` with the capability's reason.
    async fn log_and_run(
        &self,
        connection: &mut DB::Connection,
        statements: impl IntoIterator<Item = String>,
    ) -> Result<(), Error> {
        for statement in statements {
            tracing::info!(target: "tenancy::cross_tenant", reason = %self.reason, %statement, "schema change");
            execute_text::<DB>(connection, statement).await?;
        }
        Ok(())
    }

    /// Runs a cross-tenant or global query and decodes every row.
    pub fn fetch_all<'p, R: DecodeRow<DB> + 'p>(
        &'p self,
        statement: impl BuildStatement,
    ) -> impl Future<Output = Result<Vec<R>, Error>> + Send + 'p {
        self.run::<AllRows<R>>(self.prepared(&statement))
    }

    /// Runs a cross-tenant or global query and decodes its first row, if any.
    pub fn fetch_optional<'p, R: DecodeRow<DB> + 'p>(
        &'p self,
        statement: impl BuildStatement,
    ) -> impl Future<Output = Result<Option<R>, Error>> + Send + 'p {
        self.run::<FirstRow<R>>(self.prepared(&statement))
    }

    /// Runs a cross-tenant or global statement; returns the rows affected.
    pub async fn execute(&self, statement: impl BuildStatement) -> Result<u64, Error> {
        self.run::<RowsAffected>(self.prepared(&statement)).await
    }

    /// `statement` checked and built for the registered tables, in their
    /// schema.
    fn prepared(&self, statement: &impl BuildStatement) -> Result<Statement, Error> {
        Runner::CrossTenant.prepare::<DB>(&self.tables, statement, self.tables.schema(DB::DIALECT))
    }

    /// The one body of the statement methods, given the statement checked
    /// and built (`Runner::prepare`): a statement built for a single
    /// tenant is refused (those run in a tenant transaction, where
    /// RLS backs up the builder's predicate), and every statement that runs
    /// is logged with the capability's reason and its SQL, whose values are
    /// placeholders. Not an `async fn`, for the reason given at
    /// `TenantTransaction::fetch_all`.
    ///
    /// Each statement runs in a transaction of its own, as the unnamed
    /// prepared statement. Behind a transaction-mode pooler (PgBouncer)
    /// consecutive transactions of one client run on different server
    /// connections, and clients share them: a named statement sqlx cached
    /// may be missing on the next one, or clash with another client's of
    /// the same name; and the unnamed one, parsed and executed in two
    /// exchanges, needs the transaction to keep both on one server
    /// connection.
    #[allow(
        clippy::manual_async_fn,
        reason = "an `async fn` here trips rust-lang/rust#100013 in the callers"
    )]
    fn run<'p, F: Fetch<DB> + 'p>(
        &'p self,
        prepared: Result<Statement, Error>,
    ) -> impl Future<Output = Result<F::Output, Error>> + Send + 'p {
        async move {
            let statement = prepared?;
            tracing::info!(
                target: "tenancy::cross_tenant",
                reason = %self.reason,
                sql = %statement.sql(),
                "cross-tenant statement"
            );
            let mut connection = self.pool.acquire().await?;
            let mut tx = connection.begin().await?;
            let output = F::fetch(&mut tx, statement.into_parts(), false)
                .await
                .map_err(Error::from_execution::<DB>)?;
            tx.commit().await?;
            Ok(output)
        }
    }
}

/// Ends `tx`, committing it when `result` is `Ok` and rolling it back
/// otherwise, after closing the named statements sqlx prepared in it (the
/// catalog queries of drift detection and the audit) on the server
/// connection the transaction still holds. Behind a transaction-mode
/// pooler none is then left there for another client's statement of the
/// same name to clash with, nor kept in the cache of a connection whose
/// next transaction runs on another server connection.
async fn end_transaction<DB: Backend, T>(
    mut tx: sqlx::Transaction<'_, DB>,
    result: Result<T, Error>,
) -> Result<T, Error> {
    let closed = tx.clear_cached_statements().await;
    match result {
        Ok(value) => {
            closed?;
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            // The error the body met is the one to report; the rollback
            // also happens when `tx` is dropped.
            tx.rollback().await.ok();
            Err(error)
        }
    }
}
