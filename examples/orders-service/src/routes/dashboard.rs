//! `/dashboard`: the tenant's orders summed per status, and its customers
//! ranked by revenue, over a date range — computed by the database in two
//! grouped selects (one with a window rank), not by fetching the orders.

use axum::extract::State;
use serde::Serialize;
use tenancy_sqlx::axum::VerifiedTenant;
use tenancy_sqlx::functions::{count_all, rank};
use tenancy_sqlx::{BeginTenant, DecodeRow, Filter, Window, ident};

use crate::app::AppState;
use crate::error::AppError;
use crate::extract::Query;
use crate::model::{CreatedRange, DashboardParams, OrderStatus};
use crate::schema::{Customer, Order};

/// The orders of one status in the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StatusSummary {
    /// The status.
    pub status: String,
    /// How many orders.
    pub orders: i64,
    /// Their totals added up, in cents.
    pub total_cents: i64,
}

/// A customer's place among the tenant's customers by revenue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TopCustomer {
    /// 1 for the largest revenue; customers with equal revenue share a
    /// place (`RANK()`).
    pub rank: i64,
    /// The customer.
    pub customer_id: i64,
    /// The customer's name.
    pub name: String,
    /// The totals of the customer's orders in the range that were not
    /// cancelled, in cents.
    pub revenue_cents: i64,
}

/// The dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    /// Per status, in the order of the status names.
    pub by_status: Vec<StatusSummary>,
    /// The top customers by revenue, best first.
    pub top_customers: Vec<TopCustomer>,
}

/// `GET /dashboard?created_from=&created_to=&top=`
pub async fn get<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Query(params): Query<DashboardParams>,
) -> Result<axum::Json<Dashboard>, AppError>
where
    StatusSummary: DecodeRow<T::Backend>,
    TopCustomer: DecodeRow<T::Backend>,
{
    let range = in_range(params.created_range()?);
    let top = params.top()?;

    let by_status = Order::select(&tenant)
        .filter(range.clone())
        .columns((
            Order::STATUS,
            count_all().alias(ident!("orders")),
            Order::TOTAL_CENTS
                .sum()
                .coalesce(0)
                .alias(ident!("total_cents")),
        ))
        .group_by(Order::STATUS)
        .order_by_asc(Order::STATUS);

    let revenue = Order::TOTAL_CENTS.sum().coalesce(0);
    let top_customers = Order::select(&tenant)
        .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
        .filter(range.and(Order::STATUS.ne(OrderStatus::Cancelled.as_str())))
        .columns((
            rank()
                .over(Window::new().order_by(revenue.clone().desc()))
                .alias(ident!("rank")),
            Customer::ID.alias(ident!("customer_id")),
            Customer::NAME,
            revenue.clone().alias(ident!("revenue_cents")),
        ))
        .group_by((Customer::ID, Customer::NAME))
        .order_by_desc(revenue)
        .order_by_asc(Customer::ID)
        .limit(top);

    let mut tx = state.tenants.begin(&tenant).await?;
    let by_status = tx.fetch_all(by_status).await?;
    let top_customers = tx.fetch_all(top_customers).await?;
    tx.commit().await?;
    Ok(axum::Json(Dashboard {
        by_status,
        top_customers,
    }))
}

/// The orders placed in `range`.
fn in_range(range: CreatedRange) -> Filter {
    let mut filters = Vec::new();
    if let Some(from) = range.from {
        filters.push(Order::CREATED_AT.gte(from));
    }
    if let Some(until) = range.until {
        filters.push(Order::CREATED_AT.lt(until));
    }
    Filter::all(filters)
}
