//! A transaction opened for one tenant.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx_core::transaction::TransactionManager;
use tenancy_core::ddl::TableSet;
use tenancy_core::{BuildStatement, Statement, TenantId, TenantKey};

use crate::backend::{Backend, DefaultBackend, RawSessionReset};
use crate::execute::{AllRows, Fetch, FirstRow, RowsAffected, Runner, execute_text};
use crate::ident::Identifier;
use crate::limits::Turn;
use crate::pin::Timeouts;
use crate::telemetry::{Outcome, TransactionTrace};
use crate::{DecodeRow, Error};
use tracing::Instrument;

/// A database transaction whose tenant context is set: every statement it
/// runs is checked against its tenant and against the pool's registered
/// tables before anything is sent, and on PostgreSQL the row-level security
/// policies filter by the same tenant.
///
/// Made by [`TenantPool::begin`](crate::TenantPool::begin). It ends with
/// [`commit`](Self::commit) or [`rollback`](Self::rollback); dropping it
/// rolls back (the rollback is queued and sent before the connection is
/// reused), so an early `?` return or a panic never commits half the work.
///
/// The tenant setting is transaction-local: when the transaction ends, it is
/// gone, and the next borrower of the connection sees no tenant.
///
/// `commit` returns `Ok` only if the work was committed. It reports instead
/// a transaction that an error aborted ([`Error::TransactionAborted`]), one
/// that raw SQL ended ([`Error::TransactionEndedByRawSql`]) or left nested
/// transactions in ([`Error::NestedTransactionLeftOpen`]), and one whose
/// statement future was dropped mid-flight ([`Error::StatementCancelled`]).
#[must_use = "a transaction that is dropped rolls back; call `commit().await`"]
pub struct TenantTransaction<K: TenantKey = i64, DB: Backend = DefaultBackend> {
    connection: PoolConnection<DB>,
    tenant: TenantId<K>,
    /// The pool's registered tables: statements are refused on a table
    /// they describe differently or do not hold.
    tables: Arc<TableSet>,
    /// Where tables declared without a schema are: the registered tables'
    /// schema, or the tenant's own in a schema-per-tenant placement.
    schema: Identifier,
    /// Whether statements are sqlx's named, cached prepared statements, or
    /// unnamed ones (behind a transaction-mode pooler).
    persistent: bool,
    state: State,
    /// Its span, which every statement's event is inside.
    trace: TransactionTrace,
    /// The timeouts it opened with, to report the errors they cause.
    timeouts: Timeouts,
    /// Its turn under the pool's per-tenant limits, given back when it
    /// ends (after its connection: fields drop in order).
    _turn: Option<Turn>,
}

/// What a transaction is opened with besides its connection and tenant:
/// its span, the timeouts it was pinned with, and its turn under the
/// pool's per-tenant limits.
pub(crate) struct Opened {
    pub(crate) trace: TransactionTrace,
    pub(crate) timeouts: Timeouts,
    pub(crate) turn: Option<Turn>,
}

/// What the transaction knows about itself, all of it tracked locally.
#[derive(Debug, Default)]
struct State {
    /// Still open on the server: dropping must roll back.
    open: bool,
    /// The raw connection was handed out: raw SQL may have left session state.
    raw_used: bool,
    /// A statement failed on a backend where that aborts the transaction:
    /// `commit` would silently roll back, so it reports the abort instead.
    aborted: bool,
    /// A statement was sent and its future has not finished: if this is
    /// still set when the next statement comes, that future was dropped, and
    /// its answer is still on the way.
    in_flight: bool,
    /// The connection must not be reused: close it when the transaction goes.
    close: bool,
}

impl State {
    /// The transaction is over as far as this side knows, and its connection
    /// is closed rather than reused; the server rolls back whatever is open.
    fn abandon(&mut self) {
        self.open = false;
        self.close = true;
    }
}

/// How the caller wants the transaction to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Commit,
    Rollback,
}

