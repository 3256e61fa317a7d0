//! The ready-made verifier: API keys stored as SHA-256 hashes.

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;

use ::axum::http::request::Parts;
use sha2::{Digest, Sha256};
use sqlx_core::transaction::TransactionManager;
use tenancy_core::{BuildStatement, Column, GlobalTable, Select, TenantId, TenantKey};

use super::bearer::bearer_token;
use super::{BoxError, TenantRejection, VerifyTenant};
use crate::backend::Backend;
use crate::execute::{Fetch, FirstRow};
use crate::{DecodeRow, TenantPool};

/// The SHA-256 of an API key: what you store, and what a lookup searches
/// for. Its text form is 64 lowercase hex digits.
///
/// Only the hash is kept, so a copy of the table does not give out working
/// keys. Comparing hashes in constant time is unnecessary: timing can at
/// most tell an attacker how much of the hash of *their own guess* matches a
/// stored hash, which does not help find a key whose hash matches.
///
/// ```
/// use tenancy_sqlx::axum::ApiKeyHash;
///
/// let hash = ApiKeyHash::of("tk_live_4f9d2c");
/// assert_eq!(hash.to_string().len(), 64);
/// assert_eq!(hash, ApiKeyHash::of("tk_live_4f9d2c"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiKeyHash([u8; 32]);

impl ApiKeyHash {
    /// Hashes an API key, to store it when it is issued, or to look it up.
    #[must_use]
    pub fn of(api_key: &str) -> Self {
        ApiKeyHash(Sha256::digest(api_key.as_bytes()).into())
    }

    /// The 32 bytes of the hash.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for ApiKeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for ApiKeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeyHash({self})")
    }
}

/// Finds the tenant an API key belongs to, by the key's hash.
///
/// Implemented for async closures `Fn(ApiKeyHash) -> Future<Output =
/// Result<Option<K>, E>>`, and by [`ApiKeyTable`] for a `#[global_table]`.
/// It returns the tenant's raw key: the verifier turns it into a
/// [`TenantId`] only after the lookup found it.
pub trait ApiKeyLookup<K: TenantKey>: Send + Sync {
    /// The tenant key stored for `hash`, or `None` for an unknown key.
    fn tenant_for(
        &self,
        hash: ApiKeyHash,
    ) -> impl Future<Output = Result<Option<K>, BoxError>> + Send;
}

impl<K, F, Fut, E> ApiKeyLookup<K> for F
where
    K: TenantKey,
    F: Fn(ApiKeyHash) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Option<K>, E>> + Send,
    E: Into<BoxError>,
{
    async fn tenant_for(&self, hash: ApiKeyHash) -> Result<Option<K>, BoxError> {
        self(hash).await.map_err(Into::into)
    }
}

/// The ready-made verifier: reads `Authorization: Bearer <api key>`, hashes
/// the key with SHA-256, looks the hash up, and only when it is found
/// returns the tenant. Refusals are [`TenantRejection`]s.
///
/// ```
/// use tenancy_sqlx::axum::{ApiKeyHash, ApiKeys};
///
/// // Any async lookup by hash; here, a fixed list.
/// let keys = ApiKeys::new(async |hash: ApiKeyHash| {
///     let known = [(ApiKeyHash::of("key-of-tenant-1"), 1_i64)];
///     let tenant = known.iter().find(|(stored, _)| *stored == hash).map(|(_, tenant)| *tenant);
///     Ok::<_, std::convert::Infallible>(tenant)
/// });
/// # let _ = keys;
/// ```
#[derive(Clone, Debug)]
pub struct ApiKeys<L> {
    lookup: L,
}

impl<L> ApiKeys<L> {
    /// A verifier that looks keys up with `lookup`.
    #[must_use]
    pub fn new(lookup: L) -> Self {
        ApiKeys { lookup }
    }
}

impl<T, K, DB> ApiKeys<ApiKeyTable<T, K, DB>>
where
    T: GlobalTable,
    K: TenantKey,
    DB: Backend,
{
    /// A verifier that looks keys up in the `#[global_table]` `T`, whose
    /// column `hash` holds [`ApiKeyHash`]es as text and column `tenant` the
    /// tenant's key, through `pool`'s connections (outside any tenant
    /// transaction: the key table belongs to no tenant).
    #[must_use]
    pub fn in_table(pool: &TenantPool<DB>, hash: Column<T, String>, tenant: Column<T, K>) -> Self {
        ApiKeys::new(ApiKeyTable {
            pool: pool.clone(),
            hash,
            tenant,
            _key: PhantomData,
        })
    }
}

