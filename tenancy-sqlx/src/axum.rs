//! Verified tenants for axum handlers.
//!
//! *Available with the `axum` feature.*
//!
//! A handler gets its tenant from the [`VerifiedTenant`] extractor, which
//! yields a [`TenantId`](crate::TenantId) only after the router state's
//! [`VerifyTenant`] checked the request's credential — never from a
//! tenant number the client sends. [`ApiKeys`] is the verifier for the
//! common case: `Authorization: Bearer <api key>`, keys stored as SHA-256
//! hashes, looked up by an async closure or in a `#[global_table]`
//! ([`ApiKeys::in_table`]). Refusals are [`TenantRejection`]s: 401 with a
//! `WWW-Authenticate` challenge and a JSON `{"error": ".."}` body that says
//! what to send.
//!
//! ```
//! use axum::{Router, body::Body, extract::State, http::{Request, StatusCode, request::Parts}, routing::get};
//! use tenancy_sqlx::axum::{ApiKeyHash, ApiKeyTable, ApiKeys, TenantRejection, VerifiedTenant, VerifyTenant};
//! use tenancy_sqlx::ddl::TableSet;
//! use tenancy_sqlx::{CrossTenant, Sqlite, TenantId, TenantPool, TenantPoolOptions, global_table};
//! use tower::ServiceExt;
//!
//! /// Issued keys, by hash: the table belongs to no tenant.
//! #[global_table]
//! pub struct ApiKey {
//!     #[tenancy(primary_key)]
//!     pub key_hash: String,
//!     pub tenant_id: i64,
//! }
//!
//! #[derive(Clone)]
//! struct AppState {
//!     pool: TenantPool<Sqlite>,
//!     keys: ApiKeys<ApiKeyTable<ApiKey, i64, Sqlite>>,
//! }
//!
//! impl VerifyTenant for AppState {
//!     type Rejection = TenantRejection;
//!
//!     async fn verify(&self, parts: &Parts) -> Result<TenantId, TenantRejection> {
//!         self.keys.verify(parts).await
//!     }
//! }
//!
//! async fn whoami(State(state): State<AppState>, VerifiedTenant(tenant): VerifiedTenant) -> String {
//!     // Tenant work goes through `state.pool.begin(&tenant)`.
//!     # let _ = state.pool;
//!     format!("{tenant}")
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let tables = TableSet::new().with::<ApiKey>();
//! let pool = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&tables)).await?;
//! let owner = pool.owner_pool(CrossTenant::with_reason("set-up: issue an API key")?);
//! owner.apply_schema(&tables).await?;
//! owner
//!     .execute(
//!         ApiKey::insert()
//!             .set(ApiKey::KEY_HASH, ApiKeyHash::of("tk_7f3a9c").to_string())
//!             .set(ApiKey::TENANT_ID, 42),
//!     )
//!     .await?;
//!
//! let keys = ApiKeys::in_table(&pool, ApiKey::KEY_HASH, ApiKey::TENANT_ID);
//! let app = Router::new().route("/whoami", get(whoami)).with_state(AppState { pool, keys });
//!
//! let request = Request::get("/whoami").header("authorization", "Bearer tk_7f3a9c").body(Body::empty())?;
//! let response = app.clone().oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//!
//! let forged = Request::get("/whoami").header("x-tenant-id", "42").body(Body::empty())?;
//! assert_eq!(app.oneshot(forged).await?.status(), StatusCode::UNAUTHORIZED);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(run())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Tracing
//!
//! The extractor records the tenant's key in the field `tenant` of the
//! current span. `tracing` records only fields a span declared when it was
//! created, so declare it in your request span (`tenant =
//! tracing::field::Empty`), or use [`request_span`].

#![cfg_attr(docsrs, doc(cfg(feature = "axum")))]

mod api_key;
mod bearer;
mod extract;
mod rejection;
mod span;

pub use api_key::{ApiKeyHash, ApiKeyLookup, ApiKeyTable, ApiKeys};
pub use extract::{VerifiedTenant, VerifyTenant};
pub use rejection::TenantRejection;
pub use span::request_span;

/// The error type of key lookups: any error converts into it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
