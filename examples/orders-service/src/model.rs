//! What clients send: request bodies and query strings, and the checks that
//! turn them into values the handlers can trust.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use tenancy_sqlx::TenantId;

use crate::error::AppError;

/// The life cycle of an order. Unknown statuses are refused at the door,
/// with the list of valid ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    /// Placed, not paid.
    Pending,
    /// Paid, not shipped.
    Paid,
    /// On its way.
    Shipped,
    /// Will not be fulfilled.
    Cancelled,
}

impl OrderStatus {
    /// The status as stored in `orders.status`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Cancelled => "cancelled",
        }
    }
}

/// The largest page a list endpoint returns.
pub const MAX_LIMIT: i64 = 100;
/// The page size when none is asked for.
pub const DEFAULT_LIMIT: i64 = 20;

/// `limit` and `offset`, as sent. Signed, so that a negative value is
/// reported as such rather than as "invalid digit".
#[derive(Debug, Default, Deserialize)]
pub struct PageParams {
    /// How many rows, 1 to [`MAX_LIMIT`].
    pub limit: Option<i64>,
    /// How many rows to skip, 0 or more.
    pub offset: Option<i64>,
}

/// A checked page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Page {
    /// How many rows.
    pub limit: u64,
    /// How many rows skipped.
    pub offset: u64,
}

impl PageParams {
    /// Checks the bounds.
    pub fn page(&self) -> Result<Page, AppError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        let offset = self.offset.unwrap_or(0);
        let limit = u64::try_from(limit)
            .ok()
            .filter(|limit| (1..=MAX_LIMIT.unsigned_abs()).contains(limit))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "limit must be between 1 and {MAX_LIMIT}, got {limit}"
                ))
            })?;
        let offset = u64::try_from(offset)
            .map_err(|_| AppError::BadRequest(format!("offset must be 0 or more, got {offset}")))?;
        Ok(Page { limit, offset })
    }
}

/// The query string of `GET /orders`.
#[derive(Debug, Default, Deserialize)]
pub struct OrderListParams {
    /// Only orders with this status.
    pub status: Option<OrderStatus>,
    /// Only orders placed on or after this day (UTC), `YYYY-MM-DD`.
    pub created_from: Option<String>,
    /// Only orders placed on or before this day (UTC), `YYYY-MM-DD`.
    pub created_to: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// A checked `created_from`/`created_to` range, as instants: `[from, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CreatedRange {
    /// The first instant included.
    pub from: Option<DateTime<Utc>>,
    /// The first instant after the range.
    pub until: Option<DateTime<Utc>>,
}

impl OrderListParams {
    /// The page asked for.
    pub fn page(&self) -> Result<Page, AppError> {
        PageParams {
            limit: self.limit,
            offset: self.offset,
        }
        .page()
    }

    /// The date range asked for; both ends are whole days, inclusive.
    pub fn created_range(&self) -> Result<CreatedRange, AppError> {
        CreatedRange::parse(self.created_from.as_deref(), self.created_to.as_deref())
    }
}

impl CreatedRange {
    /// `created_from` and `created_to` as sent: whole days, inclusive.
    pub fn parse(created_from: Option<&str>, created_to: Option<&str>) -> Result<Self, AppError> {
        let from = parse_day("created_from", created_from)?;
        let to = parse_day("created_to", created_to)?;
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(AppError::BadRequest(format!(
                "created_from ({from}) is after created_to ({to})"
            )));
        }
        Ok(CreatedRange {
            from: from.map(start_of_day),
            until: to.and_then(|day| day.succ_opt()).map(start_of_day),
        })
    }
}

/// The largest number of customers the dashboard ranks.
pub const MAX_TOP: i64 = 50;

/// `GET /dashboard?created_from=&created_to=&top=`, as sent.
#[derive(Debug, Default, Deserialize)]
pub struct DashboardParams {
    /// Only orders placed on or after this day (UTC), `YYYY-MM-DD`.
    pub created_from: Option<String>,
    /// Only orders placed on or before this day (UTC), `YYYY-MM-DD`.
    pub created_to: Option<String>,
    /// How many customers to rank, 1 to [`MAX_TOP`] (default 5).
    pub top: Option<i64>,
}

