//! One entry point for tenants in every placement: shared tables, a schema
//! per tenant, a database per tenant.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tenancy_core::{KeyValue, TenantId, TenantKey};

use crate::directory::{Placement, TenantDirectory, TenantEntry, TenantStatus};
use crate::pin::Access;
use crate::{Error, Postgres, TenantPool, TenantPoolOptions, TenantRead, TenantTransaction};

mod database_pools;

use database_pools::{DatabasePools, Limits};

/// How a [`TenantRouter`] caches placements and tenant databases' pools.
///
/// ```
/// use std::time::Duration;
/// use tenancy_sqlx::RouterOptions;
///
/// let options = RouterOptions::new()
///     .max_database_pools(20)
///     .max_database_connections(100)
///     .idle_pool_timeout(Duration::from_secs(300));
/// assert_eq!(options.connections_per_pool(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct RouterOptions {
    placement_ttl: Duration,
    max_pools: usize,
    max_connections: u32,
    idle_pool_timeout: Duration,
    acquire_timeout: Duration,
}

impl Default for RouterOptions {
    fn default() -> Self {
        RouterOptions {
            placement_ttl: Duration::from_secs(1),
            max_pools: 16,
            max_connections: 64,
            idle_pool_timeout: Duration::from_secs(600),
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

impl RouterOptions {
    /// Defaults: placements cached for one second; at most 16 database
    /// pools and 64 connections to tenant databases together; a pool idle
    /// for 10 minutes closed; 30 seconds to wait for a place in the cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How long a tenant's directory entry is used before it is read
    /// again. A suspension, deletion or move reaches this router within
    /// that time; `Duration::ZERO` reads the directory on every `begin`
    /// (one more round trip each).
    #[must_use]
    pub fn placement_ttl(mut self, ttl: Duration) -> Self {
        self.placement_ttl = ttl;
        self
    }

    /// The most pools of tenant databases open at once (at least 1). A
    /// request for another database closes the least recently used pool,
    /// whose place is free once its borrowed connections are back.
    #[must_use]
    pub fn max_database_pools(mut self, pools: usize) -> Self {
        self.max_pools = pools;
        self
    }

    /// The most connections to all tenant databases together, split evenly
    /// between the pools: each pool holds at most this divided by
    /// [`max_database_pools`](Self::max_database_pools) (at least as many
    /// as pools, so each pool has one).
    #[must_use]
    pub fn max_database_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections;
        self
    }

    /// A database pool unused for this long is closed (checked whenever the
    /// cache is used), and so is a connection idle this long in any pool.
    #[must_use]
    pub fn idle_pool_timeout(mut self, timeout: Duration) -> Self {
        self.idle_pool_timeout = timeout;
        self
    }

    /// How long a `begin` waits for a place in the cache, or for a
    /// connection of a database pool.
    #[must_use]
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The connections each database pool may hold.
    #[must_use]
    pub fn connections_per_pool(&self) -> u32 {
        let pools = u32::try_from(self.max_pools.max(1)).unwrap_or(u32::MAX);
        (self.max_connections / pools).max(1)
    }

    fn limits(&self) -> Result<Limits, Error> {
        let pools = u32::try_from(self.max_pools).unwrap_or(u32::MAX);
        if self.max_pools == 0 || self.max_connections < pools {
            return Err(Error::InvalidRouterOptions {
                reason: format!(
                    "{} database connections cannot be shared by {} pools: each pool needs at \
                     least one, and there must be at least one pool",
                    self.max_connections, self.max_pools
                ),
            });
        }
        Ok(Limits {
            max_pools: self.max_pools,
            connections_per_pool: self.connections_per_pool(),
            idle_pool_timeout: self.idle_pool_timeout,
            acquire_timeout: self.acquire_timeout,
        })
    }
}

/// Opens a tenant's transaction wherever the tenant lives: in the shared
/// tables, in a schema of its own, or in a database of its own, as its
/// [`TenantDirectory`] entry says. The transaction is the same
/// [`TenantTransaction`], with the same statement API and scope checks, and
/// on a cached placement it still costs one round trip to begin.
///
/// - **Shared**: the shared pool's `begin`.
/// - **Schema**: the shared pool, with statements built for the tenant's
///   schema (every table a statement names is qualified with it) and
///   `search_path` pinned to that schema and `pg_temp` in the same simple
///   query as `BEGIN`, so raw SQL's unqualified names resolve there too.
///   The tables keep their tenant column and policies, so the builder's
///   predicate and row-level security still apply: a statement that names
///   another schema's table, raw or after raw SQL changed `search_path`,
///   sees none of another tenant's rows.
/// - **Database**: a pool of the tenant's database from a bounded cache
///   (see [`RouterOptions`]), made once however many requests ask for it
///   at the same time, and checked for privileged roles like every
///   [`TenantPool`]: it is made with the same [`TenantPoolOptions`].
///
/// A tenant whose status is not active is refused
/// ([`Error::TenantUnavailable`]), one the directory does not know too
/// ([`Error::TenantNotFound`]); nothing is sent to its place.
///
/// ```no_run
/// # async fn run(pool: tenancy_sqlx::TenantPool, app: sqlx::PgPool, tables: tenancy_sqlx::ddl::TableSet) -> Result<(), tenancy_sqlx::Error> {
/// use tenancy_sqlx::directory::TableDirectory;
/// use tenancy_sqlx::{RouterOptions, TenantId, TenantPoolOptions, TenantRouter};
///
/// let router = TenantRouter::new(
///     TableDirectory::new(app),
///     pool,
///     TenantPoolOptions::new(&tables),
///     RouterOptions::new(),
/// )?;
/// let tx = router.begin(&TenantId::from_verified(42)).await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub struct TenantRouter<D: TenantDirectory> {
    inner: Arc<Inner<D>>,
}

struct Inner<D> {
    directory: D,
    shared: TenantPool,
    databases: DatabasePools,
    placement_ttl: Duration,
    placements: Mutex<HashMap<KeyValue, (TenantEntry, Instant)>>,
}

impl<D: TenantDirectory> Clone for TenantRouter<D> {
    fn clone(&self) -> Self {
        TenantRouter {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<D: TenantDirectory> core::fmt::Debug for TenantRouter<D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TenantRouter")
            .field("shared", &self.inner.shared)
            .field("database_pools", &self.inner.databases.open_pools())
            .finish_non_exhaustive()
    }
}

impl<D: TenantDirectory> TenantRouter<D> {
    /// A router over `directory`: shared and schema tenants go through
    /// `shared`, database tenants through pools made with `database_options`
    /// (the same registered tables and accepted roles as `shared`'s, as a
    /// rule) within the bounds of `options`.
    pub fn new(
        directory: D,
        shared: TenantPool,
        database_options: TenantPoolOptions,
        options: RouterOptions,
    ) -> Result<Self, Error> {
        let databases = DatabasePools::new(options.limits()?, database_options);
        Ok(TenantRouter {
            inner: Arc::new(Inner {
                directory,
                shared,
                databases,
                placement_ttl: options.placement_ttl,
                placements: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Opens a transaction for `tenant` where the directory places it.
    pub async fn begin<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
    ) -> Result<TenantTransaction<K, Postgres>, Error> {
        self.open(tenant, Access::ReadWrite).await
    }

    /// Opens a read-only transaction for `tenant` where the directory
    /// places it, ended without waiting for the server
    /// ([`TenantPool::read`]).
    pub async fn read<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
    ) -> Result<TenantRead<K, Postgres>, Error> {
        let transaction = self.open(tenant, Access::ReadOnly).await?;
        Ok(TenantRead::new(transaction))
    }

    /// The one body of `begin` and `read`.
    async fn open<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
        access: Access,
    ) -> Result<TenantTransaction<K, Postgres>, Error> {
        let key = tenant.key_value();
        let entry = self.entry(key).await?;
        if entry.status != TenantStatus::Active {
            return Err(Error::TenantUnavailable {
                tenant: key,
                status: entry.status,
            });
        }
        match &entry.placement {
            Placement::Shared => self.inner.shared.open(tenant, access, None).await,
            Placement::Schema(schema) => self.inner.shared.open(tenant, access, Some(schema)).await,
            Placement::Database(url) => {
                let mut attempts = 0;
                loop {
                    let pool = self.inner.databases.pool(url).await?;
                    match pool.open(tenant, access, None).await {
                        // Evicted between the lookup and `begin`: the cache
                        // makes it again.
                        Err(Error::Database(sqlx::Error::PoolClosed)) if attempts < 3 => {
                            attempts += 1;
                        }
                        begun => return begun,
                    }
                }
            }
        }
    }

    /// The directory entry of `tenant`, from the cache while it is fresh.
    pub async fn entry(&self, tenant: KeyValue) -> Result<TenantEntry, Error> {
        let now = Instant::now();
        if let Some((entry, read)) = self.placements().get(&tenant)
            && now.duration_since(*read) < self.inner.placement_ttl
        {
            return Ok(entry.clone());
        }
        let entry = self
            .inner
            .directory
            .entry(tenant)
            .await?
            .ok_or(Error::TenantNotFound { tenant })?;
        let mut placements = self.placements();
        if placements.len() > MAX_CACHED_PLACEMENTS {
            let ttl = self.inner.placement_ttl;
            placements.retain(|_, (_, read)| now.duration_since(*read) < ttl);
        }
        placements.insert(tenant, (entry.clone(), now));
        Ok(entry)
    }

    /// Forgets the cached entry of `tenant`: its next `begin` reads the
    /// directory. For the process that changed the entry.
    pub fn forget(&self, tenant: KeyValue) {
        self.placements().remove(&tenant);
    }

    /// The directory.
    #[must_use]
    pub fn directory(&self) -> &D {
        &self.inner.directory
    }

    /// The pool of shared and schema tenants.
    #[must_use]
    pub fn shared_pool(&self) -> &TenantPool {
        &self.inner.shared
    }

    /// The number of tenant databases' pools open now.
    #[must_use]
    pub fn open_database_pools(&self) -> usize {
        self.inner.databases.open_pools()
    }

    /// How many tenant databases' pools the router has made so far.
    #[must_use]
    pub fn database_pools_created(&self) -> u64 {
        self.inner.databases.pools_created()
    }

    /// Closes every pool, the shared one included, waiting for borrowed
    /// connections.
    pub async fn close(&self) {
        self.inner.databases.close().await;
        self.inner.shared.close().await;
    }

    fn placements(&self) -> std::sync::MutexGuard<'_, HashMap<KeyValue, (TenantEntry, Instant)>> {
        // Each entry is inserted whole: a panic elsewhere leaves none half-made.
        self.inner
            .placements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Past this many cached placements, expired ones are dropped.
const MAX_CACHED_PLACEMENTS: usize = 100_000;
