//! Who is calling. The tenant comes from the library's verifier only: the
//! request's `Authorization: Bearer <api key>` is hashed and looked up in
//! the `api_keys` table; there is no other way for a request to name a
//! tenant.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use tenancy_sqlx::TenantId;
use tenancy_sqlx::axum::{
    ApiKeyHash, ApiKeyTable, ApiKeys, TenantRejection, VerifiedTenant, VerifyTenant,
};
use tenancy_sqlx::{Backend, BeginTenant, DecodeRow, TenantPool, TenantTransaction};

use crate::app::AppState;
use crate::error::AppError;
use crate::schema::ApiKey;

/// The verifier: API keys by SHA-256 hash, in the global `api_keys` table.
pub type ApiKeyVerifier<DB> = ApiKeys<ApiKeyTable<ApiKey, i64, DB>>;

/// A verifier that looks keys up in `api_keys` through `pool`, the pool of
/// the shared database (the keys stay there, whatever the tenants' places).
#[must_use]
pub fn api_keys<DB: Backend>(pool: &TenantPool<DB>) -> ApiKeyVerifier<DB> {
    ApiKeys::in_table(pool, ApiKey::KEY_HASH, ApiKey::TENANT_ID)
}

/// The text stored in `api_keys.key_hash` for an API key.
#[must_use]
pub fn hash_key(api_key: &str) -> String {
    ApiKeyHash::of(api_key).to_string()
}

impl<T: BeginTenant> VerifyTenant for AppState<T>
where
    (i64,): DecodeRow<T::Backend>,
{
    type Rejection = TenantRejection;

    async fn verify(&self, parts: &Parts) -> Result<TenantId, TenantRejection> {
        self.keys.verify(parts).await
    }
}

/// The verified caller and the hash of the key it used, for recording who
/// did something. Extracting it verifies the key first (through
/// [`VerifiedTenant`]).
#[derive(Debug, Clone, Copy)]
pub struct KeyHolder {
    /// The key's tenant.
    pub tenant: TenantId,
    /// The key's hash.
    pub key_hash: ApiKeyHash,
}

impl<S> FromRequestParts<S> for KeyHolder
where
    S: VerifyTenant<Rejection = TenantRejection>,
{
    type Rejection = TenantRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, TenantRejection> {
        let VerifiedTenant(tenant) = VerifiedTenant::from_request_parts(parts, state).await?;
        // Verified, so the header is exactly one well-formed `Bearer <key>`.
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .map(|(_, key)| key.trim_start_matches(' '))
            .ok_or(TenantRejection::MissingCredential)?;
        Ok(KeyHolder {
            tenant,
            key_hash: ApiKeyHash::of(key),
        })
    }
}

impl KeyHolder {
    /// The label of the caller's key, read in `tx`: a transaction of the
    /// shared database (`BeginTenant::shared_pool`), where `api_keys` is
    /// whatever the tenant's place.
    pub async fn label<DB: Backend>(
        &self,
        tx: &mut TenantTransaction<i64, DB>,
    ) -> Result<String, AppError>
    where
        (String,): DecodeRow<DB>,
    {
        let (label,): (String,) = tx
            .fetch_optional(
                ApiKey::select()
                    .column(ApiKey::LABEL)
                    .filter(ApiKey::KEY_HASH.eq(self.key_hash.to_string()))
                    .filter(ApiKey::TENANT_ID.eq(self.tenant.key())),
            )
            .await?
            // Revoked between verification and now.
            .ok_or_else(|| AppError::Unauthorized("unknown API key".to_owned()))?;
        Ok(label)
    }
}

/// The admin credential, checked: extracting it succeeds only for a request
/// whose `Authorization: Bearer <key>` is the configured admin key. A
/// tenant's API key is refused (403) without being looked up; no key, 401.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl<T: BeginTenant> FromRequestParts<AppState<T>> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<T>) -> Result<Self, AppError> {
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(|key| key.trim_start_matches(' '))
            .filter(|key| !key.is_empty())
            .ok_or_else(|| AppError::Unauthorized("the admin credential is missing".to_owned()))?;
        match state.admin_key {
            Some(admin) if admin == ApiKeyHash::of(key) => Ok(Admin),
            _ => Err(AppError::Forbidden(
                "this endpoint needs the admin credential; a tenant's API key cannot reach it"
                    .to_owned(),
            )),
        }
    }
}