impl<K: TenantKey, DB: Backend> TenantTransaction<K, DB> {
    pub(crate) fn new(
        connection: PoolConnection<DB>,
        tenant: TenantId<K>,
        tables: Arc<TableSet>,
        schema: Identifier,
        persistent: bool,
        opened: Opened,
    ) -> Self {
        TenantTransaction {
            connection,
            tenant,
            tables,
            schema,
            persistent,
            state: State {
                open: true,
                ..State::default()
            },
            trace: opened.trace,
            timeouts: opened.timeouts,
            _turn: opened.turn,
        }
    }

    /// The transaction's `tracing` span (`tenant transaction`, with the
    /// tenant, its isolation model, and at the end the statement count,
    /// the outcome and the duration: [`telemetry`](crate::telemetry)). Built statements
    /// run inside it; instrument raw SQL with it to put sqlx's events of
    /// that SQL there too:
    /// `sqlx::query(..).execute(tx.raw_connection()).instrument(span)`.
    #[must_use]
    pub fn span(&self) -> &tracing::Span {
        self.trace.span()
    }

    /// The tenant this transaction runs for. Build its statements with it.
    #[must_use]
    pub fn tenant(&self) -> &TenantId<K> {
        &self.tenant
    }

    /// The schema the transaction's statements name for tables declared
    /// without one: the pool's, or the tenant's own schema when the tenant
    /// lives in one (its `search_path` is pinned there too).
    #[must_use]
    pub fn schema(&self) -> &Identifier {
        &self.schema
    }

    /// A statement checked against the transaction's tenant and built for
    /// its schema.
    fn prepare(&self, statement: &impl BuildStatement) -> Result<Statement, Error> {
        Runner::Tenant(self.tenant.key_value()).prepare::<DB>(&self.tables, statement, &self.schema)
    }

