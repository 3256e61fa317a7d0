//! `GET /plan`: the caller's plan, from the global `plans` catalogue of the
//! shared database, and how much of it the tenant uses.

use axum::extract::State;
use serde::Serialize;
use tenancy_sqlx::axum::VerifiedTenant;
use tenancy_sqlx::{BeginTenant, DecodeRow};

use crate::app::AppState;
use crate::error::AppError;
use crate::schema::{Order, Plan, Tenant};

/// The tenant's registry row joined with its plan.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct TenantPlan {
    /// The tenant's name (`tenants.name`).
    #[sqlx(rename = "name")]
    pub tenant: String,
    /// The plan's code (`plans.code`).
    #[sqlx(rename = "code")]
    pub plan: String,
    /// The plan's price per month, in cents.
    pub monthly_price_cents: i64,
    /// How many orders the plan allows.
    pub order_limit: i64,
}

/// The answer of `GET /plan`.
#[derive(Debug, Serialize)]
pub struct PlanUsage {
    /// The tenant and its plan.
    #[serde(flatten)]
    pub plan: TenantPlan,
    /// How many orders the tenant has.
    pub orders: i64,
}

/// `GET /plan`
pub async fn get<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
) -> Result<axum::Json<PlanUsage>, AppError>
where
    TenantPlan: DecodeRow<T::Backend>,
    (i64,): DecodeRow<T::Backend>,
{
    // The tenant's orders, wherever the tenant lives (its transaction is
    // opened first: a tenant that may not be served is refused here).
    let mut tx = state.tenants.begin(&tenant).await?;
    let (orders,): (i64,) = tx.fetch_one(Order::select(&tenant).count()).await?;
    tx.commit().await?;
    // `tenants` and `plans` are global tables of the shared database, which
    // a tenant in a schema or a database of its own does not have: they are
    // read there, in a transaction of the tenant's that reads nothing else.
    // The statement has no tenant predicate of its own: the caller's row is
    // picked by its key, which is the verified tenant's. (On PostgreSQL the
    // application role may read these tables, never change them.)
    let mut shared = state.tenants.shared_pool().begin(&tenant).await?;
    let plan = shared
        .fetch_optional(
            Tenant::select()
                .join_global::<Plan>(Plan::ID.eq_col(Tenant::PLAN_ID))
                .columns((
                    Tenant::NAME,
                    Plan::CODE,
                    Plan::MONTHLY_PRICE_CENTS,
                    Plan::ORDER_LIMIT,
                ))
                .filter(Tenant::ID.eq(tenant.key())),
        )
        .await?
        .ok_or_else(|| {
            AppError::Unauthorized(format!("{tenant} is not registered; ask for a new API key"))
        })?;
    shared.commit().await?;
    Ok(axum::Json(PlanUsage { plan, orders }))
}
