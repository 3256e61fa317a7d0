// A tenant transaction runs statements built by tenancy; hand-written SQL
// does not type-check where a built statement is expected.
use tenancy_sqlx::TenantTransaction;

pub async fn purge(tx: &mut TenantTransaction) -> Result<u64, tenancy_sqlx::Error> {
    tx.execute("DELETE FROM orders").await
}

fn main() {}