    /// Runs a query and decodes every row with [`sqlx::FromRow`].
    ///
    /// Refused before anything is sent: a statement built for another
    /// tenant, or across all tenants ([`Error::TenantMismatch`],
    /// [`Error::CrossTenantInTenantTransaction`]), and one on a table that
    /// the pool's [`TableSet`] does not hold ([`Error::UnregisteredTable`])
    /// or describes with another type ([`Error::TableRegisteredDifferently`]:
    /// a `#[global_table]` on a tenant table's name, a second struct with
    /// another tenant column). Tables declared without a schema are
    /// qualified by the transaction's schema ([`schema`](Self::schema)): the set's,
    /// or the tenant's own.
    pub fn fetch_all<'t, R: DecodeRow<DB> + 't>(
        &'t mut self,
        statement: impl BuildStatement,
    ) -> impl Future<Output = Result<Vec<R>, Error>> + Send + 't {
        let prepared = self.prepare(&statement);
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
        let prepared = self.prepare(&statement);
        self.run::<FirstRow<R>>(prepared)
    }

    /// Runs a statement and returns the number of rows it affected.
    pub async fn execute(&mut self, statement: impl BuildStatement) -> Result<u64, Error> {
        let prepared = self.prepare(&statement);
        self.run::<RowsAffected>(prepared).await
    }

    /// The one body of the statement methods, given the statement checked
    /// and built (`Runner::prepare`). Not an `async fn`: the statement is
    /// checked and built before the future exists, and the
    /// future is declared `Send` here, so callers in spawned tasks (or axum
    /// handlers) need not prove it through the higher-ranked `FromRow`
    /// bound, which the compiler cannot yet do (rust-lang/rust#100013).
    fn run<'t, F: Fetch<DB> + 't>(
        &'t mut self,
        prepared: Result<Statement, Error>,
    ) -> impl Future<Output = Result<F::Output, Error>> + Send + 't {
        let persistent = self.persistent;
        self.run_as::<F>(prepared.map(Statement::into_parts), persistent)
    }

    /// Runs SQL the library wrote itself from checked parts — one read-only
    /// `SELECT` that leaves no session state (an ad hoc query confined to
    /// the tenant) — as a built statement runs: traced and counted, a
    /// dropped future noticed, a failure marking the transaction aborted.
    /// Unlike raw SQL it does not make the connection close when the
    /// transaction ends. Sent as the unnamed statement: its text varies.
    #[cfg(feature = "adhoc")]
    pub(crate) fn fetch_library_sql<'t, R: DecodeRow<DB> + 't>(
        &'t mut self,
        sql: String,
        values: sea_query::Values,
    ) -> impl Future<Output = Result<Vec<R>, Error>> + Send + 't {
        self.run_as::<AllRows<R>>(Ok((sql, values)), false)
    }

    /// The body of [`run`](Self::run), given the statement's text and values.
    fn run_as<'t, F: Fetch<DB> + 't>(
        &'t mut self,
        prepared: Result<(String, sea_query::Values), Error>,
        persistent: bool,
    ) -> impl Future<Output = Result<F::Output, Error>> + Send + 't {
        let tenant = self.tenant.key_value();
        let timeouts = self.timeouts;
        let TenantTransaction {
            connection,
            state,
            trace,
            ..
        } = self;
        async move {
            let statement = prepared?;
            if state.in_flight {
                return Err(Error::StatementCancelled { tenant });
            }
            state.in_flight = true;
            trace.statement(&statement.0);
            let span = trace.span().clone();
            let result = F::fetch(connection, statement, persistent)
                .instrument(span)
                .await;
            state.in_flight = false;
            if DB::ERROR_ABORTS_TRANSACTION && matches!(result, Err(sqlx::Error::Database(_))) {
                state.aborted = true;
            }
            match result {
                Err(error) => match timeouts.classify(tenant, error) {
                    Ok(timeout @ Error::IdleInTransactionTimeout { .. }) => {
                        // The server ended the session.
                        state.abandon();
                        Err(timeout)
                    }
                    Ok(timeout) => Err(timeout),
                    Err(error) => Err(Error::from_execution::<DB>(error)),
                },
                Ok(output) => Ok(output),
            }
        }
    }

    /// The connection inside the transaction, for SQL the builder cannot
    /// express (`sqlx::query!`, hand-written SQL).
    ///
    /// Raw SQL runs under this transaction's tenant context, so on
    /// PostgreSQL row-level security still applies; the builder's tenant
    /// predicate does not: the SQL is yours. On SQLite, which has no
    /// row-level security, nothing filters raw SQL: it sees every tenant's
    /// rows. SQL that calls `set_config` on the tenant setting itself
    /// changes the tenant the policies filter by.
    ///
    /// Do not end the transaction from raw SQL (`COMMIT`, `ROLLBACK`): use
    /// [`commit`](Self::commit) and [`rollback`](Self::rollback), which
    /// report a transaction that raw SQL ended
    /// ([`Error::TransactionEndedByRawSql`]) or whose raw statement failed
    /// and aborted it ([`Error::TransactionAborted`]).
    ///
    /// Raw SQL can also leave state on the connection that outlives the
    /// transaction and would reach the next borrower, another tenant, so a
    /// transaction that handed out its raw connection cleans up as it ends.
    /// On PostgreSQL, one more round trip, inside the transaction just before
    /// `COMMIT` or `ROLLBACK` (so that behind a transaction-mode pooler it
    /// reaches the server connection the raw SQL ran on): the role
    /// (`RESET ROLE`), every setting (`RESET ALL`: `search_path`, the tenant
    /// setting, `row_security`, read-only mode…), cursors, `LISTEN`
    /// channels, advisory locks, temporary tables, sequence values and
    /// prepared statements made with `PREPARE`. Where that cannot run in
    /// place — the transaction was aborted, or raw SQL ended it — the
    /// connection is closed instead of reused, as it is when the transaction
    /// is dropped. On SQLite the connection is always closed after raw SQL:
    /// `TEMP` tables and triggers, attached databases and per-connection
    /// pragmas go with it.
    ///
    /// Settings that every session needs belong in the connection options
    /// (`PgConnectOptions::options`), which the reset returns to.
    pub fn raw_connection(&mut self) -> &mut DB::Connection {
        self.state.raw_used = true;
        &mut self.connection
    }

    /// Commits the transaction, and returns `Ok` only if the server committed
    /// its work.
    ///
    /// On PostgreSQL, a statement that failed through this transaction — a
    /// built one, or raw SQL — aborts it, and the server would answer
    /// `COMMIT` with a rollback: `commit` then rolls back and returns
    /// [`Error::TransactionAborted`] rather than `Ok`, so failed work is
    /// never reported as saved. A statement future dropped mid-flight makes
    /// it return [`Error::StatementCancelled`]; raw SQL that ended the
    /// transaction, [`Error::TransactionEndedByRawSql`]. In each case nothing
    /// is committed.
    pub async fn commit(mut self) -> Result<(), Error> {
        self.end_traced(Ending::Commit).await
    }

    /// Rolls the transaction back. Nothing of it is committed, whatever this
    /// returns, unless raw SQL committed part of it first, which is reported
    /// ([`Error::TransactionEndedByRawSql`]).
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.end_traced(Ending::Rollback).await
    }

    /// Ends a read transaction without waiting: `ROLLBACK` is queued on the
    /// connection, which goes back to the pool; the pool sends it and reads
    /// its answer before anyone else borrows the connection, and closes the
    /// connection instead if that fails. Nothing was written, so there is
    /// nothing to wait for.
    pub(crate) fn end_queued(mut self) {
        self.trace.end(Outcome::Rollback);
        // Drop queues the ROLLBACK, or closes the connection after raw SQL
        // or a dropped statement.
    }

    /// [`end`](Self::end) inside the span, which then records the outcome.
    async fn end_traced(&mut self, ending: Ending) -> Result<(), Error> {
        let span = self.trace.span().clone();
        let ended = self.end(ending).instrument(span).await;
        self.trace.end(match (&ended, ending) {
            (Ok(()), Ending::Commit) => Outcome::Commit,
            (Err(Error::TransactionEndedByRawSql { .. }), _) => Outcome::EndedByRawSql,
            _ => Outcome::Rollback,
        });
        ended
    }

    async fn end(&mut self, ending: Ending) -> Result<(), Error> {
        let tenant = self.tenant.key_value();
        let refused = |error: Error| match ending {
            Ending::Commit => Err(error),
            // Closing the connection rolls back: what was asked for.
            Ending::Rollback => Ok(()),
        };
        if self.state.in_flight {
            // The protocol state is unknown: say nothing more to the server.
            self.state.abandon();
            return refused(Error::StatementCancelled { tenant });
        }
        if self.state.raw_used {
            // Raw SQL may have queued work that changes the depth (a nested
            // transaction dropped on SQLite).
            if let Err(error) = DB::settle(&mut self.connection).await {
                self.state.abandon();
                return refused(Error::Database(error));
            }
        }
        match DB::TransactionManager::get_transaction_depth(&self.connection) {
            1 => {}
            0 => {
                // Raw code ended the transaction through sqlx's own calls.
                self.state.abandon();
                return Err(Error::TransactionEndedByRawSql { tenant });
            }
            depth => {
                self.state.abandon();
                return refused(Error::NestedTransactionLeftOpen { tenant, depth });
            }
        }
        if self.state.raw_used
            && let Some(outcome) = self.reset_raw_session(ending).await
        {
            return outcome;
        }
        if self.state.aborted && ending == Ending::Commit {
            self.finish(Ending::Rollback).await?;
            return Err(Error::TransactionAborted { tenant });
        }
        self.finish(ending).await
    }

    /// Sends `COMMIT` or `ROLLBACK` through sqlx, which keeps its count of
    /// open transactions right.
    async fn finish(&mut self, ending: Ending) -> Result<(), Error> {
        let ended = match ending {
            Ending::Commit => DB::TransactionManager::commit(&mut self.connection).await,
            Ending::Rollback => DB::TransactionManager::rollback(&mut self.connection).await,
        };
        match ended {
            Ok(()) => {
                self.state.open = false;
                Ok(())
            }
            Err(error) => {
                self.state.abandon();
                // SQLite refuses to end a transaction that is not open: raw
                // SQL ended it, or SQLite rolled it back after an error.
                Err(match DB::is_no_transaction(&error) {
                    true if self.state.raw_used => Error::TransactionEndedByRawSql {
                        tenant: self.tenant.key_value(),
                    },
                    true => Error::TransactionAborted {
                        tenant: self.tenant.key_value(),
                    },
                    false => match self.timeouts.classify(self.tenant.key_value(), error) {
                        Ok(timeout) => timeout,
                        Err(error) => Error::Database(error),
                    },
                })
            }
        }
    }

    /// After raw SQL, clears the session state it may have left for the next
    /// borrower, before the transaction ends (see [`Self::raw_connection`]).
    /// Returns the outcome of the whole `commit` or `rollback` when the
    /// transaction cannot continue to its normal end.
    async fn reset_raw_session(&mut self, ending: Ending) -> Option<Result<(), Error>> {
        let tenant = self.tenant.key_value();
        let RawSessionReset::InPlace { check, statements } = DB::RAW_SESSION_RESET else {
            self.state.close = true;
            return None;
        };
        if !self.state.aborted {
            let reset = execute_text::<DB>(&mut self.connection, format!("{check}; {statements}"));
            match reset.await {
                Ok(()) => return None,
                Err(error) if DB::is_aborted_transaction(&error) => self.state.aborted = true,
                Err(error) if DB::is_no_transaction(&error) => {
                    // What raw SQL ran after its COMMIT or ROLLBACK may sit on
                    // another server connection behind a pooler: close.
                    self.state.abandon();
                    return Some(Err(Error::TransactionEndedByRawSql { tenant }));
                }
                Err(error) => {
                    self.state.abandon();
                    return Some(match ending {
                        Ending::Commit => Err(Error::Database(error)),
                        Ending::Rollback => {
                            warn_closing(&error);
                            Ok(())
                        }
                    });
                }
            }
        }
        // Nothing but ROLLBACK runs in an aborted transaction. The reset
        // follows it in the same simple query, so that it reaches the same
        // server connection; the connection is closed all the same.
        let rolled_back =
            execute_text::<DB>(&mut self.connection, format!("ROLLBACK; {statements}")).await;
        self.state.abandon();
        if let Err(error) = &rolled_back {
            warn_closing(error);
        }
        Some(match ending {
            Ending::Commit => Err(Error::TransactionAborted { tenant }),
            Ending::Rollback => Ok(()),
        })
    }
}

