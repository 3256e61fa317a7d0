//! The router, its shared state, and the request span every log line of a
//! request carries.

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, SubsecRound, Utc};
#[cfg(doc)]
use tenancy_sqlx::TenantPool;
use tenancy_sqlx::axum::{ApiKeyHash, request_span};
use tenancy_sqlx::{BeginTenant, DecodeRow};
use tower_http::trace::TraceLayer;

use crate::auth::{self, ApiKeyVerifier};
use crate::routes::customers::CustomerOrder;
use crate::routes::dashboard::{StatusSummary, TopCustomer};
use crate::routes::plan::TenantPlan;
use crate::routes::{accounts, admin, customers, dashboard, orders, plan};
use crate::schema::{Account, Customer, Order, OrderItem};

/// What every handler shares: where tenant transactions come from, the
/// key verifier and the admin credential.
///
/// `T` is a [`TenantPool`] when every tenant lives in one database's
/// shared tables (SQLite, or PostgreSQL without a directory), or a
/// [`TenantRouter`](tenancy_sqlx::TenantRouter) that opens each tenant's
/// transaction where the tenant directory places it: the shared tables, a
/// schema of its own, a database of its own. Handlers only call
/// [`BeginTenant::begin`], so they are the same in every model.
pub struct AppState<T: BeginTenant> {
    /// Hands out tenant transactions.
    pub tenants: T,
    /// Resolves API keys to tenants, from the shared database.
    pub keys: ApiKeyVerifier<T::Backend>,
    /// The SHA-256 of the admin credential, if one is configured; without
    /// one, `/admin` refuses every request.
    pub admin_key: Option<ApiKeyHash>,
}

impl<T: BeginTenant> AppState<T> {
    /// State over `tenants`, whose API keys are verified against the
    /// `api_keys` table of the shared database, with no admin credential.
    #[must_use]
    pub fn new(tenants: T) -> Self {
        let keys = auth::api_keys(tenants.shared_pool());
        AppState {
            tenants,
            keys,
            admin_key: None,
        }
    }

    /// Accepts `key` (kept only as its SHA-256) as the admin credential of
    /// `/admin`, which no tenant's API key reaches.
    #[must_use]
    pub fn with_admin_key(mut self, key: &str) -> Self {
        self.admin_key = Some(ApiKeyHash::of(key));
        self
    }
}

impl<T: BeginTenant> Clone for AppState<T> {
    fn clone(&self) -> Self {
        AppState {
            tenants: self.tenants.clone(),
            keys: self.keys.clone(),
            admin_key: self.admin_key,
        }
    }
}

/// The service's routes, over the tenants of `state`.
///
/// Each request runs in the library's `request` span, whose `tenant` field
/// the tenant extractor records once the caller's API key is verified, so
/// every log line of the request says which tenant it was for.
pub fn router<T: BeginTenant>(state: AppState<T>) -> Router
where
    Order: DecodeRow<T::Backend>,
    OrderItem: DecodeRow<T::Backend>,
    Customer: DecodeRow<T::Backend>,
    CustomerOrder: DecodeRow<T::Backend>,
    TenantPlan: DecodeRow<T::Backend>,
    Account: DecodeRow<T::Backend>,
    StatusSummary: DecodeRow<T::Backend>,
    TopCustomer: DecodeRow<T::Backend>,
    (i64,): DecodeRow<T::Backend>,
    (bool,): DecodeRow<T::Backend>,
    (String,): DecodeRow<T::Backend>,
{
    Router::new()
        .route("/orders", get(orders::list::<T>).post(orders::create::<T>))
        .route(
            "/orders/{id}",
            get(orders::get::<T>)
                .patch(orders::update_status::<T>)
                .delete(orders::delete::<T>),
        )
        .route("/orders/{id}/items", get(orders::items::<T>))
        .route(
            "/customers",
            get(customers::list::<T>).post(customers::create::<T>),
        )
        .route("/customers/{id}/orders", get(customers::orders::<T>))
        .route("/plan", get(plan::get::<T>))
        .route("/dashboard", get(dashboard::get::<T>))
        .route("/accounts", post(accounts::create::<T>))
        .route("/accounts/{id}", get(accounts::get::<T>))
        .route("/accounts/{id}/transfer", post(accounts::transfer::<T>))
        .route("/admin/export/orders", get(admin::export_orders::<T>))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The current time, to the second: timestamps compare the same way as
/// text in SQLite (which stores them as RFC 3339) and as values in PostgreSQL.
#[must_use]
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}
