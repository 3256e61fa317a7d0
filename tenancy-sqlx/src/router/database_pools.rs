//! The bounded cache of the pools of tenants that have a database of their
//! own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use crate::directory::DatabaseUrl;
use crate::{Error, TenantPool, TenantPoolOptions};

/// How often a request waiting for a place in the cache tries to evict
/// again: pools that were being made when it first tried may be open now.
const EVICTION_RETRY: Duration = Duration::from_millis(20);

/// The limits of the cache; see [`RouterOptions`](super::RouterOptions).
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) max_pools: usize,
    pub(crate) connections_per_pool: u32,
    pub(crate) idle_pool_timeout: Duration,
    pub(crate) acquire_timeout: Duration,
}

/// One database's pool, made at most once: concurrent first requests wait
/// on the same cell. The permit counts the pool against the cache's bound
/// until its connections are closed.
struct Slot {
    pool: OnceCell<(TenantPool, Arc<OwnedSemaphorePermit>)>,
    /// When the pool was last handed out, in ms since the cache began.
    last_used: AtomicU64,
}

/// The cache: at most `max_pools` pools open (or closing) at once, each of
/// at most `connections_per_pool` connections, so at most their product
/// connections to all tenant databases together.
pub(crate) struct DatabasePools {
    limits: Limits,
    options: TenantPoolOptions,
    permits: Arc<Semaphore>,
    slots: Mutex<HashMap<DatabaseUrl, Arc<Slot>>>,
    epoch: Instant,
    created: AtomicU64,
}

impl DatabasePools {
    pub(crate) fn new(limits: Limits, options: TenantPoolOptions) -> Self {
        DatabasePools {
            permits: Arc::new(Semaphore::new(limits.max_pools)),
            limits,
            options,
            slots: Mutex::new(HashMap::new()),
            epoch: Instant::now(),
            created: AtomicU64::new(0),
        }
    }

    /// The pool of the database at `url`, made on first use.
    pub(crate) async fn pool(&self, url: &DatabaseUrl) -> Result<TenantPool, Error> {
        let slot = self.slot(url);
        let made = slot
            .pool
            .get_or_try_init(|| self.make(url))
            .await
            .map(|(pool, _)| pool.clone());
        if made.is_err() {
            // Let the next request try again rather than keep the failure.
            let mut slots = self.lock();
            if slots
                .get(url)
                .is_some_and(|known| Arc::ptr_eq(known, &slot))
            {
                slots.remove(url);
            }
        }
        made
    }

    /// The slot of `url` (a new, empty one if there is none), marked used
    /// now; pools idle for longer than the limit are closed on the way.
    fn slot(&self, url: &DatabaseUrl) -> Arc<Slot> {
        let now = self.now();
        let idle = u64::try_from(self.limits.idle_pool_timeout.as_millis()).unwrap_or(u64::MAX);
        let mut slots = self.lock();
        let stale: Vec<DatabaseUrl> = slots
            .iter()
            .filter(|(known, slot)| {
                *known != url
                    && slot.pool.initialized()
                    && now.saturating_sub(slot.last_used.load(Ordering::Relaxed)) > idle
            })
            .map(|(known, _)| known.clone())
            .collect();
        for known in stale {
            if let Some(slot) = slots.remove(&known) {
                close_in_background(slot);
            }
        }
        let slot = Arc::clone(slots.entry(url.clone()).or_insert_with(|| {
            Arc::new(Slot {
                pool: OnceCell::new(),
                last_used: AtomicU64::new(now),
            })
        }));
        slot.last_used.store(now, Ordering::Relaxed);
        slot
    }

    /// Makes the pool of `url`, once a place under the bound is free:
    /// evicting the least recently used open pool if none is.
    async fn make(
        &self,
        url: &DatabaseUrl,
    ) -> Result<(TenantPool, Arc<OwnedSemaphorePermit>), Error> {
        let permit = self.place(url).await?;
        let pool_options = PgPoolOptions::new()
            .test_before_acquire(false)
            .max_connections(self.limits.connections_per_pool)
            .min_connections(0)
            .idle_timeout(Some(self.limits.idle_pool_timeout))
            .acquire_timeout(self.limits.acquire_timeout);
        let pool =
            TenantPool::connect_with(pool_options, url.connect_options()?, self.options.clone())
                .await?
                .database_per_tenant();
        self.created.fetch_add(1, Ordering::Relaxed);
        Ok((pool, Arc::new(permit)))
    }

    /// A place under the bound for `url`'s pool: a free one, else one freed
    /// by evicting the least recently used open pool, tried again as pools
    /// are made and closed by other requests, until the acquire timeout.
    async fn place(&self, url: &DatabaseUrl) -> Result<OwnedSemaphorePermit, Error> {
        let deadline = tokio::time::Instant::now() + self.limits.acquire_timeout;
        loop {
            if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
                return Ok(permit);
            }
            self.evict_least_recently_used(url);
            let waiting = Arc::clone(&self.permits).acquire_owned();
            let retry = (tokio::time::Instant::now() + EVICTION_RETRY).min(deadline);
            match tokio::time::timeout_at(retry, waiting).await {
                Ok(Ok(permit)) => return Ok(permit),
                _ if tokio::time::Instant::now() >= deadline => {
                    return Err(Error::PoolCacheFull {
                        max_pools: self.limits.max_pools,
                        waited: self.limits.acquire_timeout,
                    });
                }
                // Pools that were still being made may be open now.
                _ => {}
            }
        }
    }

    /// Closes the open pool used longest ago, other than `url`'s, preferring
    /// one with no connection borrowed; its place is free once its borrowed
    /// connections have come back.
    fn evict_least_recently_used(&self, url: &DatabaseUrl) {
        let mut slots = self.lock();
        let oldest = slots
            .iter()
            .filter(|(known, slot)| *known != url && slot.pool.initialized())
            .min_by_key(|(_, slot)| {
                let busy = slot
                    .pool
                    .get()
                    .is_some_and(|(pool, _)| pool.size() as usize > pool.num_idle());
                (busy, slot.last_used.load(Ordering::Relaxed))
            })
            .map(|(known, _)| known.clone());
        if let Some(slot) = oldest.and_then(|known| slots.remove(&known)) {
            close_in_background(slot);
        }
    }

    /// The pools open now, closing ones excluded.
    pub(crate) fn open_pools(&self) -> usize {
        self.lock()
            .values()
            .filter(|slot| slot.pool.initialized())
            .count()
    }

    /// How many pools the cache has made since it began.
    pub(crate) fn pools_created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }

    /// Closes every pool, waiting for their borrowed connections.
    pub(crate) async fn close(&self) {
        let slots: Vec<Arc<Slot>> = self.lock().drain().map(|(_, slot)| slot).collect();
        for slot in slots {
            if let Some((pool, _permit)) = slot.pool.get() {
                pool.close().await;
            }
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DatabaseUrl, Arc<Slot>>> {
        // The map is consistent after every statement: a panic elsewhere
        // leaves nothing half-done in it.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Closes the slot's pool, then frees its place under the bound; until
/// then its connections still count. Requests that still hold the pool
/// finish their transactions first.
fn close_in_background(slot: Arc<Slot>) {
    if let Some((pool, permit)) = slot.pool.get() {
        let (pool, permit) = (pool.clone(), Arc::clone(permit));
        drop(slot);
        tokio::spawn(async move {
            pool.close().await;
            drop(permit);
        });
    }
}
