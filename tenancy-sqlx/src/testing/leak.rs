//! The leak-test kit: seed two tenants, act as one, and fail — naming the
//! value and where it was found — if anything of the other shows up.
//!
//! A test written with it does what an attacker would: it gives each
//! tenant data that nothing else can contain (the kit generates the values),
//! runs an operation as tenant A — a query, a service call, an HTTP request
//! — and searches everything the operation returned for tenant B's values:
//! in rows, in ids, in a JSON or HTML body. It is meant to be copied into
//! your own test suite, one test per read path:
//!
//! ```
//! use serde::Serialize;
//! use tenancy_sqlx::ddl::TableSet;
//! use tenancy_sqlx::testing::{LeakTest, LeakTestError};
//! use tenancy_sqlx::{CrossTenant, TenantId, TenantPool, TenantPoolOptions, tenant_scoped};
//!
//! #[tenant_scoped]
//! #[derive(Debug, Serialize, sqlx::FromRow)]
//! pub struct Note {
//!     pub tenant_id: i64,
//!     #[tenancy(primary_key)]
//!     pub id: i64,
//!     pub body: String,
//! }
//!
//! # async fn leak_test() -> Result<(), LeakTestError> {
//! let tables = TableSet::new().with::<Note>();
//! let pool = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&tables)).await?;
//! pool.owner_pool(CrossTenant::with_reason("test set-up").expect("a non-empty reason"))
//!     .apply_schema(&tables)
//!     .await?;
//!
//! let (a, b) = (TenantId::from_verified(1), TenantId::from_verified(2));
//! let mut test = LeakTest::new(a, b);
//!
//! // Each tenant gets rows whose values only it has.
//! test.seed_in(&pool, async |tx, seed| {
//!     let note = Note::insert(seed.tenant())
//!         .set(Note::ID, seed.marker_id("note id"))
//!         .set(Note::BODY, seed.marker("note body"));
//!     tx.execute(note).await?;
//!     Ok(())
//! })
//! .await?;
//!
//! // The read path under test, as tenant A: nothing of B may come back.
//! let report = test
//!     .run_in(&pool, &a, async |tx| {
//!         let notes: Vec<Note> = tx.fetch_all(Note::select(tx.tenant())).await?;
//!         Ok(notes)
//!     })
//!     .await?;
//! report.assert_no_leak();
//! report.assert_sees_own_values();
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(sqlx::Error::from)
//! #     .map_err(tenancy_sqlx::Error::from)?.block_on(leak_test())?;
//! # Ok::<(), LeakTestError>(())
//! ```
//!
//! When a path leaks, the test fails with what leaked and where:
//!
//! ```text
//! cross-tenant leak: tenant 1 saw 2 value(s) seeded for another tenant:
//!   - tenant 2's note id 1384226113349126 at $[1].id
//!   - tenant 2's note body "note body-7f3a0c2e9b14d851" at $[1].body
//! ```
//!
//! Over HTTP, seed through the API with each tenant's credentials
//! ([`seed`](LeakTest::seed)), and search the response body as tenant A sees
//! it ([`run_as`](LeakTest::run_as) with a `serde_json::Value` or the body
//! text, or [`scan`](LeakTest::scan) on a body you already have).
//!
//! The kit works on every backend, and on none: what it searches is the
//! operation's result, serialized to JSON. On PostgreSQL, run it as the
//! application role, so that Row Level Security takes part; on SQLite, where
//! the builder's predicate is the only guard, it is the test that the
//! predicate is on every path.

mod marker;
mod report;
mod scan;

use std::sync::Arc;

use serde::Serialize;
use tenancy_core::{TenantId, TenantKey};

pub use self::marker::MarkerValue;
use self::marker::{Marker, Tokens};
pub use self::report::{BoxError, Leak, LeakReport, LeakTestError};
use crate::backend::Backend;
use crate::{TenantPool, TenantTransaction};

/// A leak test over two tenants: seed both, then run operations as either
/// and get a [`LeakReport`] of what they saw of the other.
///
/// See [the module docs](crate::testing::leak) for a complete test.
#[derive(Debug)]
pub struct LeakTest<K: TenantKey = i64> {
    tenants: [Seeded<K>; 2],
    tokens: Arc<Tokens>,
}

/// One tenant and the values seeded for it.
#[derive(Debug)]
struct Seeded<K: TenantKey> {
    tenant: TenantId<K>,
    markers: Vec<Marker>,
}

impl<K: TenantKey> LeakTest<K> {
    /// A leak test over tenants `a` and `b`, which must differ. Nothing is
    /// seeded yet.
    #[must_use]
    pub fn new(a: TenantId<K>, b: TenantId<K>) -> Self {
        let seeded = |tenant| Seeded {
            tenant,
            markers: Vec::new(),
        };
        LeakTest {
            tenants: [seeded(a), seeded(b)],
            tokens: Tokens::new(),
        }
    }

    /// Runs `seed` once for each tenant, with a [`TenantSeed`] that hands out
    /// values unique to that tenant and records them. Insert them any way
    /// you like: through a pool, or through your HTTP API with the tenant's
    /// credentials. May be called more than once; values accumulate.
    pub async fn seed(
        &mut self,
        mut seed: impl AsyncFnMut(&mut TenantSeed<K>) -> Result<(), BoxError>,
    ) -> Result<(), LeakTestError> {
        self.check_tenants_differ()?;
        for seeded in &mut self.tenants {
            let mut tenant_seed = TenantSeed::new(seeded.tenant, Arc::clone(&self.tokens));
            seed(&mut tenant_seed)
                .await
                .map_err(|source| LeakTestError::Seed {
                    tenant: seeded.tenant.to_string(),
                    source,
                })?;
            seeded.markers.append(&mut tenant_seed.markers);
        }
        Ok(())
    }

