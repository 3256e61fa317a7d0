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
/// [`request_span`](super::request_span) makes such a span.
///
/// Every extraction runs the verifier it is given: nothing is cached in the
/// request, so a tenant that a permissive verifier accepted (in a
/// middleware with its own state, say) never stands in for the verdict of a
/// stricter one later in the same request, whatever their order or types.
/// A verifier that is costly to run twice can cache its own verdicts.
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

impl<S, K> FromRequestParts<S> for VerifiedTenant<K>
where
    S: VerifyTenant<K>,
    K: TenantKey,
{
    type Rejection = S::Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let tenant = state.verify(parts).await?;
        tracing::Span::current().record("tenant", tracing::field::display(tenant.key()));
        Ok(VerifiedTenant(tenant))
    }
}
