//! The service's tables.
//!
//! Global tables hold what every tenant shares or what must be read before a
//! tenant is known: the plan catalogue, the tenant registry and the API keys
//! the authentication layer resolves to a tenant. Everything a tenant creates
//! is tenant-scoped, and the library leads every key of those tables with
//! `tenant_id`, so an order can only point at a customer of its own tenant.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::{global_table, tenant_scoped};

/// A plan of the catalogue, shared by all tenants.
#[global_table]
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Plan {
    /// The plan's key.
    #[tenancy(primary_key)]
    pub id: i64,
    /// A short name, such as `starter`.
    #[tenancy(unique)]
    pub code: String,
    /// The price per month, in cents.
    pub monthly_price_cents: i64,
    /// How many orders a tenant on this plan may keep.
    pub order_limit: i64,
}

/// A customer of this service: one organisation, one tenant.
///
/// Global: API keys reference it, and they are read before any tenant is
/// known. On PostgreSQL the application role may only read it.
#[global_table]
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Tenant {
    /// The tenant's key: the value of `tenant_id` in every scoped table.
    #[tenancy(primary_key)]
    pub id: i64,
    /// The organisation's name.
    #[tenancy(unique)]
    pub name: String,
    /// The plan the tenant is on.
    #[tenancy(references = Plan)]
    pub plan_id: i64,
}

/// An API key, stored only as the hex SHA-256 of the key.
///
/// Global by necessity: a request's key is looked up to learn its tenant.
#[global_table]
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKey {
    /// Hex SHA-256 of the key.
    #[tenancy(primary_key)]
    pub key_hash: String,
    /// The tenant the key acts for.
    #[tenancy(references = Tenant)]
    pub tenant_id: i64,
    /// Who holds the key, recorded in the export audit.
    pub label: String,
}

/// A customer of a tenant.
#[tenant_scoped]
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Customer {
    /// The owning tenant; never sent to clients.
    #[serde(skip)]
    pub tenant_id: i64,
    /// The customer's id, unique within the tenant.
    #[tenancy(primary_key, generated)]
    pub id: i64,
    /// Display name.
    pub name: String,
    /// E-mail address, unique within the tenant.
    #[tenancy(unique)]
    pub email: String,
    /// When the customer was created.
    pub created_at: DateTime<Utc>,
}

/// An order placed by a customer.
#[tenant_scoped(index(status, created_at))]
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Order {
    /// The owning tenant; never sent to clients.
    #[serde(skip)]
    pub tenant_id: i64,
    /// The order's id, unique within the tenant.
    #[tenancy(primary_key, generated)]
    pub id: i64,
    /// The customer who placed it, of the same tenant.
    #[tenancy(references = Customer)]
    pub customer_id: i64,
    /// One of [`OrderStatus`](crate::model::OrderStatus), as text.
    pub status: String,
    /// The sum of the items, in cents.
    pub total_cents: i64,
    /// When the order was placed.
    #[tenancy(index)]
    pub created_at: DateTime<Utc>,
}

/// A line of an order.
#[tenant_scoped]
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct OrderItem {
    /// The owning tenant; never sent to clients.
    #[serde(skip)]
    pub tenant_id: i64,
    /// The item's id, unique within the tenant.
    #[tenancy(primary_key, generated)]
    pub id: i64,
    /// The order it belongs to, of the same tenant.
    #[tenancy(references = Order)]
    pub order_id: i64,
    /// The product's stock-keeping unit.
    pub sku: String,
    /// How many.
    pub quantity: i64,
    /// The price of one, in cents.
    pub unit_price_cents: i64,
}

/// One export of a tenant's orders: who, when, which filter, how many.
#[tenant_scoped(table = "export_audit")]
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ExportAudit {
    /// The owning tenant; never sent to clients.
    #[serde(skip)]
    pub tenant_id: i64,
    /// The record's id, unique within the tenant.
    #[tenancy(primary_key, generated)]
    pub id: i64,
    /// The label of the API key that asked for the export.
    pub exported_by: String,
    /// When.
    pub exported_at: DateTime<Utc>,
    /// The filter, as given in the query string (`status=paid`, or `all`).
    pub filter: String,
    /// `json` or `csv`.
    pub format: String,
    /// How many orders were exported.
    pub record_count: i64,
}

/// A prepaid account of a tenant (a budget, a wallet). Its balance changes
/// only by transfers, each one `UPDATE .. SET balance_cents = balance_cents
/// - amount` guarded by `balance_cents >= amount`: one statement, never a
/// read followed by a write, so concurrent transfers cannot lose an update
/// or overdraw it.
#[tenant_scoped]
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Account {
    /// The owning tenant; never sent to clients.
    #[serde(skip)]
    pub tenant_id: i64,
    /// The account's id, unique within the tenant.
    #[tenancy(primary_key, generated)]
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The balance, in cents; never below 0.
    pub balance_cents: i64,
}

/// Every table, referenced tables first: the order DDL is applied in.
#[must_use]
pub fn tables() -> TableSet {
    TableSet::new()
        .with::<Plan>()
        .with::<Tenant>()
        .with::<ApiKey>()
        .with::<Customer>()
        .with::<Order>()
        .with::<OrderItem>()
        .with::<ExportAudit>()
        .with::<Account>()
}

/// The tenant tables alone, referenced tables first: what a tenant's own
/// schema or database holds. The global tables (the catalogue, the tenant
/// registry, the API keys) stay in the shared database.
#[must_use]
pub fn tenant_tables() -> TableSet {
    TableSet::new()
        .with::<Customer>()
        .with::<Order>()
        .with::<OrderItem>()
        .with::<ExportAudit>()
        .with::<Account>()
}

/// The tenant tables a move between places copies: all but the export
/// audit, which is append-only evidence (no role may delete from it, so a
/// move cannot remove it from the place it leaves) and stays where it was
/// written; the tenant's place after the move keeps its own from then on.
#[must_use]
pub fn movable_tables() -> TableSet {
    TableSet::new()
        .with::<Customer>()
        .with::<Order>()
        .with::<OrderItem>()
        .with::<Account>()
}
