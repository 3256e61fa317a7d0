//! `GET /plan`: the caller's plan, from the global `plans` catalogue, and
//! how much of it the tenant uses.

use axum::extract::State;
use serde::Serialize;
use tenancy_sqlx::axum::VerifiedTenant;
use tenancy_sqlx::{Backend, DecodeRow};

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
pub async fn get<DB: Backend>(
    State(state): State<AppState<DB>>,
    VerifiedTenant(tenant): VerifiedTenant,
) -> Result<axum::Json<PlanUsage>, AppError>
where
    TenantPlan: DecodeRow<DB>,
    (i64,): DecodeRow<DB>,
{
    let mut tx = state.pool.begin(&tenant).await?;
    // `tenants` and `plans` are global tables, so this statement has no
    // tenant predicate of its own: the caller's row is picked by its key,
    // which is the verified tenant's. (On PostgreSQL the application role
    // may read these tables, never change them.)
    let plan = tx
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
    let (orders,): (i64,) = tx.fetch_one(Order::select(&tenant).count()).await?;
    tx.commit().await?;
    Ok(axum::Json(PlanUsage { plan, orders }))
}
