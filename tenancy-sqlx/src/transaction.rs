//! A transaction opened for one tenant.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx_core::transaction::TransactionManager;
use tenancy_core::{BuildStatement, Statement, TenantId, TenantKey};

use crate::backend::{Backend, DefaultBackend};
use crate::execute::{AllRows, Fetch, FirstRow, RowsAffected, Runner, execute_text};
use crate::setting::SettingName;
use crate::{DecodeRow, Error};

/// A database transaction whose tenant context is set: every statement it
/// runs is checked against its tenant before anything is sent, and on
/// PostgreSQL the row-level security policies filter by the same tenant.
///
/// Made by [`TenantPool::begin`](crate::TenantPool::begin). It ends with
/// [`commit`](Self::commit) or [`rollback`](Self::rollback); dropping it
/// rolls back (the rollback is queued and sent before the connection is
/// reused), so an early `?` return or a panic never commits half the work.
///
/// The tenant setting is transaction-local: when the transaction ends, it is
/// gone, and the next borrower of the connection sees no tenant.
#[must_use = "a transaction that is dropped rolls back; call `commit().await`"]
pub struct TenantTransaction<K: TenantKey = i64, DB: Backend = DefaultBackend> {
    connection: PoolConnection<DB>,
    tenant: TenantId<K>,
    setting: Arc<SettingName>,
    /// Still open on the server: dropping must roll back.
    open: bool,
    /// The raw connection was handed out: raw SQL may have left session state.
    raw_used: bool,
    /// A statement failed on a backend where that aborts the transaction:
    /// `commit` would silently roll back, so it reports the abort instead.
    aborted: bool,
}

impl<K: TenantKey, DB: Backend> TenantTransaction<K, DB> {
    pub(crate) fn new(
        connection: PoolConnection<DB>,
        tenant: TenantId<K>,
        setting: Arc<SettingName>,
    ) -> Self {
        TenantTransaction {
            connection,
            tenant,
            setting,
            open: true,
            raw_used: false,
            aborted: false,
        }
    }

    /// The tenant this transaction runs for. Build its statements with it.
    #[must_use]
    pub fn tenant(&self) -> &TenantId<K> {
        &self.tenant
    }

