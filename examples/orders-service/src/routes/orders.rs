//! `/orders`: list, read, place, change status, delete, and an order's items.
//!
//! Every handler runs in one tenant transaction opened with the caller's
//! verified tenant, builds its statements with that tenant, and commits only
//! when everything succeeded: an error returns early and the dropped
//! transaction rolls back.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use tenancy_sqlx::axum::VerifiedTenant;
use tenancy_sqlx::{Backend, BeginTenant, DecodeRow, TenantTransaction};
use tenancy_sqlx::{Filter, TenantId};

use crate::app::AppState;
use crate::error::AppError;
use crate::extract::{Json, Path, Query};
use crate::model::{NewOrder, OrderListParams, Page, StatusChange};
use crate::schema::{Customer, Order, OrderItem};

/// A page of orders and how many match in all.
#[derive(Debug, Serialize)]
pub struct OrderPage {
    /// The orders of this page, newest first.
    pub orders: Vec<Order>,
    /// How many orders match the filters.
    pub total: i64,
    /// The page returned.
    #[serde(flatten)]
    pub page: Page,
}

/// An order with its items.
#[derive(Debug, Serialize)]
pub struct OrderWithItems {
    /// The order.
    #[serde(flatten)]
    pub order: Order,
    /// Its items.
    pub items: Vec<OrderItem>,
}

/// `GET /orders?status=&created_from=&created_to=&limit=&offset=`
pub async fn list<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Query(params): Query<OrderListParams>,
) -> Result<axum::Json<OrderPage>, AppError>
where
    Order: DecodeRow<T::Backend>,
    (i64,): DecodeRow<T::Backend>,
{
    let page = params.page()?;
    let range = params.created_range()?;
    let mut filters = Vec::new();
    if let Some(status) = params.status {
        filters.push(Order::STATUS.eq(status.as_str()));
    }
    if let Some(from) = range.from {
        filters.push(Order::CREATED_AT.gte(from));
    }
    if let Some(until) = range.until {
        filters.push(Order::CREATED_AT.lt(until));
    }
    let matching = Order::select(&tenant).filter(Filter::all(filters));

    let mut tx = state.tenants.begin(&tenant).await?;
    let (total,): (i64,) = tx.fetch_one(matching.clone().count()).await?;
    let orders = tx
        .fetch_all(
            matching
                .order_by_desc(Order::CREATED_AT)
                .order_by_desc(Order::ID)
                .limit(page.limit)
                .offset(page.offset),
        )
        .await?;
    tx.commit().await?;
    Ok(axum::Json(OrderPage {
        orders,
        total,
        page,
    }))
}

/// `GET /orders/{id}`
pub async fn get<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Path(id): Path<i64>,
) -> Result<axum::Json<Order>, AppError>
where
    (i64,): DecodeRow<T::Backend>,
    Order: DecodeRow<T::Backend>,
{
    let mut tx = state.tenants.begin(&tenant).await?;
    let order = find(&mut tx, id).await?;
    tx.commit().await?;
    Ok(axum::Json(order))
}

/// `POST /orders` with `{"customer_id": 1, "items": [{"sku": .., "quantity": .., "unit_price_cents": ..}]}`
pub async fn create<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Json(new): Json<NewOrder>,
) -> Result<(StatusCode, axum::Json<OrderWithItems>), AppError>
where
    (i64,): DecodeRow<T::Backend>,
    Order: DecodeRow<T::Backend>,
    OrderItem: DecodeRow<T::Backend>,
    (bool,): DecodeRow<T::Backend>,
{
    let total = new.validate()?;
    let mut tx = state.tenants.begin(&tenant).await?;

    // Another tenant's customer is as absent as one that never existed; the
    // composite foreign key would refuse it too.
    let customer = Customer::select(&tenant).filter(Customer::ID.eq(new.customer_id));
    let (exists,): (bool,) = tx.fetch_one(customer.exists()).await?;
    if !exists {
        return Err(AppError::Unprocessable(format!(
            "customer {} not found",
            new.customer_id
        )));
    }

    let order: Order = tx
        .fetch_one(
            Order::insert(&tenant)
                .set(Order::CUSTOMER_ID, new.customer_id)
                .set(Order::STATUS, "pending")
                .set(Order::TOTAL_CENTS, total)
                .set(Order::CREATED_AT, crate::app::now())
                .returning_all(),
        )
        .await?;
    let items = insert_items(&mut tx, &tenant, order.id, &new).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(OrderWithItems { order, items }),
    ))
}

