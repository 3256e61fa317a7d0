// A `json` column is a `PlainJson` field: declared with `sql_type = "json"`
// on a `serde_json::Value` field, it would keep `jsonb`'s comparisons, which
// compile and then fail on the server (`json` has no equality or order).
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Webhook {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    #[tenancy(sql_type = "json")]
    pub body: serde_json::Value,
    #[tenancy(sql_type = "JSON[]")]
    pub history: Vec<serde_json::Value>,
}

fn main() {}