    /// Like [`seed`](Self::seed), inside a transaction of `pool` opened for
    /// each tenant in turn and committed when `seed` succeeds.
    pub async fn seed_in<DB: Backend>(
        &mut self,
        pool: &TenantPool<DB>,
        mut seed: impl AsyncFnMut(
            &mut TenantTransaction<K, DB>,
            &mut TenantSeed<K>,
        ) -> Result<(), BoxError>,
    ) -> Result<(), LeakTestError> {
        self.seed(async |tenant_seed| {
            let mut tx = pool.begin(tenant_seed.tenant()).await?;
            seed(&mut tx, tenant_seed).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Runs `op` as `tenant` and searches what it returned for the values
    /// seeded for every other tenant.
    ///
    /// `op` returns anything `serde::Serialize`: rows, ids, a
    /// `serde_json::Value` response, or a text body (searched as one string).
    pub async fn run_as<T: Serialize>(
        &self,
        tenant: &TenantId<K>,
        op: impl AsyncFnOnce(&TenantId<K>) -> Result<T, BoxError>,
    ) -> Result<LeakReport<K>, LeakTestError> {
        let seen = op(tenant)
            .await
            .map_err(|source| LeakTestError::Operation {
                tenant: tenant.to_string(),
                source,
            })?;
        self.scan(tenant, &seen)
    }

    /// Like [`run_as`](Self::run_as), inside a transaction of `pool` opened
    /// for `tenant` and rolled back afterwards, so the seeded data stays as
    /// it was for the next check.
    pub async fn run_in<DB: Backend, T: Serialize>(
        &self,
        pool: &TenantPool<DB>,
        tenant: &TenantId<K>,
        op: impl AsyncFnOnce(&mut TenantTransaction<K, DB>) -> Result<T, BoxError>,
    ) -> Result<LeakReport<K>, LeakTestError> {
        let mut tx = pool.begin(tenant).await?;
        let seen = op(&mut tx)
            .await
            .map_err(|source| LeakTestError::Operation {
                tenant: tenant.to_string(),
                source,
            })?;
        tx.rollback().await?;
        self.scan(tenant, &seen)
    }

    /// Searches `seen`, what `observer` was shown, for the values seeded for
    /// every other tenant (and counts the observer's own).
    pub fn scan<T: Serialize + ?Sized>(
        &self,
        observer: &TenantId<K>,
        seen: &T,
    ) -> Result<LeakReport<K>, LeakTestError> {
        self.check_tenants_differ()?;
        let seen = serde_json::to_value(seen).map_err(|source| LeakTestError::Serialize {
            tenant: observer.to_string(),
            source,
        })?;
        let mut report = LeakReport {
            observer: *observer,
            leaks: Vec::new(),
            own_values_seen: 0,
        };
        for seeded in &self.tenants {
            let found = scan::find(&seen, &seeded.markers);
            if seeded.tenant == *observer {
                report.own_values_seen += found.len();
                continue;
            }
            if seeded.markers.is_empty() {
                return Err(LeakTestError::NothingSeeded {
                    tenant: seeded.tenant.to_string(),
                });
            }
            report
                .leaks
                .extend(found.into_iter().map(|(marker, path)| Leak {
                    owner: seeded.tenant,
                    label: marker.label.clone(),
                    value: marker.value.clone(),
                    path,
                }));
        }
        Ok(report)
    }

    fn check_tenants_differ(&self) -> Result<(), LeakTestError> {
        let [a, b] = &self.tenants;
        if a.tenant == b.tenant {
            return Err(LeakTestError::SameTenant {
                tenant: a.tenant.to_string(),
            });
        }
        Ok(())
    }
}

/// What a seeding operation gets for one tenant: the tenant, and values
/// unique to it, recorded so the kit can search for them later.
#[derive(Debug)]
pub struct TenantSeed<K: TenantKey = i64> {
    tenant: TenantId<K>,
    tokens: Arc<Tokens>,
    markers: Vec<Marker>,
}

impl<K: TenantKey> TenantSeed<K> {
    fn new(tenant: TenantId<K>, tokens: Arc<Tokens>) -> Self {
        TenantSeed {
            tenant,
            tokens,
            markers: Vec::new(),
        }
    }

    /// The tenant being seeded: insert its rows with this witness.
    #[must_use]
    pub fn tenant(&self) -> &TenantId<K> {
        &self.tenant
    }

    /// A text value no other marker contains, `"<label>-<16 hex digits>"`,
    /// recorded for this tenant under `label`. Put it in a text column, or
    /// inside a larger value (`format!("{}@example.com", seed.marker("email"))`).
    pub fn marker(&mut self, label: &str) -> String {
        let text = format!("{label}-{}", self.tokens.token());
        self.record(label, text.as_str());
        text
    }

    /// An id no other marker has, at least 10^15 and below 2^53, recorded
    /// for this tenant under `label`. Use it as a row's key where the
    /// application lets you choose one.
    pub fn marker_id(&mut self, label: &str) -> i64 {
        let id = self.tokens.id();
        self.record(label, id);
        id
    }

    /// Records a value of this tenant that the database or the API chose
    /// (a generated id, a slug), so that it is searched for too. It should
    /// be unique to the tenant: a small id such as `3` is also found in
    /// another tenant's `"count": 3`.
    pub fn record(&mut self, label: &str, value: impl Into<MarkerValue>) {
        self.markers.push(Marker {
            label: label.to_owned(),
            value: value.into(),
        });
    }
}
