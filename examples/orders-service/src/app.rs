//! The router, its shared state, and the request span every log line of a
//! request carries.

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, SubsecRound, Utc};
use tenancy_sqlx::axum::{ApiKeyHash, request_span};
use tenancy_sqlx::{Backend, DecodeRow, TenantPool};
use tower_http::trace::TraceLayer;

use crate::auth::{self, ApiKeyVerifier};
use crate::routes::customers::CustomerOrder;
use crate::routes::dashboard::{StatusSummary, TopCustomer};
use crate::routes::plan::TenantPlan;
use crate::routes::{accounts, admin, customers, dashboard, orders, plan};
use crate::schema::{Account, Customer, Order, OrderItem};

/// What every handler shares: the tenant pool, the key verifier and the
/// admin credential.
pub struct AppState<DB: Backend> {
    /// Hands out tenant transactions.
    pub pool: TenantPool<DB>,
    /// Resolves API keys to tenants.
    pub keys: ApiKeyVerifier<DB>,
    /// The SHA-256 of the admin credential, if one is configured; without
    /// one, `/admin` refuses every request.
    pub admin_key: Option<ApiKeyHash>,
}

impl<DB: Backend> AppState<DB> {
    /// State over `pool`, whose API keys are verified against the
    /// `api_keys` table of the same database, with no admin credential.
    #[must_use]
    pub fn new(pool: TenantPool<DB>) -> Self {
        let keys = auth::api_keys(&pool);
        AppState {
            pool,
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

impl<DB: Backend> Clone for AppState<DB> {
    fn clone(&self) -> Self {
        AppState {
            pool: self.pool.clone(),
            keys: self.keys.clone(),
            admin_key: self.admin_key,
        }
    }
}

/// The service's routes, for a database of backend `DB`.
///
/// Each request runs in the library's `request` span, whose `tenant` field
/// the tenant extractor records once the caller's API key is verified, so
/// every log line of the request says which tenant it was for.
pub fn router<DB: Backend>(state: AppState<DB>) -> Router
where
    Order: DecodeRow<DB>,
    OrderItem: DecodeRow<DB>,
    Customer: DecodeRow<DB>,
    CustomerOrder: DecodeRow<DB>,
    TenantPlan: DecodeRow<DB>,
    Account: DecodeRow<DB>,
    StatusSummary: DecodeRow<DB>,
    TopCustomer: DecodeRow<DB>,
    (i64,): DecodeRow<DB>,
    (bool,): DecodeRow<DB>,
    (String,): DecodeRow<DB>,
{
    Router::new()
        .route(
            "/orders",
            get(orders::list::<DB>).post(orders::create::<DB>),
        )
        .route(
            "/orders/{id}",
            get(orders::get::<DB>)
                .patch(orders::update_status::<DB>)
                .delete(orders::delete::<DB>),
        )
        .route("/orders/{id}/items", get(orders::items::<DB>))
        .route(
            "/customers",
            get(customers::list::<DB>).post(customers::create::<DB>),
        )
        .route("/customers/{id}/orders", get(customers::orders::<DB>))
        .route("/plan", get(plan::get::<DB>))
        .route("/dashboard", get(dashboard::get::<DB>))
        .route("/accounts", post(accounts::create::<DB>))
        .route("/accounts/{id}", get(accounts::get::<DB>))
        .route("/accounts/{id}/transfer", post(accounts::transfer::<DB>))
        .route("/admin/export/orders", get(admin::export_orders::<DB>))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The current time, to the second: timestamps compare the same way as
/// text in SQLite (which stores them as RFC 3339) and as values in PostgreSQL.
#[must_use]
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}