fn warn_closing(error: &sqlx::Error) {
    tracing::warn!(
        target: "tenancy::pool",
        %error,
        "could not reset the session after raw SQL; closing the connection"
    );
}

impl<K: TenantKey, DB: Backend> Drop for TenantTransaction<K, DB> {
    fn drop(&mut self) {
        if self.state.open {
            // Queues ROLLBACK; the pool sends it before anyone reuses the
            // connection (sqlx pings every returned connection).
            DB::TransactionManager::start_rollback(&mut self.connection);
            if self.state.raw_used || self.state.in_flight {
                // No round trip is possible here to reset what raw SQL may
                // have set at session level, or to read a dropped
                // statement's answer: do not reuse the connection.
                self.state.close = true;
            }
        }
        // Without raw SQL nothing but this transaction changes sqlx's count
        // of open transactions, so the count is right here; the pool's
        // release check reads it all the same.
        if self.state.close {
            self.connection.close_on_drop();
        }
    }
}

impl<K: TenantKey, DB: Backend> core::fmt::Debug for TenantTransaction<K, DB> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TenantTransaction")
            .field("tenant", &self.tenant)
            .field("open", &self.state.open)
            .finish_non_exhaustive()
    }
}

/// A read-only transaction whose tenant context is set: the tenant's
/// reads, ended without waiting for the server
/// ([`TenantPool::read`](crate::TenantPool::read), PostgreSQL).
///
/// Its statements are checked as a [`TenantTransaction`]'s are (the tenant,
/// the registered tables) and row-level security filters them by the same
/// tenant. It is `BEGIN READ ONLY` on the server: a write fails (SQLSTATE
/// `25006`, in [`Error::Database`]) instead of being rolled back unseen when
/// the read ends. Raw SQL on [`raw_connection`](Self::raw_connection) can
/// undo that with `SET TRANSACTION READ WRITE` before its first query; its
/// writes then stay within the tenant's rows (row-level security) and are
/// rolled back when the read ends, unless it commits them itself: use
/// [`TenantPool::begin`](crate::TenantPool::begin) for work that writes.
///
/// [`end`](Self::end) (or dropping it) ends it at once: `ROLLBACK` is
/// queued on the connection and the connection goes back to the pool,
/// which sends the `ROLLBACK` and reads its answer before it hands the
/// connection to anyone else; if that fails, the connection is closed, not
/// reused. The caller never waits for the server's answer, which saves a
/// round trip over `commit().await`. A write transaction's
/// [`commit`](TenantTransaction::commit) still waits, and reports whether
/// the work was saved.
///
/// A read that handed out its [`raw_connection`](Self::raw_connection), or
/// whose statement future was dropped mid-flight, closes its connection
/// when it ends instead of resetting it in place (which would cost the
/// round trip a read saves): use [`TenantPool::begin`](crate::TenantPool::begin)
/// and [`rollback`](TenantTransaction::rollback) for raw SQL on a
/// connection that should be kept.
#[must_use = "a read holds its connection until it is ended: call `end()`"]
pub struct TenantRead<K: TenantKey = i64, DB: Backend = DefaultBackend> {
    transaction: TenantTransaction<K, DB>,
}