    /// Runs a query and decodes every row with [`sqlx::FromRow`].
    ///
    /// A statement built for another tenant, or across all tenants, is
    /// refused before anything is sent ([`Error::TenantMismatch`],
    /// [`Error::CrossTenantInTenantTransaction`]).
    pub fn fetch_all<'t, R: DecodeRow<DB> + 't>(
        &'t mut self,
        statement: impl BuildStatement,
    ) -> impl Future<Output = Result<Vec<R>, Error>> + Send + 't {
        let prepared = Runner::Tenant(self.tenant.key_value()).prepare::<DB>(&statement);
        self.run::<AllRows<R>>(prepared)
    }

    /// Runs a query and decodes its first row; no row is an error
    /// (`sqlx::Error::RowNotFound`, wrapped in [`Error::Database`]).
    pub fn fetch_one<'t, R: DecodeRow<DB> + 't>(
        &'t mut self,
        statement: impl BuildStatement,
    ) -> impl Future<Output = Result<R, Error>> + Send + 't {
        let row = self.fetch_optional(statement);
        async move { row.await?.ok_or(Error::Database(sqlx::Error::RowNotFound)) }
    }

    /// Runs a query and decodes its first row, if there is one.
    pub fn fetch_optional<'t, R: DecodeRow<DB> + 't>(
        &'t mut self,
        statement: impl BuildStatement,
    ) -> impl Future<Output = Result<Option<R>, Error>> + Send + 't {
        let prepared = Runner::Tenant(self.tenant.key_value()).prepare::<DB>(&statement);
        self.run::<FirstRow<R>>(prepared)
    }

    /// Runs a statement and returns the number of rows it affected.
    pub async fn execute(&mut self, statement: impl BuildStatement) -> Result<u64, Error> {
        let prepared = Runner::Tenant(self.tenant.key_value()).prepare::<DB>(&statement);
        self.run::<RowsAffected>(prepared).await
    }

    /// The one body of the statement methods, given the statement checked
    /// and built (`Runner::prepare`). Not an `async fn`: the statement is
    /// checked and built before the future exists, and the future is
    /// declared `Send` here, so callers in spawned tasks (or axum handlers)
    /// need not prove it through the higher-ranked `FromRow` bound, which
    /// the compiler cannot yet do (rust-lang/rust#100013).
    fn run<'t, F: Fetch<DB> + 't>(
        &'t mut self,
        prepared: Result<Statement, Error>,
    ) -> impl Future<Output = Result<F::Output, Error>> + Send + 't {
        let connection = &mut self.connection;
        let aborted = &mut self.aborted;
        async move {
            let result = F::fetch(connection, prepared?).await;
            // A server error aborts the whole transaction on PostgreSQL:
            // `commit` must not report success for work it discarded.
            if DB::ERROR_ABORTS_TRANSACTION && matches!(result, Err(sqlx::Error::Database(_))) {
                *aborted = true;
            }
            Ok(result?)
        }
    }

    /// The connection inside the transaction, for SQL the builder cannot
    /// express (`sqlx::query!`, hand-written SQL).
    ///
    /// Raw SQL runs under this transaction's tenant context, so on
    /// PostgreSQL row-level security still applies; the builder's tenant
    /// predicate does not: the SQL is yours. On SQLite, which has no
    /// row-level security, nothing filters raw SQL: it sees every tenant's
    /// rows. Do not end the transaction from
    /// raw SQL (`COMMIT`, `ROLLBACK`); use [`commit`](Self::commit) and
    /// [`rollback`](Self::rollback).
    ///
    /// Raw SQL can also leave state on the connection that outlives the
    /// transaction and would reach the next borrower, another tenant. So a
    /// transaction that handed out its raw connection cleans up when it ends
    /// (one extra round trip): on PostgreSQL it resets the tenant setting,
    /// drops temporary tables and closes cursors (`CLOSE ALL; DISCARD TEMP;
    /// RESET app.tenant_id`); if it is dropped instead, it closes the
    /// connection rather than return it to the pool. Other session state is
    /// not reset: change settings and roles with `SET LOCAL`, which ends
    /// with the transaction, never with `SET`.
    pub fn raw_connection(&mut self) -> &mut DB::Connection {
        self.raw_used = true;
        &mut self.connection
    }

    /// Commits the transaction.
    ///
    /// On PostgreSQL, a statement that failed through this transaction aborts
    /// it, and the server would answer `COMMIT` with a rollback: `commit`
    /// then rolls back and returns [`Error::TransactionAborted`] rather than
    /// `Ok`, so failed work is never reported as saved. (Errors of raw SQL
    /// run through [`raw_connection`](Self::raw_connection) are not seen
    /// here.)
    pub async fn commit(mut self) -> Result<(), Error> {
        if self.aborted {
            let tenant = self.tenant.key_value();
            self.rollback().await?;
            return Err(Error::TransactionAborted { tenant });
        }
        <DB::TransactionManager as TransactionManager>::commit(&mut self.connection).await?;
        self.open = false;
        self.clear_raw_session_state().await;
        Ok(())
    }

    /// Rolls the transaction back.
    pub async fn rollback(mut self) -> Result<(), Error> {
        <DB::TransactionManager as TransactionManager>::rollback(&mut self.connection).await?;
        self.open = false;
        self.clear_raw_session_state().await;
        Ok(())
    }

    /// After raw SQL, clears the session state it may have left for the next
    /// borrower (the backend's `reset_statement`); if that fails, the
    /// connection is closed rather than reused.
    async fn clear_raw_session_state(&mut self) {
        if !self.raw_used {
            return;
        }
        let reset = DB::reset_statement(&self.setting);
        if let Err(error) = execute_text::<DB>(&mut self.connection, reset).await {
            tracing::warn!(
                target: "tenancy::pool",
                %error,
                "could not reset the session after raw SQL; closing the connection"
            );
            self.connection.close_on_drop();
        }
    }
}

impl<K: TenantKey, DB: Backend> Drop for TenantTransaction<K, DB> {
    fn drop(&mut self) {
        // Read before queueing the rollback: on SQLite a queued rollback
        // lowers the depth only once its worker thread has run it, and a
        // depth read after it raced that thread and closed healthy
        // connections.
        let depth =
            <DB::TransactionManager as TransactionManager>::get_transaction_depth(&self.connection);
        let expected = usize::from(self.open);
        if self.open {
            // Queues ROLLBACK; the pool sends it before anyone reuses the
            // connection (sqlx pings every returned connection).
            <DB::TransactionManager as TransactionManager>::start_rollback(&mut self.connection);
            if self.raw_used {
                // No round trip is possible here to reset what raw SQL may
                // have set at session level: do not reuse the connection.
                self.connection.close_on_drop();
            }
        }
        // Raw SQL can leave sqlx counting a transaction after ours ended (a
        // savepoint whose guard was leaked): the server is then still inside
        // it, tenant set. sqlx's local count costs no round trip to read, and
        // this guards pools made elsewhere (`from_pool`), which lack the
        // release check of pools this crate builds.
        if depth != expected {
            tracing::warn!(
                target: "tenancy::pool",
                "closing a connection that raw SQL left inside a transaction"
            );
            self.connection.close_on_drop();
        }
    }
}

impl<K: TenantKey, DB: Backend> core::fmt::Debug for TenantTransaction<K, DB> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TenantTransaction")
            .field("tenant", &self.tenant)
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}
