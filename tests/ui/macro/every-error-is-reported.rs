// Every mistake is reported in one build, each at its own tokens.
use tenancy_core::tenant_scoped;

#[tenant_scoped(table = "order items", shema = "sales", index(state))]
pub struct Order {
    #[tenancy(primary_key, primary_key)]
    pub id: i64,
    #[tenancy(rename = 5)]
    pub status: String,
    #[tenancy(skip, index)]
    pub cached: bool,
}

fn main() {}
