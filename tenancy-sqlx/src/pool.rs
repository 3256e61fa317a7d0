//! The pool that hands out tenant transactions.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use sqlx_core::transaction::TransactionManager;
use tenancy_core::ddl::TableSet;
use tenancy_core::{TenantId, TenantKey};

use crate::Error;
use crate::backend::{Backend, DefaultBackend};
use crate::guard::{
    BeginFailed, CloseUnlessBegun, begin_attempt, release_only_outside_transactions,
};
use crate::ident::Identifier;
use crate::limits::{Admission, TenantLimits};
use crate::pin::{Access, Pin, Timeouts, TransactionSettings};
use crate::refusal::Shared;
use crate::setting::SettingName;
use crate::telemetry::{Isolation, TransactionTrace};
use crate::transaction::{Opened, TenantTransaction};
#[cfg(feature = "postgres")]
use crate::{Postgres, execute::execute_text, role::SessionCheck, transaction::TenantRead};
use tracing::Instrument;

/// How a [`TenantPool`] is set up: the application's registered tables
/// (with them the schema of tables declared without one and the setting
/// that carries the tenant), and which roles it accepts.
///
/// The [`TableSet`] is the one place these are configured: the pool sets
/// the tenant in the set's setting, which is the one the policies of
/// [`RlsPolicy::statements`](crate::rls::RlsPolicy::statements) for the
/// same set read, and it runs only statements on the set's tables.
///
/// ```
/// use tenancy_sqlx::ddl::TableSet;
/// use tenancy_sqlx::{SettingName, TenantPoolOptions};
///
/// let tables = TableSet::new().with_setting(SettingName::new("myapp.tenant")?);
/// let options = TenantPoolOptions::new(&tables);
/// assert_eq!(options.table_set().setting().as_str(), "myapp.tenant");
/// # Ok::<(), tenancy_sqlx::Error>(())
/// ```
///
/// A pool for raw SQL only can be made with an empty set: its transactions
/// set the tenant, and refuse every built statement
/// ([`Error::UnregisteredTable`]).
#[derive(Debug, Clone)]
pub struct TenantPoolOptions {
    tables: TableSet,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    accept_bypassing_role: Option<String>,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    accept_creating_role: Option<String>,
    settings: TransactionSettings,
    transaction_pooler: bool,
    limits: Option<TenantLimits>,
}

impl TenantPoolOptions {
    /// A pool of `tables`: its transactions run statements on these tables
    /// only, and on PostgreSQL it refuses to connect as a role that owns any
    /// of them (or has the privileges of their owner). A role that owns a
    /// table with row-level security enabled is refused whether or not it
    /// is registered; registering the tables also catches an owner before
    /// RLS is set up. A role that bypasses row-level security is refused.
    #[must_use]
    pub fn new(tables: &TableSet) -> Self {
        TenantPoolOptions {
            tables: tables.clone(),
            accept_bypassing_role: None,
            accept_creating_role: None,
            settings: TransactionSettings::default(),
            transaction_pooler: false,
            limits: None,
        }
    }

