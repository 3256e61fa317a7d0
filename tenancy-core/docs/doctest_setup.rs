// The tables of the doc examples, included by each with
// `# include!("../docs/doctest_setup.rs");` (the path is relative to the
// file whose docs include it).

/// Subscription plans: reference data shared by every tenant.
#[tenancy_core::global_table]
pub struct Plan {
    #[tenancy(primary_key)]
    pub id: i64,
    #[tenancy(unique)]
    pub name: String,
}

/// A tenant's customers.
#[tenancy_core::tenant_scoped]
pub struct Customer {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    #[tenancy(unique)]
    pub name: String,
    #[tenancy(references = Plan)]
    pub plan_id: i64,
    pub region: Option<String>,
    /// The customer who referred this one.
    pub referred_by: Option<i64>,
}

/// A tenant's orders.
#[tenancy_core::tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    #[tenancy(references = Customer)]
    pub customer_id: i64,
    #[tenancy(index)]
    pub status: String,
    pub total: i64,
}

/// A tenant's audit events, with a JSON payload (feature `json`).
#[cfg(feature = "json")]
#[tenancy_core::tenant_scoped]
pub struct Event {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    pub payload: serde_json::Value,
}

/// A tenant's devices, by network address (feature `ipnetwork`).
#[cfg(feature = "ipnetwork")]
#[tenancy_core::tenant_scoped]
pub struct Device {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    pub address: ipnetwork::IpNetwork,
}

/// A tenant's articles, with tags (feature `array`).
#[cfg(feature = "array")]
#[tenancy_core::tenant_scoped]
pub struct Article {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    pub tags: Vec<String>,
}

/// A tenant's received webhooks, kept as sent in a `json` column (feature
/// `json`).
#[cfg(feature = "json")]
#[tenancy_core::tenant_scoped]
pub struct Webhook {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    pub body: tenancy_core::PlainJson,
}

/// A tenant's sessions, with an idle timeout (feature `interval`).
#[cfg(feature = "interval")]
#[tenancy_core::tenant_scoped]
pub struct Session {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub idle_timeout: tenancy_core::Interval,
}