impl DashboardParams {
    /// The date range asked for; both ends are whole days, inclusive.
    pub fn created_range(&self) -> Result<CreatedRange, AppError> {
        CreatedRange::parse(self.created_from.as_deref(), self.created_to.as_deref())
    }

    /// How many customers to rank.
    pub fn top(&self) -> Result<u64, AppError> {
        let top = self.top.unwrap_or(5);
        u64::try_from(top)
            .ok()
            .filter(|top| (1..=MAX_TOP.unsigned_abs()).contains(top))
            .ok_or_else(|| {
                AppError::BadRequest(format!("top must be between 1 and {MAX_TOP}, got {top}"))
            })
    }
}

/// The body of `POST /accounts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Display name, not empty.
    pub name: String,
    /// The opening balance, in cents, 0 or more.
    pub balance_cents: i64,
}

impl NewAccount {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), AppError> {
        require_text("name", &self.name, 200)?;
        if self.balance_cents < 0 {
            return Err(AppError::BadRequest(format!(
                "balance_cents must be 0 or more, got {}",
                self.balance_cents
            )));
        }
        Ok(())
    }
}

/// The body of `POST /accounts/{id}/transfer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The account credited, of the same tenant.
    pub to: i64,
    /// How much, in cents, more than 0.
    pub amount_cents: i64,
}

impl TransferRequest {
    /// Checks the fields against the debited account `from`.
    pub fn validate(&self, from: i64) -> Result<(), AppError> {
        if self.amount_cents <= 0 {
            return Err(AppError::BadRequest(format!(
                "amount_cents must be more than 0, got {}",
                self.amount_cents
            )));
        }
        if self.to == from {
            return Err(AppError::BadRequest(format!(
                "an account cannot transfer to itself (account {from})"
            )));
        }
        Ok(())
    }
}

fn parse_day(name: &str, text: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    text.map(|text| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            AppError::BadRequest(format!(
                "{name} must be a date like 2024-05-31, got {text:?}"
            ))
        })
    })
    .transpose()
}

fn start_of_day(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The body of `POST /customers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// Display name, not empty.
    pub name: String,
    /// E-mail address, unique within the tenant.
    pub email: String,
}

impl NewCustomer {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), AppError> {
        require_text("name", &self.name, 200)?;
        require_text("email", &self.email, 320)?;
        if !self.email.contains('@') {
            return Err(AppError::BadRequest(format!(
                "email must contain '@', got {:?}",
                self.email
            )));
        }
        Ok(())
    }
}

/// The body of `POST /orders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// An existing customer of the caller's tenant.
    pub customer_id: i64,
    /// At least one line.
    pub items: Vec<NewItem>,
}

/// A line of [`NewOrder`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    /// The product's stock-keeping unit.
    pub sku: String,
    /// How many, 1 to [`MAX_QUANTITY`].
    pub quantity: i64,
    /// The price of one, in cents, 0 or more.
    pub unit_price_cents: i64,
}

/// The most of one product an order line may hold.
pub const MAX_QUANTITY: i64 = 10_000;
/// The most lines an order may have.
pub const MAX_ITEMS: usize = 100;

impl NewOrder {
    /// Checks the lines and returns the order's total, in cents.
    pub fn validate(&self) -> Result<i64, AppError> {
        if self.items.is_empty() || self.items.len() > MAX_ITEMS {
            return Err(AppError::BadRequest(format!(
                "items must hold 1 to {MAX_ITEMS} lines, got {}",
                self.items.len()
            )));
        }
        let mut total: i64 = 0;
        for (index, item) in self.items.iter().enumerate() {
            require_text(&format!("items[{index}].sku"), &item.sku, 64)?;
            if !(1..=MAX_QUANTITY).contains(&item.quantity) {
                return Err(AppError::BadRequest(format!(
                    "items[{index}].quantity must be between 1 and {MAX_QUANTITY}, got {}",
                    item.quantity
                )));
            }
            if item.unit_price_cents < 0 {
                return Err(AppError::BadRequest(format!(
                    "items[{index}].unit_price_cents must be 0 or more, got {}",
                    item.unit_price_cents
                )));
            }
            total = item
                .quantity
                .checked_mul(item.unit_price_cents)
                .and_then(|line| total.checked_add(line))
                .ok_or_else(|| AppError::BadRequest("the order's total is too large".to_owned()))?;
        }
        Ok(total)
    }
}

