//! The tables the benchmarks use, declared as users declare theirs.

#![allow(missing_docs)] // fields of plain row structs

use tenancy_sqlx::tenant_scoped;

/// `accounts`: small rows looked up by key, for the transaction benchmark.
#[tenant_scoped]
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub name: String,
    pub balance: i64,
}

/// `orders`: the table of the builder, policy and index benchmarks. The
/// declared index becomes `(tenant_id, status, placed_at)`.
#[tenant_scoped(index(status, placed_at))]
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
    pub total: i64,
    /// Seconds since the Unix epoch.
    pub placed_at: i64,
}
