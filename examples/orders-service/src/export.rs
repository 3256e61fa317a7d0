//! The admin export of a tenant's orders, as JSON or CSV, and the audit
//! record every export leaves behind.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use tenancy_sqlx::{Backend, DecodeRow, TenantTransaction};
use tenancy_sqlx::{Filter, TenantId};

use crate::error::AppError;
use crate::model::{ExportFormat, ExportParams};
use crate::schema::{ExportAudit, Order};

/// Who asked for the export, as recorded in `export_audit.exported_by`.
#[derive(Debug, Clone)]
pub struct Exporter<'a> {
    /// The verified tenant.
    pub tenant: &'a TenantId,
    /// The label of the API key used.
    pub label: &'a str,
}

/// Reads the tenant's orders matching `params` and records the export in
/// `export_audit`, in the caller's transaction: the audit row and the data
/// it describes are one unit, committed together or not at all.
pub async fn export_orders<DB: Backend>(
    tx: &mut TenantTransaction<i64, DB>,
    exporter: Exporter<'_>,
    params: &ExportParams,
) -> Result<Vec<Order>, AppError>
where
    Order: DecodeRow<DB>,
{
    let tenant = exporter.tenant;
    let filter = Filter::all(
        params
            .status
            .map(|status| Order::STATUS.eq(status.as_str())),
    );
    let orders = tx
        .fetch_all(Order::select(tenant).filter(filter).order_by_asc(Order::ID))
        .await?;
    let record_count = i64::try_from(orders.len())
        .map_err(|_| AppError::BadRequest("too many orders to export at once".to_owned()))?;
    tx.execute(
        ExportAudit::insert(tenant)
            .set(ExportAudit::EXPORTED_BY, exporter.label.to_owned())
            .set(ExportAudit::EXPORTED_AT, crate::app::now())
            .set(ExportAudit::FILTER, filter_description(params))
            .set(ExportAudit::FORMAT, params.format.as_str())
            .set(ExportAudit::RECORD_COUNT, record_count),
    )
    .await?;
    Ok(orders)
}

/// The filter as the audit records it: `status=paid`, or `all`.
#[must_use]
pub fn filter_description(params: &ExportParams) -> String {
    match params.status {
        Some(status) => format!("status={}", status.as_str()),
        None => "all".to_owned(),
    }
}

/// One tenant's part of an export.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TenantOrders {
    /// The tenant.
    pub tenant: i64,
    /// Its orders.
    pub orders: Vec<Order>,
}

/// The export as an HTTP response in the format asked for, offered as a
/// download: JSON, an array of `{"tenant": .., "orders": [..]}`; CSV, one
/// line per order with its tenant first.
#[must_use]
pub fn render(exported: Vec<TenantOrders>, format: ExportFormat) -> Response {
    let disposition = format!("attachment; filename=\"orders.{}\"", format.as_str());
    match format {
        ExportFormat::Json => (
            [(header::CONTENT_DISPOSITION, disposition)],
            axum::Json(exported),
        )
            .into_response(),
        ExportFormat::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            to_csv(&exported),
        )
            .into_response(),
    }
}

/// The orders as CSV (RFC 4180): a header line, then one line per order.
#[must_use]
pub fn to_csv(exported: &[TenantOrders]) -> String {
    let mut csv = String::from("tenant_id,id,customer_id,status,total_cents,created_at\r\n");
    for order in exported.iter().flat_map(|part| &part.orders) {
        let fields = [
            order.tenant_id.to_string(),
            order.id.to_string(),
            order.customer_id.to_string(),
            order.status.clone(),
            order.total_cents.to_string(),
            order.created_at.to_rfc3339(),
        ];
        let line: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        csv.push_str(&line.join(","));
        csv.push_str("\r\n");
    }
    csv
}

/// Quotes a field when it holds a separator, a quote or a line break.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("paid"), "paid");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn csv_has_a_header_and_a_line_per_order() {
        let order = Order {
            tenant_id: 1,
            id: 7,
            customer_id: 3,
            status: "paid".into(),
            total_cents: 1250,
            created_at: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
        };
        let csv = to_csv(&[TenantOrders {
            tenant: 1,
            orders: vec![order],
        }]);
        assert_eq!(
            csv,
            "tenant_id,id,customer_id,status,total_cents,created_at\r\n1,7,3,paid,1250,1970-01-01T00:00:00+00:00\r\n"
        );
    }
}
