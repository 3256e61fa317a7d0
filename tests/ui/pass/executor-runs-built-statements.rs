// A tenant transaction runs the statements built with its own tenant, and
// gives raw SQL a named door that still runs under the tenant context.
use tenancy_sqlx::{TenantPool, TenantTransaction, tenant_scoped};

#[tenant_scoped]
#[derive(Debug, sqlx::FromRow)]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    pub status: String,
}

pub async fn close_open_orders(
    tx: &mut TenantTransaction,
) -> Result<Vec<Order>, tenancy_sqlx::Error> {
    let tenant = *tx.tenant();
    tx.execute(
        Order::update(&tenant)
            .set(Order::STATUS, "closed")
            .filter(Order::STATUS.eq("open")),
    )
    .await?;
    tx.fetch_all(Order::select(&tenant).filter(Order::STATUS.eq("closed")))
        .await
}

pub async fn count_raw(tx: &mut TenantTransaction) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(tx.raw_connection())
        .await
}

pub async fn request(pool: &TenantPool) -> Result<(), tenancy_sqlx::Error> {
    let tenant = tenancy_sqlx::TenantId::from_verified(7);
    let mut tx = pool.begin(&tenant).await?;
    let _closed = close_open_orders(&mut tx).await?;
    tx.commit().await
}

fn main() {}