    /// Per-tenant limits ([`limits`](crate::limits)): how many
    /// transactions each tenant and each tier of tenants may have in
    /// flight, fair turns between tenants for the pool's connections, a
    /// bounded wait ending in [`Error::TenantBusy`], and per tier timeouts
    /// set in the same simple query as `BEGIN`. Checked when the pool is
    /// made ([`Error::InvalidTenantLimits`], and
    /// [`Error::InvalidTransactionSetting`] for a tier's setting the
    /// backend cannot apply).
    #[must_use]
    pub fn limits(mut self, limits: TenantLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// The registered tables.
    #[must_use]
    pub fn table_set(&self) -> &TableSet {
        &self.tables
    }

    /// Accepts a role that is a superuser, has `BYPASSRLS` or `CREATEROLE`,
    /// owns a registered table, or can become such a role — for which
    /// PostgreSQL skips the RLS policies, or can be made to, so only the
    /// builder's predicate protects tenants. Say why: the reason is logged
    /// at `WARN` on target `tenancy::pool` every time the pool opens a
    /// connection, and an empty reason is refused when the pool connects
    /// ([`Error::MissingReason`]).
    #[must_use]
    pub fn allow_rls_bypassing_role(mut self, reason: impl Into<String>) -> Self {
        self.accept_bypassing_role = Some(reason.into());
        self
    }

    /// Accepts a role that can create objects: one with `CREATE` on the
    /// database (which creates schemas) or on any schema. Such a role can
    /// create a function, operator or table that a `search_path` naming
    /// that schema finds before the built-in one or the registered table,
    /// so the pool refuses it unless told why. The reason is logged at
    /// `WARN` on target `tenancy::pool` every time the pool opens a
    /// connection; an empty reason is refused when the pool connects
    /// ([`Error::MissingReason`]). A role accepted with
    /// [`allow_rls_bypassing_role`](Self::allow_rls_bypassing_role) needs
    /// no second reason: the policies do not confine it anyway.
    #[must_use]
    pub fn allow_role_that_creates_objects(mut self, reason: impl Into<String>) -> Self {
        self.accept_creating_role = Some(reason.into());
        self
    }

    /// The limits every transaction of the pool opens with (timeouts,
    /// `plan_cache_mode`, read-only), set in the same simple query as
    /// `BEGIN` and the tenant, so they cost no round trip.
    #[must_use]
    pub fn transaction_settings(mut self, settings: TransactionSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The limits every transaction of the pool opens with.
    #[must_use]
    pub fn settings(&self) -> &TransactionSettings {
        &self.settings
    }

    /// The pool reaches PostgreSQL through a pooler in transaction mode
    /// (PgBouncer's `pool_mode = transaction`, RDS Proxy), which runs
    /// consecutive transactions of one connection on different server
    /// connections and shares each server connection between clients.
    ///
    /// sqlx's named prepared statements do not survive that: a statement
    /// prepared in one transaction is missing in the next, or clashes with
    /// the same name prepared by another client. With this option the
    /// pool's connections keep no statement cache, built statements run as
    /// unnamed statements (one more round trip each: parse, then execute,
    /// both inside the transaction, so on its server connection), and each
    /// new connection's role check runs inside a transaction that removes
    /// the statements it prepared. Without it, the clash is reported as
    /// [`Error::PreparedStatementBehindPooler`], never as sqlx's `prepared
    /// statement "sqlx_s_1" does not exist`.
    ///
    /// Everything else already holds behind such a pooler: the tenant and
    /// every pin are transaction-local, and the clean-up after raw SQL runs
    /// inside the transaction, so it reaches the server connection the raw
    /// SQL ran on. Raw SQL's own queries should be `.persistent(false)`, and
    /// session-level `SET` in raw SQL outside a tenant transaction reaches
    /// other clients of the pooler: do not.
    #[must_use]
    pub fn behind_transaction_pooler(mut self) -> Self {
        self.transaction_pooler = true;
        self
    }
}

/// A pool of connections for tenant work: the only way to get a
/// [`TenantTransaction`].
///
/// On PostgreSQL it checks every connection it opens, the first one and
/// every later one, and refuses a role for which row-level security would
/// not apply (see [`TenantPool::connect`]). Cloning is cheap and shares the
/// connections.
///
/// Connections go back to the pool outside any transaction and without a
/// tenant: the setting is transaction-local, a dropped transaction queues a
/// rollback, a connection whose `BEGIN` did not complete (a cancelled or
/// failed [`begin`](Self::begin)) is closed instead of reused, and so is one
/// that sqlx still counts inside a transaction when it comes back.
///
/// # Cost
///
/// A tenant transaction costs what a plain sqlx transaction costs: one round
/// trip to begin (with the tenant set), one to commit or roll back. The
/// guards read state sqlx tracks locally and add no round trip. The one
/// exception is a transaction that handed out its
/// [`raw_connection`](TenantTransaction::raw_connection): on PostgreSQL it
/// resets the session before it ends, one more round trip (a dozen small
/// statements: 0.1–0.2 ms on a loopback connection), because raw SQL may
/// have set the tenant or the role
/// at session level, or left the tenant's rows in a temporary table or a
/// held cursor; on SQLite its connection is closed. Each new connection
/// costs one more round trip for its check.
pub struct TenantPool<DB: Backend = DefaultBackend> {
    pool: sqlx::Pool<DB>,
    shared: Arc<Shared>,
    settings: Arc<TransactionSettings>,
    /// Whether statements are named and cached (not behind a pooler).
    persistent: bool,
    /// Where its tenants' rows are, for the transaction spans: the shared
    /// tables (or a tenant's schema), or a database of the tenant's own.
    isolation: Isolation,
    /// The per-tenant limits, if the pool has any.
    admission: Option<Arc<Admission>>,
}

impl<DB: Backend> Clone for TenantPool<DB> {
    fn clone(&self) -> Self {
        TenantPool {
            pool: self.pool.clone(),
            shared: Arc::clone(&self.shared),
            settings: Arc::clone(&self.settings),
            persistent: self.persistent,
            isolation: self.isolation,
            admission: self.admission.clone(),
        }
    }
}

impl<DB: Backend> core::fmt::Debug for TenantPool<DB> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TenantPool")
            .field("tables", &self.shared.tables)
            .field("refused", &self.shared.refusal().is_some())
            .field("pool", &self.pool)
            .finish()
    }
}