impl<K: TenantKey, DB: Backend> TenantRead<K, DB> {
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))] // PostgreSQL only
    pub(crate) fn new(transaction: TenantTransaction<K, DB>) -> Self {
        TenantRead { transaction }
    }

    /// The tenant this read runs for. Build its statements with it.
    #[must_use]
    pub fn tenant(&self) -> &TenantId<K> {
        self.transaction.tenant()
    }

    /// The schema its statements name for tables declared without one
    /// ([`TenantTransaction::schema`]).
    #[must_use]
    pub fn schema(&self) -> &Identifier {
        self.transaction.schema()
    }

    /// Its `tracing` span, as [`TenantTransaction::span`]'s.
    #[must_use]
    pub fn span(&self) -> &tracing::Span {
        self.transaction.span()
    }

    /// Runs a query and decodes every row, refused before anything is sent
    /// as [`TenantTransaction::fetch_all`] refuses it.
    pub fn fetch_all<'t, R: DecodeRow<DB> + 't>(
        &'t mut self,
        statement: impl BuildStatement,
    ) -> impl Future<Output = Result<Vec<R>, Error>> + Send + 't {
        self.transaction.fetch_all(statement)
    }

    /// Runs a query and decodes its first row; no row is an error
    /// ([`TenantTransaction::fetch_one`]).
    pub fn fetch_one<'t, R: DecodeRow<DB> + 't>(
        &'t mut self,
        statement: impl BuildStatement,
    ) -> impl Future<Output = Result<R, Error>> + Send + 't {
        self.transaction.fetch_one(statement)
    }

    /// Runs a query and decodes its first row, if there is one.
    pub fn fetch_optional<'t, R: DecodeRow<DB> + 't>(
        &'t mut self,
        statement: impl BuildStatement,
    ) -> impl Future<Output = Result<Option<R>, Error>> + Send + 't {
        self.transaction.fetch_optional(statement)
    }

    /// The connection inside the read, for SQL the builder cannot express,
    /// under the read's tenant context and `READ ONLY`
    /// ([`TenantTransaction::raw_connection`]). The connection is closed
    /// when the read ends, not reused: raw SQL may have left session state
    /// that only a reset, one more round trip, would clear.
    pub fn raw_connection(&mut self) -> &mut DB::Connection {
        self.transaction.raw_connection()
    }

    /// Ends the read without waiting for the server: `ROLLBACK` is queued
    /// and the connection returned to the pool, which sends it and reads
    /// its answer before the connection is borrowed again. Dropping the
    /// read does the same.
    pub fn end(self) {
        self.transaction.end_queued();
    }
}

impl<K: TenantKey, DB: Backend> core::fmt::Debug for TenantRead<K, DB> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TenantRead")
            .field("tenant", self.transaction.tenant())
            .finish_non_exhaustive()
    }
}