async fn insert_items<DB: Backend>(
    tx: &mut TenantTransaction<i64, DB>,
    tenant: &TenantId,
    order_id: i64,
    new: &NewOrder,
) -> Result<Vec<OrderItem>, AppError>
where
    OrderItem: DecodeRow<DB>,
{
    let mut insert = OrderItem::insert(tenant);
    for (index, item) in new.items.iter().enumerate() {
        if index > 0 {
            insert = insert.new_row();
        }
        insert = insert
            .set(OrderItem::ORDER_ID, order_id)
            .set(OrderItem::SKU, item.sku.clone())
            .set(OrderItem::QUANTITY, item.quantity)
            .set(OrderItem::UNIT_PRICE_CENTS, item.unit_price_cents);
    }
    Ok(tx.fetch_all(insert.returning_all()).await?)
}

/// `PATCH /orders/{id}` with `{"status": "paid"}`
pub async fn update_status<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Path(id): Path<i64>,
    Json(change): Json<StatusChange>,
) -> Result<axum::Json<Order>, AppError>
where
    (i64,): DecodeRow<T::Backend>,
    Order: DecodeRow<T::Backend>,
{
    let mut tx = state.tenants.begin(&tenant).await?;
    let updated = tx
        .fetch_optional(
            Order::update(&tenant)
                .set(Order::STATUS, change.status.as_str())
                .filter(Order::ID.eq(id))
                .returning_all(),
        )
        .await?
        .ok_or(AppError::NotFound { what: "order", id })?;
    tx.commit().await?;
    Ok(axum::Json(updated))
}

/// `DELETE /orders/{id}`: the order and its items.
pub async fn delete<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError>
where
    (i64,): DecodeRow<T::Backend>,
{
    let mut tx = state.tenants.begin(&tenant).await?;
    tx.execute(OrderItem::delete(&tenant).filter(OrderItem::ORDER_ID.eq(id)))
        .await?;
    let deleted = tx
        .execute(Order::delete(&tenant).filter(Order::ID.eq(id)))
        .await?;
    if deleted == 0 {
        // Dropping the transaction rolls back: nothing was changed.
        return Err(AppError::NotFound { what: "order", id });
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /orders/{id}/items`
pub async fn items<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Path(id): Path<i64>,
) -> Result<axum::Json<Vec<OrderItem>>, AppError>
where
    (i64,): DecodeRow<T::Backend>,
    Order: DecodeRow<T::Backend>,
    OrderItem: DecodeRow<T::Backend>,
{
    let mut tx = state.tenants.begin(&tenant).await?;
    find(&mut tx, id).await?;
    let items = tx
        .fetch_all(
            OrderItem::select(&tenant)
                .filter(OrderItem::ORDER_ID.eq(id))
                .order_by_asc(OrderItem::ID),
        )
        .await?;
    tx.commit().await?;
    Ok(axum::Json(items))
}

/// The tenant's order `id`, or 404.
async fn find<DB: Backend>(tx: &mut TenantTransaction<i64, DB>, id: i64) -> Result<Order, AppError>
where
    Order: DecodeRow<DB>,
{
    let select = Order::select(tx.tenant()).filter(Order::ID.eq(id));
    tx.fetch_optional(select)
        .await?
        .ok_or(AppError::NotFound { what: "order", id })
}
