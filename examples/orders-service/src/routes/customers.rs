//! `/customers`: create, list, and a customer's orders (a join).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tenancy_sqlx::axum::VerifiedTenant;
use tenancy_sqlx::{BeginTenant, DecodeRow};

use crate::app::AppState;
use crate::error::AppError;
use crate::extract::{Json, Path, Query};
use crate::model::{NewCustomer, PageParams};
use crate::schema::{Customer, Order};

/// `POST /customers` with `{"name": .., "email": ..}`
pub async fn create<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Json(new): Json<NewCustomer>,
) -> Result<(StatusCode, axum::Json<Customer>), AppError>
where
    (i64,): DecodeRow<T::Backend>,
    Customer: DecodeRow<T::Backend>,
{
    new.validate()?;
    let mut tx = state.tenants.begin(&tenant).await?;
    // E-mails are unique per tenant (`UNIQUE (tenant_id, email)`): another
    // tenant's customer with the same address is neither visible nor in the way.
    let created = tx
        .fetch_optional(
            Customer::insert(&tenant)
                .set(Customer::NAME, new.name)
                .set(Customer::EMAIL, new.email.clone())
                .set(Customer::CREATED_AT, crate::app::now())
                .on_conflict_do_nothing((Customer::EMAIL,))
                .returning_all(),
        )
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "a customer with email {:?} already exists",
                new.email
            ))
        })?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// `GET /customers?limit=&offset=`
pub async fn list<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Query(params): Query<PageParams>,
) -> Result<axum::Json<Vec<Customer>>, AppError>
where
    (i64,): DecodeRow<T::Backend>,
    Customer: DecodeRow<T::Backend>,
{
    let page = params.page()?;
    let mut tx = state.tenants.begin(&tenant).await?;
    let customers = tx
        .fetch_all(
            Customer::select(&tenant)
                .order_by_asc(Customer::ID)
                .limit(page.limit)
                .offset(page.offset),
        )
        .await?;
    tx.commit().await?;
    Ok(axum::Json(customers))
}

/// An order joined with its customer.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct CustomerOrder {
    /// The order's id.
    pub id: i64,
    /// The order's status.
    pub status: String,
    /// The order's total, in cents.
    pub total_cents: i64,
    /// When the order was placed.
    pub created_at: DateTime<Utc>,
    /// The customer's name (`customers.name`).
    #[sqlx(rename = "name")]
    pub customer_name: String,
    /// The customer's e-mail address (`customers.email`).
    #[sqlx(rename = "email")]
    pub customer_email: String,
}

/// `GET /customers/{id}/orders`: the customer's orders, newest first, each
/// with the customer's name and e-mail, from `orders JOIN customers`.
pub async fn orders<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Path(id): Path<i64>,
) -> Result<axum::Json<Vec<CustomerOrder>>, AppError>
where
    (i64,): DecodeRow<T::Backend>,
    CustomerOrder: DecodeRow<T::Backend>,
    (bool,): DecodeRow<T::Backend>,
{
    let mut tx = state.tenants.begin(&tenant).await?;
    let customer = Customer::select(&tenant).filter(Customer::ID.eq(id));
    let (exists,): (bool,) = tx.fetch_one(customer.exists()).await?;
    if !exists {
        return Err(AppError::NotFound {
            what: "customer",
            id,
        });
    }
    // The join is scoped on both sides: `customers.tenant_id = $n` is part
    // of its ON clause, bound to the same tenant as the orders.
    let orders = tx
        .fetch_all(
            Order::select(&tenant)
                .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
                .columns((
                    Order::ID,
                    Order::STATUS,
                    Order::TOTAL_CENTS,
                    Order::CREATED_AT,
                    Customer::NAME,
                    Customer::EMAIL,
                ))
                .filter(Customer::ID.eq(id))
                .order_by_desc(Order::CREATED_AT)
                .order_by_desc(Order::ID),
        )
        .await?;
    tx.commit().await?;
    Ok(axum::Json(orders))
}
