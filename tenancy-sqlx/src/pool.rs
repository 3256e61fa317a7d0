//! The pool that hands out tenant transactions.

use std::sync::Arc;

#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use sqlx_core::transaction::TransactionManager;
use tenancy_core::ddl::TableSet;
use tenancy_core::{TableMeta, TenantId, TenantKey};

use crate::Error;
use crate::backend::{Access, Backend, DefaultBackend};
use crate::guard::CloseUnlessBegun;
#[cfg(feature = "postgres")]
use crate::guard::release_only_outside_transactions;
use crate::setting::SettingName;
use crate::transaction::TenantTransaction;
#[cfg(feature = "postgres")]
use crate::{Postgres, role};

/// How a [`TenantPool`] is set up: the tenant setting, the registered
/// tables, and which roles it accepts.
///
/// ```
/// use tenancy_sqlx::{SettingName, TenantPoolOptions};
///
/// let options = TenantPoolOptions::new().setting(SettingName::new("myapp.tenant")?);
/// assert_eq!(options.setting_name().as_str(), "myapp.tenant");
/// # Ok::<(), tenancy_sqlx::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TenantPoolOptions {
    setting: SettingName,
    // Read by the PostgreSQL role check only: SQLite has no roles.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    tables: Vec<&'static TableMeta>,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    accept_bypassing_role: Option<String>,
}

impl TenantPoolOptions {
    /// Defaults: setting `app.tenant_id`, no registered tables, and a role
    /// that bypasses row-level security is refused.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The setting that carries the tenant; it must match the one in the RLS
    /// policies ([`rls::RlsPolicy`](crate::rls::RlsPolicy)).
    #[must_use]
    pub fn setting(mut self, setting: SettingName) -> Self {
        self.setting = setting;
        self
    }

    /// The setting that carries the tenant.
    #[must_use]
    pub fn setting_name(&self) -> &SettingName {
        &self.setting
    }

    /// The application's tables: the pool refuses to connect as a role that
    /// owns any of them (or has the privileges of their owner). A role that
    /// owns a table with row-level security enabled is refused whether or
    /// not it is registered; registering the tables also catches an owner
    /// before RLS is set up.
    #[must_use]
    pub fn tables(mut self, tables: &TableSet) -> Self {
        self.tables = tables.tables().to_vec();
        self
    }

    /// Accepts a role that is a superuser, has `BYPASSRLS`, owns a
    /// registered table, or is a member of such a role — for which
    /// PostgreSQL skips the RLS policies, or can be made to, so
    /// only the builder's predicate protects tenants. Say why; the reason is
    /// logged at `WARN` on target `tenancy::pool` every time a pool connects.
    #[must_use]
    pub fn allow_rls_bypassing_role(mut self, reason: impl Into<String>) -> Self {
        self.accept_bypassing_role = Some(reason.into());
        self
    }
}

/// A pool of connections for tenant work: the only way to get a
/// [`TenantTransaction`].
///
/// On PostgreSQL it refuses, when it connects, a role for which row-level
/// security would not apply (see [`TenantPool::connect`]). Cloning is cheap
/// and shares the connections.
///
/// Connections go back to the pool outside any transaction and without a
/// tenant: the setting is transaction-local, a dropped transaction queues a
/// rollback, and a connection whose `BEGIN` did not complete (a cancelled or
/// failed [`begin`](Self::begin)) is closed instead of reused.
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
/// have set the tenant or the role at session level, or left the tenant's
/// rows in a temporary table or a held cursor; on SQLite its connection is
/// closed.
pub struct TenantPool<DB: Backend = DefaultBackend> {
    pool: sqlx::Pool<DB>,
    setting: Arc<SettingName>,
}

impl<DB: Backend> Clone for TenantPool<DB> {
    fn clone(&self) -> Self {
        TenantPool {
            pool: self.pool.clone(),
            setting: Arc::clone(&self.setting),
        }
    }
}

