//! The extractor, and the trait the application's state implements to
//! verify a request.

use core::future::Future;

use ::axum::extract::FromRequestParts;
use ::axum::http::request::Parts;
use ::axum::response::IntoResponse;
use tenancy_core::{TenantId, TenantKey};

/// Verifies a request's credential and names its tenant.
///
/// Implement it on your router's state: read the credential (an API key in
/// `Authorization: Bearer ..`, a signed token), check it against something
/// the client cannot forge (a stored hash, a signature), and only then call
/// [`TenantId::from_verified`]. Never build the tenant from a value the
/// client sends as is, such as an `X-Tenant-Id` header.
///
/// [`ApiKeys`](super::ApiKeys) implements it for hashed API keys; a state
/// that holds one delegates to it:
///
/// ```
/// use axum::http::request::Parts;
/// use tenancy_sqlx::axum::{ApiKeyHash, ApiKeys, TenantRejection, VerifyTenant};
/// use tenancy_sqlx::TenantId;
///
/// #[derive(Clone)]
/// struct AppState<L> {
///     keys: ApiKeys<L>,
/// }
///
/// impl<L: tenancy_sqlx::axum::ApiKeyLookup<i64>> VerifyTenant<i64> for AppState<L> {
///     type Rejection = TenantRejection;
///
///     async fn verify(&self, parts: &Parts) -> Result<TenantId<i64>, TenantRejection> {
///         self.keys.verify(parts).await
///     }
/// }
/// ```
pub trait VerifyTenant<K: TenantKey = i64>: Send + Sync {
    /// The response for a request that cannot be verified.
    type Rejection: IntoResponse;

    /// The tenant the request's credential belongs to.
    fn verify(
        &self,
        parts: &Parts,
    ) -> impl Future<Output = Result<TenantId<K>, Self::Rejection>> + Send;
}

/// The verified tenant of a request: an axum extractor that runs the
/// state's [`VerifyTenant`] and yields its [`TenantId`], or responds with
/// its rejection.
///
/// It records the tenant's key on the current `tracing` span, in the field
/// `tenant`, which the span must declare (`tenant = tracing::field::Empty`):
/// [`request_span`](super::request_span) makes such a span. Extracting it
/// twice in one request verifies once.
///
/// ```
/// use tenancy_sqlx::axum::VerifiedTenant;
///
/// async fn list_orders(VerifiedTenant(tenant): VerifiedTenant) -> String {
///     // Open the transaction with `pool.begin(&tenant)`.
///     format!("orders of {tenant}")
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedTenant<K: TenantKey = i64>(pub TenantId<K>);

/// The request's tenant once verified, cached in the request's extensions.
/// Private, so nothing outside this module can put a tenant there.
#[derive(Clone, Copy)]
struct Verified<K: TenantKey>(TenantId<K>);

impl<S, K> FromRequestParts<S> for VerifiedTenant<K>
where
    S: VerifyTenant<K>,
    K: TenantKey,
{
    type Rejection = S::Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(Verified(tenant)) = parts.extensions.get::<Verified<K>>() {
            return Ok(VerifiedTenant(*tenant));
        }
        let tenant = state.verify(parts).await?;
        parts.extensions.insert(Verified(tenant));
        tracing::Span::current().record("tenant", tracing::field::display(tenant.key()));
        Ok(VerifiedTenant(tenant))
    }
}
