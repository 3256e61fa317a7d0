//! `/admin`: work on the caller's whole tenant.

use axum::extract::State;
use axum::response::Response;
use tenancy_sqlx::{Backend, DecodeRow};

use crate::app::AppState;
use crate::auth::KeyHolder;
use crate::error::AppError;
use crate::export::{self, Exporter};
use crate::extract::Query;
use crate::model::ExportParams;
use crate::schema::Order;

/// `GET /admin/export/orders?format=json|csv&status=..`: the caller's
/// tenant's orders, and one `export_audit` record written in the same
/// transaction.
pub async fn export_orders<DB: Backend>(
    State(state): State<AppState<DB>>,
    caller: KeyHolder,
    Query(params): Query<ExportParams>,
) -> Result<Response, AppError>
where
    Order: DecodeRow<DB>,
    (i64,): DecodeRow<DB>,
    (String,): DecodeRow<DB>,
{
    let mut tx = state.pool.begin(&caller.tenant).await?;
    let label = caller.label(&mut tx).await?;
    let exporter = Exporter {
        tenant: &caller.tenant,
        label: &label,
    };
    let orders = export::export_orders(&mut tx, exporter, &params).await?;
    tx.commit().await?;
    Ok(export::render(orders, params.format))
}
