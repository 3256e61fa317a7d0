//! `/admin`: work across tenants, for the holder of the admin credential.

use axum::extract::State;
use axum::response::Response;
use tenancy_sqlx::{BeginTenant, DecodeRow, FanOut};

use crate::app::AppState;
use crate::auth::Admin;
use crate::error::AppError;
use crate::export::{self, Exporter, TenantOrders};
use crate::extract::Query;
use crate::model::AdminExportParams;
use crate::schema::Order;

/// Who the audit records for exports through `/admin`.
pub const ADMIN_LABEL: &str = "admin";

/// `GET /admin/export/orders?tenants=1,2&format=json|csv&status=..`: the
/// orders of each tenant named, for the admin credential only (a tenant's
/// API key gets 403). Each tenant is read in its own tenant transaction
/// (the library's fan-out), which also writes that tenant's
/// `export_audit` record, append-only; the first failure stops the export
/// and nothing is answered but the error.
pub async fn export_orders<T: BeginTenant>(
    State(state): State<AppState<T>>,
    _admin: Admin,
    Query(params): Query<AdminExportParams>,
) -> Result<Response, AppError>
where
    Order: DecodeRow<T::Backend>,
{
    let tenants = params.tenants()?;
    let per_tenant = params.per_tenant();
    let report = state
        .tenants
        .fan_out(tenants, &FanOut::new().concurrency(4), |tx| {
            let per_tenant = per_tenant.clone();
            Box::pin(async move {
                let tenant = *tx.tenant();
                let exporter = Exporter {
                    tenant: &tenant,
                    label: ADMIN_LABEL,
                };
                let orders = export::export_orders(tx, exporter, &per_tenant).await?;
                Ok::<_, AppError>(TenantOrders {
                    tenant: tenant.key(),
                    orders,
                })
            })
        })
        .await;
    let mut exported = Vec::new();
    for (_, result) in report.results {
        exported.push(result?);
    }
    // In the order the tenants were named, not the order they finished.
    let order: Vec<i64> = params.tenants()?.iter().map(|t| t.key()).collect();
    exported.sort_by_key(|e| order.iter().position(|t| *t == e.tenant));
    Ok(export::render(exported, params.format))
}
