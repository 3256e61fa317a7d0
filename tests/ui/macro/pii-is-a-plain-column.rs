// Personal data is overwritten in rows erasure keeps: a key cannot be, and
// the anonymisation is NULL, 'redacted' or a named function.
use tenancy_core::tenant_scoped;

#[tenant_scoped]
pub struct Invoice {
    pub tenant_id: i64,
    #[tenancy(primary_key, pii)]
    pub id: i64,
    #[tenancy(pii = "lower(email)")]
    pub email: String,
    #[tenancy(pii = 3)]
    pub name: String,
}

fn main() {}