impl<K: TenantKey, L: ApiKeyLookup<K>> VerifyTenant<K> for ApiKeys<L> {
    type Rejection = TenantRejection;

    async fn verify(&self, parts: &Parts) -> Result<TenantId<K>, TenantRejection> {
        let hash = ApiKeyHash::of(bearer_token(&parts.headers)?);
        match self.lookup.tenant_for(hash).await {
            // The trust decision: a stored hash matched.
            Ok(Some(key)) => Ok(TenantId::from_verified(key)),
            Ok(None) => Err(TenantRejection::UnknownCredential),
            Err(source) => Err(TenantRejection::LookupFailed { source }),
        }
    }
}

/// The lookup of [`ApiKeys::in_table`]: a `#[global_table]` of key hashes
/// and tenant keys.
pub struct ApiKeyTable<T, K, DB: Backend> {
    pool: TenantPool<DB>,
    hash: Column<T, String>,
    tenant: Column<T, K>,
    _key: PhantomData<fn() -> K>,
}

impl<T, K, DB: Backend> Clone for ApiKeyTable<T, K, DB> {
    fn clone(&self) -> Self {
        ApiKeyTable {
            pool: self.pool.clone(),
            hash: self.hash,
            tenant: self.tenant,
            _key: PhantomData,
        }
    }
}

impl<T: GlobalTable, K, DB: Backend> fmt::Debug for ApiKeyTable<T, K, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyTable")
            .field("table", &T::meta().name)
            .field("hash", &self.hash.name())
            .field("tenant", &self.tenant.name())
            .finish_non_exhaustive()
    }
}

impl<T, K, DB> ApiKeyLookup<K> for ApiKeyTable<T, K, DB>
where
    T: GlobalTable,
    K: TenantKey,
    DB: Backend,
    (K,): DecodeRow<DB>,
{
    fn tenant_for(
        &self,
        hash: ApiKeyHash,
    ) -> impl Future<Output = Result<Option<K>, BoxError>> + Send {
        let statement = Select::<T>::global()
            .column(self.tenant)
            .filter(self.hash.eq(hash.to_string()))
            .build(DB::DIALECT);
        let pool = self.pool.clone();
        let lookup: Pin<Box<dyn Future<Output = Result<Option<K>, BoxError>> + Send>> =
            Box::pin(async move {
                let statement = statement?;
                if pool.statements_persistent() {
                    // Through the tenant pool's own acquire, which refuses
                    // once a connection failed the pool's check.
                    let mut connection = pool.acquire().await?;
                    let row = match FirstRow::<(K,)>::fetch(
                        &mut connection,
                        statement.clone().into_parts(),
                        true,
                    )
                    .await
                    {
                        // The pool does not ping: a connection the server
                        // closed while it sat idle fails the SELECT, which
                        // had no effect, so it is sent once more on a live
                        // connection.
                        Err(error) if DB::is_connection_lost(&error) => {
                            connection.close_on_drop();
                            drop(connection);
                            let mut connection = pool.acquire_live().await?;
                            FirstRow::<(K,)>::fetch(&mut connection, statement.into_parts(), true)
                                .await?
                        }
                        row => row?,
                    };
                    return Ok(row.map(|(key,)| key));
                }
                // Behind a transaction-mode pooler an unnamed statement is
                // parsed, then executed: two exchanges, which the pooler
                // may send to different server connections unless a
                // transaction holds one for both. `begun` closes a
                // connection whose BEGIN did not complete (a dropped
                // future) and retries a BEGIN on a connection found closed.
                let mut connection = pool.begun("BEGIN READ ONLY".to_owned()).await?;
                let row =
                    FirstRow::<(K,)>::fetch(&mut connection, statement.into_parts(), false).await?;
                DB::TransactionManager::commit(&mut connection).await?;
                Ok(row.map(|(key,)| key))
            });
        // Boxed, so that the caller's future need not prove sqlx's futures
        // `Send` for concrete types, which trips a compiler limitation
        // (rust-lang/rust#100013) in the application's `verify`.
        lookup
    }
}