/// The body of `PATCH /orders/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// The new status.
    pub status: OrderStatus,
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// A JSON array of orders.
    #[default]
    Json,
    /// Comma-separated values with a header line.
    Csv,
}

impl ExportFormat {
    /// The format's name, as in the query string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }
}

/// What of a tenant's orders an export takes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExportParams {
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: ExportFormat,
    /// Only orders with this status.
    pub status: Option<OrderStatus>,
}

/// The query string of `GET /admin/export/orders`: which tenants, and
/// what of their orders.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminExportParams {
    /// The tenants, by id, comma-separated (`1,2`); at most
    /// [`AdminExportParams::MAX_TENANTS`].
    pub tenants: String,
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: ExportFormat,
    /// Only orders with this status.
    pub status: Option<OrderStatus>,
}

impl AdminExportParams {
    /// The most tenants one request exports.
    pub const MAX_TENANTS: usize = 100;

    /// The tenants asked for, each once, in the order given. The admin
    /// credential is what makes naming them a trusted decision.
    pub fn tenants(&self) -> Result<Vec<TenantId>, AppError> {
        let mut tenants: Vec<TenantId> = Vec::new();
        for part in self.tenants.split(',') {
            let id: i64 = part.trim().parse().map_err(|_| {
                AppError::BadRequest(format!("tenants: `{}` is not a tenant id", part.trim()))
            })?;
            if id <= 0 {
                return Err(AppError::BadRequest(format!(
                    "tenants: {id} is not a tenant id"
                )));
            }
            let tenant = TenantId::from_verified(id);
            if !tenants.contains(&tenant) {
                tenants.push(tenant);
            }
        }
        if tenants.len() > Self::MAX_TENANTS {
            return Err(AppError::BadRequest(format!(
                "tenants: at most {} at once",
                Self::MAX_TENANTS
            )));
        }
        Ok(tenants)
    }

    /// What to export of each tenant.
    #[must_use]
    pub fn per_tenant(&self) -> ExportParams {
        ExportParams {
            format: self.format,
            status: self.status,
        }
    }
}

fn require_text(name: &str, value: &str, max_len: usize) -> Result<(), AppError> {
    if value.trim().is_empty() {
        return Err(AppError::BadRequest(format!("{name} must not be empty")));
    }
    if value.len() > max_len {
        return Err(AppError::BadRequest(format!(
            "{name} must be at most {max_len} bytes, got {}",
            value.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded() {
        let page = |limit, offset| PageParams { limit, offset }.page();
        assert_eq!(
            page(None, None).ok(),
            Some(Page {
                limit: 20,
                offset: 0
            })
        );
        assert_eq!(
            page(Some(100), Some(5)).ok(),
            Some(Page {
                limit: 100,
                offset: 5
            })
        );
        for (limit, offset) in [
            (Some(0), None),
            (Some(-1), None),
            (Some(101), None),
            (None, Some(-3)),
        ] {
            assert!(page(limit, offset).is_err(), "{limit:?} {offset:?}");
        }
    }

    #[test]
    fn date_ranges_cover_whole_days() {
        let params = OrderListParams {
            created_from: Some("2024-05-01".into()),
            created_to: Some("2024-05-31".into()),
            ..OrderListParams::default()
        };
        let range = params.created_range().ok();
        let expected = CreatedRange {
            from: Some(start_of_day(
                NaiveDate::from_ymd_opt(2024, 5, 1).unwrap_or_default(),
            )),
            until: Some(start_of_day(
                NaiveDate::from_ymd_opt(2024, 6, 1).unwrap_or_default(),
            )),
        };
        assert_eq!(range, Some(expected));
        let reversed = OrderListParams {
            created_from: Some("2024-06-01".into()),
            created_to: Some("2024-05-01".into()),
            ..OrderListParams::default()
        };
        assert!(reversed.created_range().is_err());
    }

    #[test]
    fn totals_are_checked() {
        let order = |quantity, unit_price_cents| NewOrder {
            customer_id: 1,
            items: vec![NewItem {
                sku: "SKU-1".into(),
                quantity,
                unit_price_cents,
            }],
        };
        assert_eq!(order(3, 250).validate().ok(), Some(750));
        assert!(order(0, 250).validate().is_err());
        assert!(order(1, -1).validate().is_err());
        assert!(order(MAX_QUANTITY, i64::MAX).validate().is_err());
    }
}
