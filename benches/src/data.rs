//! Generated data: many tenants of very different sizes, as in a real SaaS.

use sqlx::PgPool;

use crate::database::{execute, quoted};
use crate::error::{BenchError, Step};

/// Rows of `orders` in the policy and index benchmarks.
pub const ORDER_ROWS: u64 = 1_000_000;

/// Tenants sharing them.
pub const TENANTS: usize = 150;

/// How steeply tenant sizes fall with rank: the `k`-th largest tenant has
/// about `1 / k^1.1` of the largest one's rows. With 150 tenants and a
/// million rows the largest has about 22% of all rows, the smallest under
/// one in a thousand.
pub const SKEW: f64 = 1.1;

/// The status of a generated order: a tenth are `open`, the status the
/// queries filter on.
const STATUS_BY_ID: &str = "CASE g % 10 WHEN 0 THEN 'open' WHEN 1 THEN 'cancelled' \
     WHEN 2 THEN 'shipped' WHEN 3 THEN 'shipped' ELSE 'paid' END";

/// The sizes of `tenants` tenants holding `total` rows, largest first,
/// falling as `1 / rank^skew`; they add up to `total` exactly and every
/// tenant has at least one row (given `total >= tenants`).
pub fn skewed_sizes(tenants: usize, total: u64, skew: f64) -> Vec<u64> {
    if tenants == 0 {
        return Vec::new();
    }
    let weights: Vec<f64> = (1..=tenants)
        .map(|rank| (rank as f64).powf(-skew))
        .collect();
    let weight_sum: f64 = weights.iter().sum();
    let shares: Vec<f64> = weights
        .iter()
        .map(|weight| weight / weight_sum * total as f64)
        .collect();
    // Largest remainder: floor every share, then hand the rows left over to
    // the largest fractional parts.
    let mut sizes: Vec<u64> = shares
        .iter()
        .map(|share| (share.floor() as u64).max(1))
        .collect();
    let mut by_remainder: Vec<usize> = (0..tenants).collect();
    by_remainder.sort_by(|&a, &b| {
        (shares[b] - shares[b].floor()).total_cmp(&(shares[a] - shares[a].floor()))
    });
    let mut assigned: u64 = sizes.iter().sum();
    let mut next = by_remainder.iter().cycle();
    while assigned < total {
        if let Some(&index) = next.next() {
            sizes[index] += 1;
            assigned += 1;
        }
    }
    // Minimum sizes of one can overshoot by a few rows: take them from the
    // largest tenants, which stay largest.
    let mut index = 0;
    while assigned > total {
        if sizes[index % tenants] > 1 {
            sizes[index % tenants] -= 1;
            assigned -= 1;
        }
        index += 1;
    }
    sizes
}

/// A tenant picked for a workload: its id and row count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PickedTenant {
    /// The tenant's key (tenant `k` is the `k`-th largest).
    pub id: i64,
    /// Its rows.
    pub rows: u64,
}

/// The largest and the smallest tenant of `sizes` (tenant ids are ranks,
/// starting at 1).
pub fn largest_and_smallest(sizes: &[u64]) -> (PickedTenant, PickedTenant) {
    let tenant = |index: usize| PickedTenant {
        id: i64::try_from(index + 1).unwrap_or(i64::MAX),
        rows: sizes.get(index).copied().unwrap_or_default(),
    };
    (tenant(0), tenant(sizes.len().saturating_sub(1)))
}

/// Fills `table` (with the columns of [`Order`](crate::schema::Order)) with
/// `sizes[k]` rows for tenant `k + 1`, in the order of `placed_at`, so the
/// tenants' rows are interleaved on disk as they are when orders arrive over
/// time. Run as the table's owner before row-level security is enabled.
/// Ends with `VACUUM (ANALYZE)`, so statistics and the visibility map are
/// those of a settled table.
pub async fn load_orders(
    owner: &PgPool,
    schema: Option<&str>,
    table: &str,
    sizes: &[u64],
) -> Result<(), BenchError> {
    let table = match schema {
        Some(schema) => format!("{}.{}", quoted("schema", schema)?, quoted("table", table)?),
        None => quoted("table", table)?,
    };
    let ids: Vec<i64> = (1..=sizes.len())
        .map(|id| i64::try_from(id).unwrap_or(i64::MAX))
        .collect();
    let counts: Vec<i64> = sizes
        .iter()
        .map(|&size| i64::try_from(size).unwrap_or(i64::MAX))
        .collect();
    let insert = format!(
        "INSERT INTO {table} (tenant_id, id, customer_id, status, total, placed_at) \
         SELECT s.tenant_id, g, 1 + g % 500, {STATUS_BY_ID}, \
                abs(hashint8(s.tenant_id * 1000003 + g)::bigint) % 100000, \
                1735689600 + abs(hashint8(g * 7919 + s.tenant_id)::bigint) % 31536000 AS placed_at \
         FROM unnest($1::bigint[], $2::bigint[]) AS s(tenant_id, size) \
         CROSS JOIN LATERAL generate_series(1::bigint, s.size) AS g \
         ORDER BY placed_at"
    );
    let mut transaction = owner.begin().await.step("begin the load")?;
    // The sort of a million rows stays in memory.
    execute(&mut *transaction, "SET LOCAL work_mem = '256MB'").await?;
    sqlx::query(sqlx::AssertSqlSafe(insert))
        .bind(ids)
        .bind(counts)
        .execute(&mut *transaction)
        .await
        .step(format!(
            "load {} rows into {table}",
            sizes.iter().sum::<u64>()
        ))?;
    transaction.commit().await.step("commit the load")?;
    settle(owner, &table).await
}

/// `VACUUM (ANALYZE)` until every page of `table` (validated, quoted SQL) is
/// marked all-visible, as in a table that has settled since its rows were
/// written: index-only scans then skip the heap. A `VACUUM` right after a
/// large load can leave pages unmarked while another snapshot (autovacuum's,
/// say) still sees the load in progress.
pub async fn settle(owner: &PgPool, table: &str) -> Result<(), BenchError> {
    const ATTEMPTS: usize = 20;
    for _ in 0..ATTEMPTS {
        execute(owner, &format!("VACUUM (ANALYZE) {table}")).await?;
        let (pages, visible): (i32, i32) =
            sqlx::query_as("SELECT relpages, relallvisible FROM pg_class WHERE oid = $1::regclass")
                .bind(table)
                .fetch_one(owner)
                .await
                .step(format!("read the visibility of {table}"))?;
        if visible >= pages {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(BenchError::message(format!(
        "{table} has pages that are still not all-visible after {ATTEMPTS} VACUUMs: \
         is a long transaction open on the server?"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_add_up_and_fall_with_rank() {
        let sizes = skewed_sizes(TENANTS, ORDER_ROWS, SKEW);
        assert_eq!(sizes.len(), TENANTS);
        assert_eq!(sizes.iter().sum::<u64>(), ORDER_ROWS);
        assert!(sizes.windows(2).all(|pair| pair[0] >= pair[1]));
        let (large, small) = largest_and_smallest(&sizes);
        assert_eq!((large.id, small.id), (1, 150));
        // A few large tenants, many small ones.
        assert!(large.rows > 200_000, "{large:?}");
        assert!(small.rows < 1_500, "{small:?}");
    }

    #[test]
    fn every_tenant_has_a_row() {
        let sizes = skewed_sizes(10, 10, 3.0);
        assert_eq!(sizes, [1; 10]);
        assert_eq!(skewed_sizes(3, 100, 0.0), [34, 33, 33]);
    }
}
