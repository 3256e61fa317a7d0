//! One way to open a tenant's transaction, whether a single pool holds
//! every tenant or a router finds each one's place.

use core::future::Future;

use tenancy_core::{TenantId, TenantKey};

use crate::backend::Backend;
use crate::fan_out::{FanOut, FanOutReport, TenantWork, fan_out_with};
use crate::{Error, TenantPool, TenantTransaction};

/// Opens tenants' transactions: a [`TenantPool`], whose tenants all live in
/// its database, or a [`TenantRouter`](crate::TenantRouter) (feature
/// `postgres`), which opens each tenant's transaction where its directory
/// entry places it (shared tables, a schema, a database of its own).
///
/// Application code written against this trait runs unchanged in every
/// isolation model: where a tenant lives is configuration, not code. The
/// transaction is the same [`TenantTransaction`] either way, with the same
/// statement API and scope checks.
///
/// ```
/// use tenancy_sqlx::{BeginTenant, DecodeRow, TenantId, tenant_scoped};
///
/// #[tenant_scoped]
/// #[derive(Debug, sqlx::FromRow)]
/// pub struct Note {
///     pub tenant_id: i64,
///     #[tenancy(primary_key, generated)]
///     pub id: i64,
///     pub body: String,
/// }
///
/// /// The tenant's notes, from a pool or a router alike.
/// async fn notes<T: BeginTenant>(tenants: &T, tenant: &TenantId) -> Result<Vec<Note>, tenancy_sqlx::Error>
/// where
///     Note: DecodeRow<T::Backend>,
/// {
///     let mut tx = tenants.begin(tenant).await?;
///     let notes = tx.fetch_all(Note::select(tenant)).await?;
///     tx.commit().await?;
///     Ok(notes)
/// }
/// # let _ = notes::<tenancy_sqlx::TenantPool>;
/// ```
pub trait BeginTenant: Clone + Send + Sync + 'static {
    /// The database backend of the transactions.
    type Backend: Backend;

    /// Opens a transaction for `tenant`, in the one round trip of `BEGIN`
    /// with the tenant set (on a cached placement, for a router). A router
    /// refuses a tenant its directory does not know or does not have
    /// active ([`Error::TenantNotFound`], [`Error::TenantUnavailable`]).
    fn begin<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
    ) -> impl Future<Output = Result<TenantTransaction<K, Self::Backend>, Error>> + Send;

    /// The pool of the shared database: the one whose global tables (a
    /// catalogue, API keys, the tenant registry) every tenant shares. A
    /// tenant placed in a schema or a database of its own has only its
    /// tenant tables there, so read global tables through this pool, in a
    /// transaction of the tenant's that reads nothing else. For a
    /// [`TenantPool`], the pool itself.
    fn shared_pool(&self) -> &TenantPool<Self::Backend>;

    /// Runs `work` once per tenant of `tenants`, each in its own
    /// transaction opened by [`begin`](Self::begin) (so wherever the tenant
    /// lives), committed when `work` returns `Ok` and rolled back when it
    /// returns `Err`: [`TenantPool::fan_out`], for any implementation.
    fn fan_out<K, T, E, F>(
        &self,
        tenants: impl IntoIterator<Item = TenantId<K>>,
        options: &FanOut,
        work: F,
    ) -> impl Future<Output = FanOutReport<K, T, E>> + Send
    where
        K: TenantKey,
        T: Send,
        E: From<Error> + core::fmt::Display + Send,
        F: for<'t> Fn(&'t mut TenantTransaction<K, Self::Backend>) -> TenantWork<'t, T, E>
            + Send
            + Sync,
    {
        let tenants: Vec<TenantId<K>> = tenants.into_iter().collect();
        fan_out_with(self, tenants, options.clone(), work)
    }
}

impl<DB: Backend> BeginTenant for TenantPool<DB> {
    type Backend = DB;

    fn begin<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
    ) -> impl Future<Output = Result<TenantTransaction<K, DB>, Error>> + Send {
        TenantPool::begin(self, tenant)
    }

    fn shared_pool(&self) -> &TenantPool<DB> {
        self
    }
}

#[cfg(feature = "postgres")]
impl<D: crate::directory::TenantDirectory> BeginTenant for crate::TenantRouter<D> {
    type Backend = crate::Postgres;

    fn begin<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
    ) -> impl Future<Output = Result<TenantTransaction<K, crate::Postgres>, Error>> + Send {
        crate::TenantRouter::begin(self, tenant)
    }

    fn shared_pool(&self) -> &TenantPool<crate::Postgres> {
        crate::TenantRouter::shared_pool(self)
    }
}
