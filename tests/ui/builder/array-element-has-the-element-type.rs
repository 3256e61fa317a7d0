// `= ANY` looks for an element of the array's own type: a `text[]` column
// has no integer elements.
use tenancy_core::{TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Article {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub tags: Vec<String>,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _articles = Article::select(&tenant).filter(Article::TAGS.has_element(5_i64));
}
