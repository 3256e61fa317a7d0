//! Tables for the builder tests, declared with `#[tenant_scoped]` and
//! `#[global_table]` as an application declares them: the traits they
//! implement are sealed, so the macros are the only way to make a table.

#![allow(dead_code, unused_imports)]

use tenancy_core::{global_table, tenant_scoped};

// ---- keyed by i64 -------------------------------------------------------

#[tenant_scoped]
#[derive(Clone, Debug, Default)]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    #[tenancy(references = Customer)]
    pub customer_id: i64,
    #[tenancy(index)]
    pub status: String,
    pub total: i64,
    pub note: Option<String>,
}

#[tenant_scoped]
#[derive(Clone, Debug, Default)]
pub struct Customer {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    #[tenancy(unique)]
    pub name: String,
    pub region: Option<String>,
    #[tenancy(references = Plan)]
    pub plan_id: i64,
}

#[tenant_scoped(table = "order_lines", index(sku, qty))]
#[derive(Clone, Debug, Default)]
pub struct Line {
    pub tenant_id: i64,
    #[tenancy(primary_key, references = Order)]
    pub order_id: i64,
    #[tenancy(primary_key)]
    pub line_no: i32,
    pub sku: String,
    pub qty: i64,
    pub gift_note: Option<String>,
}

#[tenant_scoped(schema = "billing")]
#[derive(Clone, Debug, Default)]
pub struct Invoice {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    #[tenancy(references = Order, index)]
    pub order_id: i64,
    pub state: String,
    pub amount: i64,
    pub memo: Option<String>,
}

// ---- keyed by i32 -------------------------------------------------------

#[tenant_scoped]
#[derive(Clone, Debug, Default)]
pub struct Account {
    #[tenancy(tenant)]
    pub org_id: i32,
    #[tenancy(primary_key, generated)]
    pub id: i32,
    pub name: String,
    #[tenancy(references = Plan)]
    pub plan_id: i64,
    pub credits: i64,
    pub closed_reason: Option<String>,
}

#[tenant_scoped]
#[derive(Clone, Debug, Default)]
pub struct Member {
    #[tenancy(tenant)]
    pub org_id: i32,
    #[tenancy(primary_key)]
    pub id: i32,
    #[tenancy(references = Account)]
    pub account_id: i32,
    #[tenancy(unique)]
    pub email: String,
    pub score: i64,
    pub nick: Option<String>,
}

// ---- keyed by UUID (feature `uuid`) ---------------------------------------

#[cfg(feature = "uuid")]
pub use uuid_keyed::Device;

#[cfg(feature = "uuid")]
mod uuid_keyed {
    use tenancy_core::tenant_scoped;
    use uuid::Uuid;

    #[tenant_scoped]
    #[derive(Clone, Debug, Default)]
    pub struct Device {
        #[tenancy(tenant)]
        pub workspace_id: Uuid,
        #[tenancy(primary_key)]
        pub id: i64,
        pub name: String,
        pub battery: i64,
        pub label: Option<String>,
    }
}

// ---- global -------------------------------------------------------------

#[global_table]
#[derive(Clone, Debug, Default)]
pub struct Plan {
    #[tenancy(primary_key)]
    pub id: i64,
    #[tenancy(unique)]
    pub name: String,
    pub price: i64,
    pub blurb: Option<String>,
}

#[global_table]
#[derive(Clone, Debug, Default)]
pub struct Country {
    #[tenancy(primary_key)]
    pub id: i64,
    #[tenancy(unique)]
    pub code: String,
    pub population: i64,
    pub capital: Option<String>,
}

// ---- with a timestamp (feature `chrono`) ----------------------------------

#[cfg(feature = "chrono")]
pub use stamped::Stamp;

#[cfg(feature = "chrono")]
mod stamped {
    use tenancy_core::tenant_scoped;

    #[tenant_scoped]
    #[derive(Clone, Debug)]
    pub struct Stamp {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub seen_at: chrono::DateTime<chrono::Utc>,
    }
}

// ---- with JSON, network and array columns (features `json`, `ipnetwork`,
// `array`) ------------------------------------------------------------------

#[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
pub use typed::Asset;

#[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
mod typed {
    use tenancy_core::tenant_scoped;

    #[tenant_scoped]
    #[derive(Clone, Debug, Default)]
    pub struct Asset {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        pub name: String,
        pub weight: i64,
        pub label: Option<String>,
        pub spec: Option<serde_json::Value>,
        pub address: Option<ipnetwork::IpNetwork>,
        pub tags: Option<Vec<String>>,
    }
}