impl<DB: Backend> TenantPool<DB> {
    /// Opens a transaction for `tenant`.
    ///
    /// On PostgreSQL, `BEGIN` and `SET LOCAL "app"."tenant_id" = '<key>'` go
    /// to the server as one simple query: one round trip. The key text is
    /// rendered from the integer or UUID, never from user input. On SQLite
    /// it is `BEGIN IMMEDIATE`, which waits (up to the busy timeout) for
    /// other writers instead of failing when the transaction first writes.
    ///
    /// Refused with the error the check gave ([`Error::PrivilegedRole`],
    /// [`Error::SessionTenantDefault`]) once any new connection of the pool
    /// has failed it.
    ///
    /// A connection the server closed while it sat idle in the pool (an
    /// administrator's `pg_terminate_backend`, `idle_session_timeout`, a
    /// restart) is found by the `BEGIN` itself when the pool hands
    /// connections out without sqlx's ping, as [`connect`](Self::connect)'s
    /// do: when `BEGIN` fails with the error of a lost connection before it
    /// can have reached the server — the failure was already waiting on
    /// the connection — that connection is closed and `BEGIN` is sent once
    /// more, on a connection that answers a ping, and the caller sees
    /// nothing of it but an `INFO` event on target `tenancy::pool`. It is
    /// the only thing ever retried: a `BEGIN` that fails once it was sent
    /// (the server ended the session while it ran it, or refused it), a
    /// second failure, and every statement and `commit` after `BEGIN` are
    /// reported as they failed, never sent again.
    pub async fn begin<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
    ) -> Result<TenantTransaction<K, DB>, Error> {
        self.open(tenant, Access::ReadWrite, None).await
    }

    /// Opens a transaction for `tenant` with the pool's settings (its
    /// tier's, under per-tenant limits), `READ ONLY` if `access` says so or
    /// the settings do; in `schema`, the tenant's own, with its
    /// `search_path` pinned there (schema per tenant), if one is given.
    pub(crate) async fn open<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
        access: Access,
        schema: Option<&Identifier>,
    ) -> Result<TenantTransaction<K, DB>, Error> {
        let tables = &self.shared.tables;
        let key = tenant.key_value();
        let pin = Pin::new(tables.setting(), key, self.settings_of(key)).with_access(access);
        match schema {
            Some(schema) => {
                self.begin_pinned(tenant, pin.in_schema(schema), schema)
                    .await
            }
            None => {
                self.begin_pinned(tenant, pin, tables.schema(DB::DIALECT))
                    .await
            }
        }
    }

    /// Opens a transaction for `tenant` that pins `settings` instead of the
    /// ones its tier gives it (still one simple query, still behind its
    /// turn): for a caller that narrows them, as an ad hoc query does.
    #[cfg(feature = "adhoc")]
    pub(crate) async fn begin_with_settings<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
        settings: &TransactionSettings,
    ) -> Result<TenantTransaction<K, DB>, Error> {
        let tables = &self.shared.tables;
        let pin = Pin::new(tables.setting(), tenant.key_value(), settings);
        self.begin_pinned(tenant, pin, tables.schema(DB::DIALECT))
            .await
    }

    /// The settings `tenant`'s transactions open with: its tier's, laid
    /// over the pool's.
    pub(crate) fn settings_of(&self, tenant: tenancy_core::KeyValue) -> &TransactionSettings {
        match &self.admission {
            Some(admission) => admission.settings_of(tenant),
            None => &self.settings,
        }
    }

    /// The one body of `begin`: the pin rendered (and so checked) before a
    /// connection is taken, then sent as the one simple query of `BEGIN`.
    async fn begin_pinned<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
        pin: Pin<'_>,
        schema: &Identifier,
    ) -> Result<TenantTransaction<K, DB>, Error> {
        let statement = DB::begin_statement(&pin)?;
        let isolation = match pin.search_path {
            Some(_) => Isolation::Schema,
            None => self.isolation,
        };
        let trace = TransactionTrace::new(DB::DIALECT, pin.tenant, isolation);
        let span = trace.span().clone();
        let begun = async {
            // The turn first: a tenant over its limits waits here, in its
            // turn, without holding a connection.
            let turn = match &self.admission {
                Some(admission) => Some(admission.admit(pin.tenant).await?),
                None => None,
            };
            let connection = self.begun_pinned(&pin, statement).await?;
            Ok::<_, Error>((connection, turn))
        };
        let (connection, turn) = begun.instrument(span).await?;
        Ok(TenantTransaction::new(
            connection,
            *tenant,
            Arc::clone(&self.shared.tables),
            schema.clone(),
            self.persistent,
            Opened {
                trace,
                timeouts: Timeouts::of(pin.settings),
                turn,
            },
        ))
    }

    /// A connection of the pool on which `statement` opened a transaction.
    ///
    /// Connections are handed out without sqlx's ping, so one may have died
    /// while it sat idle (the server ended its session). When `statement`
    /// fails on it with the error of a lost connection, within the poll that
    /// wrote it, nothing of the transaction reached a live session: the
    /// connection is closed and `statement` is sent once more, on a
    /// connection that answers a ping. Any other failure, and a failure of
    /// the second attempt, is the caller's; nothing after `BEGIN` is ever
    /// sent twice.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))] // the API-key lookup's
    pub(crate) async fn begun(&self, statement: String) -> Result<PoolConnection<DB>, Error> {
        let again = statement.clone();
        self.begun_with(statement, move || Ok(again)).await
    }

    /// [`begun`](Self::begun) for a tenant transaction's `BEGIN`, the
    /// rendering of `pin`: rendered again for the second attempt instead of
    /// copied for it, since every transaction would pay for the copy.
    async fn begun_pinned(
        &self,
        pin: &Pin<'_>,
        statement: String,
    ) -> Result<PoolConnection<DB>, Error> {
        self.begun_with(statement, || DB::begin_statement(pin))
            .await
    }

    /// The body of [`begun`](Self::begun), with `again` giving the
    /// statement for the second attempt.
    async fn begun_with(
        &self,
        statement: String,
        again: impl FnOnce() -> Result<String, Error>,
    ) -> Result<PoolConnection<DB>, Error> {
        let mut connection = self.acquire().await?;
        match begin_on::<DB>(&mut connection, statement).await {
            Ok(()) => return Ok(connection),
            Err(BeginFailed {
                error,
                before_sent: true,
            }) if DB::is_connection_lost(&error) => {
                tracing::info!(
                    target: "tenancy::pool",
                    %error,
                    "a pooled connection was found closed by the server before BEGIN was \
                     sent; opening the transaction on another connection"
                );
            }
            Err(failed) => return Err(failed.error.into()),
        }
        // Closed by the guard of the failed attempt.
        drop(connection);
        let statement = again()?;
        let mut connection = self.acquire_live().await?;
        begin_on::<DB>(&mut connection, statement)
            .await
            .map_err(|failed| Error::from(failed.error))?;
        Ok(connection)
    }

    /// A connection that answers sqlx's ping: after one idle connection was
    /// found dead, others may be too (the server restarted). Each dead one
    /// is closed; the pool opens new ones in their place.
    pub(crate) async fn acquire_live(&self) -> Result<PoolConnection<DB>, Error> {
        let mut left = self.pool.options().get_max_connections();
        loop {
            let mut connection = self.acquire().await?;
            match sqlx::Connection::ping(&mut *connection).await {
                Ok(()) => return Ok(connection),
                Err(error) if left == 0 => {
                    connection.close_on_drop();
                    return Err(Error::Database(error));
                }
                Err(_) => {
                    connection.close_on_drop();
                    left -= 1;
                }
            }
        }
    }

    /// The pool of a tenant's own database, as the router makes it: its
    /// transactions' spans say so.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))] // PostgreSQL only
    pub(crate) fn database_per_tenant(mut self) -> Self {
        self.isolation = Isolation::Database;
        self
    }

    /// A connection of the pool, unless the pool refuses (a new connection
    /// failed the check). Every use of the pool's connections goes through
    /// here.
    pub(crate) async fn acquire(&self) -> Result<PoolConnection<DB>, Error> {
        let mut connection = self.pool.acquire().await?;
        if let Some(refusal) = self.shared.refusal() {
            connection.close_on_drop();
            return Err(refusal.to_error());
        }
        Ok(connection)
    }

    /// Whether the pool's statements are sqlx's named, cached ones (not
    /// behind a transaction-mode pooler).
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn statements_persistent(&self) -> bool {
        self.persistent
    }

    /// The setting that carries the tenant: the registered tables'.
    #[must_use]
    pub fn setting(&self) -> &SettingName {
        self.shared.tables.setting()
    }

    /// The registered tables the pool was made with.
    #[must_use]
    pub fn tables(&self) -> &TableSet {
        &self.shared.tables
    }

    /// The number of connections open, borrowed or idle.
    #[must_use]
    pub fn size(&self) -> u32 {
        self.pool.size()
    }

    /// The number of connections idle in the pool.
    #[must_use]
    pub fn num_idle(&self) -> usize {
        self.pool.num_idle()
    }

    /// Closes every connection, waiting for borrowed ones to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The connections, for work outside tenant transactions that the crate
    /// itself does (the SQLite owner pool shares them).
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn sqlx_pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// Builds the pool, with the release check; refused if its first
    /// connection failed the connection check (`shared` is the one the
    /// pool's `after_connect` hook records refusals in, if it has one).
    pub(crate) async fn built(
        pool_options: sqlx::pool::PoolOptions<DB>,
        connect_options: <DB::Connection as sqlx::Connection>::Options,
        shared: Arc<Shared>,
        options: &TenantPoolOptions,
    ) -> Result<Self, Error> {
        let settings = options.settings.clone();
        // A setting the backend cannot send fails here, not on every
        // `begin`: rendering a pin is the one check of its fields.
        let any_key = tenancy_core::KeyValue::I64(0);
        DB::begin_statement(&Pin::new(shared.tables.setting(), any_key, &settings))?;
        let capacity = usize::try_from(pool_options.get_max_connections()).unwrap_or(usize::MAX);
        let admission = match &options.limits {
            Some(limits) => {
                let admission = Admission::new(limits.clone(), &settings, capacity)?;
                for tier in admission.all_settings() {
                    DB::begin_statement(&Pin::new(shared.tables.setting(), any_key, tier))?;
                }
                Some(Arc::new(admission))
            }
            None => None,
        };
        // The first connection is opened, and checked, here.
        let pool = release_only_outside_transactions(pool_options)
            .connect_with(connect_options)
            .await
            .map_err(Error::from_execution::<DB>)?;
        if let Some(refusal) = shared.refusal() {
            pool.close().await;
            return Err(refusal.to_error());
        }
        Ok(TenantPool {
            pool,
            shared,
            settings: Arc::new(settings),
            persistent: !options.transaction_pooler,
            isolation: Isolation::Shared,
            admission,
        })
    }
}