impl<DB: Backend> core::fmt::Debug for TenantPool<DB> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TenantPool")
            .field("setting", &self.setting)
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
    pub async fn begin<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
    ) -> Result<TenantTransaction<K, DB>, Error> {
        let statement = DB::begin_statement(&self.setting, tenant.key_value(), Access::ReadWrite)?;
        let mut connection = self.pool.acquire().await?;
        let mut guard = CloseUnlessBegun::new(&mut connection);
        <DB::TransactionManager as TransactionManager>::begin(
            guard.connection(),
            Some(AssertSqlSafe(statement).into_sql_str()),
        )
        .await?;
        guard.begun();
        Ok(TenantTransaction::new(connection, *tenant))
    }

    /// The setting that carries the tenant.
    #[must_use]
    pub fn setting(&self) -> &SettingName {
        &self.setting
    }

    /// A tenant pool over `pool`, for backends whose constructors live with
    /// the backend.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn from_parts(pool: sqlx::Pool<DB>, setting: SettingName) -> Self {
        TenantPool {
            pool,
            setting: Arc::new(setting),
        }
    }

    /// The connections, for work outside tenant transactions that the crate
    /// itself does (the SQLite owner pool shares them).
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn sqlx_pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// Closes every connection, waiting for borrowed ones to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(feature = "postgres")]
impl TenantPool<Postgres> {
    /// Connects to the database at `url`, then checks the role (see
    /// [`from_pool`](Self::from_pool)).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), tenancy_sqlx::Error> {
    /// use tenancy_sqlx::{TenantPool, TenantPoolOptions};
    ///
    /// let pool = TenantPool::connect("postgres://app@localhost/shop", TenantPoolOptions::new()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str, options: TenantPoolOptions) -> Result<Self, Error> {
        let connect: PgConnectOptions = url.parse()?;
        Self::connect_with(PgPoolOptions::new(), connect, options).await
    }

    /// Connects with the given sqlx pool and connection options (pool size,
    /// timeouts, TLS…). The pool's `after_release` hook is replaced by the
    /// tenant pool's own, which closes any connection sqlx still counts as
    /// inside a transaction.
    pub async fn connect_with(
        pool_options: PgPoolOptions,
        connect_options: PgConnectOptions,
        options: TenantPoolOptions,
    ) -> Result<Self, Error> {
        let pool = release_only_outside_transactions(pool_options)
            .connect_with(connect_options)
            .await?;
        Self::checked(pool, options).await
    }

    /// Wraps an existing pool, after checking its role.
    ///
    /// Refused, with [`Error::PrivilegedRole`]: a role that is a superuser,
    /// has `BYPASSRLS`, or owns (or has the privileges of the owner of) a
    /// registered table or a table with row-level security enabled —
    /// PostgreSQL applies no row-level security policy to
    /// it — or that is a member of such a role, which raw SQL could `SET
    /// ROLE` to; unless [`TenantPoolOptions::allow_rls_bypassing_role`] says
    /// why it should be accepted. Both the current role and the session's
    /// login role are checked, so a superuser login that switched to the
    /// application role (`SET ROLE` in an `after_connect` hook, or
    /// `options=-c role=..` in the URL) is refused too: `RESET ROLE` would
    /// switch it back. Refused whatever the options, with
    /// [`Error::SessionTenantDefault`]: sessions that start with the tenant
    /// setting already set, which outside a tenant transaction would act as
    /// that tenant instead of seeing no row. The checks run on one
    /// connection, when the pool is made.
    ///
    /// Tenant transactions guard the connections they use themselves, so the
    /// guarantees hold for a pool built elsewhere too; a pool built by
    /// [`connect_with`](Self::connect_with) adds an `after_release` check.
    /// Do not also borrow connections from `pool` directly for other work:
    /// they would share connections with tenant transactions.
    pub async fn from_pool(pool: PgPool, options: TenantPoolOptions) -> Result<Self, Error> {
        Self::checked(pool, options).await
    }

    async fn checked(pool: PgPool, options: TenantPoolOptions) -> Result<Self, Error> {
        let mut connection = pool.acquire().await?;
        // Not waived by `allow_rls_bypassing_role`: it is about the setting.
        role::refuse_tenant_default(&mut connection, &options.setting).await?;
        let verdict = role::refuse_privileged_role(&mut connection, &options.tables).await;
        drop(connection);
        match (verdict, options.accept_bypassing_role) {
            (Ok(()), _) => {}
            (Err(Error::PrivilegedRole { role, problem }), Some(reason)) => {
                tracing::warn!(
                    target: "tenancy::pool",
                    %role,
                    %problem,
                    %reason,
                    "tenant pool accepts a role that bypasses row-level security"
                );
            }
            (Err(error), _) => return Err(error),
        }
        Ok(TenantPool {
            pool,
            setting: Arc::new(options.setting),
        })
    }
}