/// One attempt to open a transaction with `statement` on `connection`,
/// which is closed when it goes back to the pool unless the attempt
/// succeeded.
async fn begin_on<DB: Backend>(
    connection: &mut PoolConnection<DB>,
    statement: String,
) -> Result<(), BeginFailed> {
    let mut guard = CloseUnlessBegun::new(connection);
    let statement = AssertSqlSafe(statement).into_sql_str();
    begin_attempt(DB::TransactionManager::begin(
        guard.connection(),
        Some(statement),
    ))
    .await?;
    guard.begun();
    Ok(())
}

#[cfg(feature = "postgres")]
impl TenantPool<Postgres> {
    /// Opens a read-only transaction for `tenant`, for work that only
    /// reads: it ends without waiting for the server
    /// ([`TenantRead::end`]).
    ///
    /// It opens as [`begin`](Self::begin) does — one simple query, with the
    /// tenant, the pool's (or the tenant's tier's) settings and its turn
    /// under per-tenant limits — with `BEGIN READ ONLY`, so that a write in
    /// it fails rather than being rolled back unseen. Ending it queues
    /// `ROLLBACK` instead of waiting for `COMMIT`'s answer: for one
    /// statement, two round trips the caller waits for instead of three.
    ///
    /// ```no_run
    /// # #[tenancy_sqlx::tenant_scoped] #[derive(sqlx::FromRow)] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key)] pub id: i64, pub status: String }
    /// # async fn run(pool: tenancy_sqlx::TenantPool) -> Result<(), tenancy_sqlx::Error> {
    /// use tenancy_sqlx::TenantId;
    ///
    /// let tenant = TenantId::from_verified(42);
    /// let mut read = pool.read(&tenant).await?;
    /// let open: Vec<Order> = read
    ///     .fetch_all(Order::select(&tenant).filter(Order::STATUS.eq("open")))
    ///     .await?;
    /// read.end();
    /// # Ok(()) }
    /// ```
    pub async fn read<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
    ) -> Result<TenantRead<K, Postgres>, Error> {
        let transaction = self.open(tenant, Access::ReadOnly, None).await?;
        Ok(TenantRead::new(transaction))
    }

    /// Connects to the database at `url` (see
    /// [`connect_with`](Self::connect_with)).
    ///
    /// ```no_run
    /// # async fn run(tables: tenancy_sqlx::ddl::TableSet) -> Result<(), tenancy_sqlx::Error> {
    /// use tenancy_sqlx::{TenantPool, TenantPoolOptions};
    ///
    /// let pool = TenantPool::connect("postgres://app@localhost/shop", TenantPoolOptions::new(&tables)).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// The pool does not ping a connection before handing it out (sqlx's
    /// `test_before_acquire(false)`): that saves a round trip on every
    /// transaction, and a connection the server closed while it was idle is
    /// caught when its `BEGIN` fails, which is then sent again on another
    /// connection ([`begin`](Self::begin)).
    pub async fn connect(url: &str, options: TenantPoolOptions) -> Result<Self, Error> {
        let connect: PgConnectOptions = url.parse()?;
        let pool_options = PgPoolOptions::new().test_before_acquire(false);
        Self::connect_with(pool_options, connect, options).await
    }

    /// Connects with the given sqlx pool and connection options (pool size,
    /// timeouts, TLS…), and checks every connection the pool opens.
    ///
    /// Refused, with [`Error::PrivilegedRole`], unless
    /// [`TenantPoolOptions::allow_rls_bypassing_role`] says why it should be
    /// accepted: a session any of whose roles — the current role, the
    /// session role, and the role it authenticated as — is a superuser, has
    /// `BYPASSRLS` or `CREATEROLE` (with which it can grant itself the
    /// tables' owner), owns (or has the privileges of the owner of) a
    /// registered table or a table with row-level security enabled, holds
    /// `ADMIN OPTION` on a role that is any of these, or is a member of one,
    /// which raw SQL could `SET ROLE` to. A superuser login that switched to
    /// the application role (`options=-c role=..` in the URL, or `SET
    /// SESSION AUTHORIZATION`) is refused too: `RESET ROLE` or `RESET
    /// SESSION AUTHORIZATION` in raw SQL would switch it back. Refused too,
    /// unless [`TenantPoolOptions::allow_role_that_creates_objects`] says
    /// why: a role with `CREATE` on the database or on any schema
    /// ([`PrivilegedRole::CanCreate`](crate::PrivilegedRole::CanCreate)),
    /// which could put a function or table where a `search_path` finds it
    /// first. Refused
    /// whatever the options, with [`Error::SessionTenantDefault`]: sessions
    /// that start with the tenant setting already set, which outside a
    /// tenant transaction would act as that tenant instead of seeing no row.
    ///
    /// The check runs in the pool's `after_connect` hook, on every new
    /// physical connection, so a role granted `BYPASSRLS` (or a default
    /// tenant) after the pool was made is refused on the next connection the
    /// pool opens: from then on [`begin`](Self::begin) returns that refusal,
    /// for every connection, since the role's new attributes apply to the
    /// pool's older sessions too. Make a new pool once the role is fixed.
    ///
    /// Pass `pool_options.test_before_acquire(false)`, as
    /// [`connect`](Self::connect) does, unless every transaction should pay
    /// a round trip for sqlx's ping: a dead idle connection is then caught
    /// by its `BEGIN`, which is sent again on another connection
    /// ([`begin`](Self::begin)).
    ///
    /// The pool's `after_connect` and `after_release` hooks are replaced by
    /// the tenant pool's own; put per-session settings in the connection
    /// options (`PgConnectOptions::options`), which PostgreSQL applies at
    /// login, before the check. There is no way to wrap a pool built
    /// elsewhere: its connections could not be checked as they open, and
    /// code borrowing from it directly would share connections with tenant
    /// transactions.
    pub async fn connect_with(
        pool_options: PgPoolOptions,
        connect_options: PgConnectOptions,
        options: TenantPoolOptions,
    ) -> Result<Self, Error> {
        // A set with two descriptions of one table is refused before use.
        let check = SessionCheck::new(
            &options.tables,
            options.accept_bypassing_role.as_deref(),
            options.accept_creating_role.as_deref(),
        )?;
        let shared = Shared::new(options.tables.clone());
        let on_connect = Arc::clone(&shared);
        let pooler = options.transaction_pooler;
        let pool_options = pool_options.after_connect(move |connection, _metadata| {
            let check = check.clone();
            let shared = Arc::clone(&on_connect);
            Box::pin(async move {
                // Behind a transaction-mode pooler the check's statements
                // must share one server connection, and leave none of their
                // prepared statements on it for another client to clash with.
                if pooler {
                    execute_text::<Postgres>(connection, "BEGIN".to_owned()).await?;
                }
                let refusal = check.run(connection).await?;
                if pooler {
                    let end = "DEALLOCATE ALL; COMMIT".to_owned();
                    execute_text::<Postgres>(connection, end).await?;
                }
                // A refused connection is kept, not failed: sqlx would retry
                // a failing hook until the acquire timed out. `acquire` hands
                // out nothing once a refusal is recorded.
                if let Some(refusal) = refusal {
                    shared.refuse(refusal);
                }
                Ok(())
            })
        });
        let connect_options = match pooler {
            // Nothing cached that the next transaction's server connection
            // would not have.
            true => connect_options.statement_cache_capacity(0),
            false => connect_options,
        };
        Self::built(pool_options, connect_options, shared, &options).await
    }
}
