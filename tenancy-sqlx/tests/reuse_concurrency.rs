//! Many tasks, many tenants, a small pool: connections pass from tenant to
//! tenant thousands of times, and no transaction ever sees a row of a tenant
//! other than its own.
//!
//! Each transaction reads its tenant's orders with raw SQL that has no
//! tenant predicate, so what it sees is decided by the tenant context on the
//! connection alone: a context leaking from the connection's previous
//! transaction would show up as foreign rows (or as missing own rows).
//! Transactions end in every way the pool must survive: commit, rollback,
//! drop, and the end of a read transaction, which does not wait for its
//! `ROLLBACK`. The pool hands connections out without sqlx's ping, as the
//! pools the library makes do.

use std::time::Instant;

use sqlx::postgres::PgPoolOptions;
use tenancy_sqlx::{Postgres, TenantPool};
use tenancy_test::shop::tables::Order;
use tenancy_test::shop::{ORDERS_PER_TENANT, pool_options, shop, tenant};
use tenancy_test::{BoxError, TestResult};

const TASKS: usize = 8;
const TENANTS: i64 = 50;
/// Transactions per task and tenant: 8 × 50 × 200 = 80,000 transactions,
/// 30–45 s in a debug build on a 2-core machine.
const ROUNDS: usize = 200;
const POOL_SIZE: u32 = 4;

/// What one task saw.
#[derive(Debug, Default)]
struct Observed {
    transactions: u64,
    /// Rows of a tenant other than the transaction's.
    foreign_rows: u64,
    /// Transactions that saw fewer of their own rows than there are.
    short_reads: u64,
}

impl Observed {
    fn add(&mut self, other: &Observed) {
        self.transactions += other.transactions;
        self.foreign_rows += other.foreign_rows;
        self.short_reads += other.short_reads;
    }
}

/// How a transaction ends; raw SQL is read in the ones that end by commit
/// or rollback (a dropped transaction or an ended read that used raw SQL
/// closes its connection, which would measure reconnects rather than
/// reuse).
#[derive(Debug, Clone, Copy)]
enum Ending {
    Commit,
    Rollback,
    Drop,
    /// A read transaction, ended without waiting for its `ROLLBACK`.
    Read,
}

impl Ending {
    fn of(transaction: usize) -> Ending {
        match transaction % 10 {
            0..=3 => Ending::Commit,
            4 | 5 => Ending::Rollback,
            6 => Ending::Drop,
            _ => Ending::Read,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_transaction_ever_sees_another_tenants_rows() -> TestResult {
    let tenants: Vec<i64> = (1..=TENANTS).collect();
    let db = shop(&tenants).await?;
    let pool = TenantPool::<Postgres>::connect_with(
        PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .test_before_acquire(false),
        db.app_url().parse()?,
        pool_options(),
    )
    .await?;

    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| tokio::spawn(run_task(pool.clone(), task)))
        .collect();
    let mut total = Observed::default();
    for task in tasks {
        total.add(&task.await??);
    }
    let elapsed = started.elapsed();

    let expected = (TASKS * TENANTS as usize * ROUNDS) as u64;
    let summary = format!(
        "{} transactions ({TASKS} tasks × {TENANTS} tenants × {ROUNDS}) on a pool of {POOL_SIZE} \
         in {:.1} s ({:.0}/s): {} rows of a foreign tenant observed, {} short reads",
        total.transactions,
        elapsed.as_secs_f64(),
        total.transactions as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
        total.foreign_rows,
        total.short_reads,
    );
    println!("{summary}");
    assert_eq!(total.transactions, expected, "{summary}");
    assert_eq!((total.foreign_rows, total.short_reads), (0, 0), "{summary}");
    Ok(())
}

/// One task: every tenant, round after round, each task starting at a
/// different tenant so that the tasks' tenants interleave on the pool.
async fn run_task(pool: TenantPool, task: usize) -> Result<Observed, BoxError> {
    let mut observed = Observed::default();
    let tenants = TENANTS as usize;
    for round in 0..ROUNDS {
        for step in 0..tenants {
            let key = ((task * 7 + step) % tenants) as i64 + 1;
            let transaction = (round * tenants + step) * TASKS + task;
            one_transaction(&pool, key, Ending::of(transaction), &mut observed).await?;
        }
    }
    Ok(observed)
}

async fn one_transaction(
    pool: &TenantPool,
    key: i64,
    ending: Ending,
    observed: &mut Observed,
) -> Result<(), BoxError> {
    let tenant = tenant(key);
    let seen: Vec<i64> = match ending {
        Ending::Read => {
            let mut read = pool.read(&tenant).await?;
            let orders = read.fetch_all::<Order>(Order::select(&tenant)).await?;
            read.end();
            orders.into_iter().map(|order| order.tenant_id).collect()
        }
        Ending::Commit | Ending::Rollback | Ending::Drop => {
            let mut tx = pool.begin(&tenant).await?;
            let seen: Vec<i64> = match ending {
                Ending::Drop => tx
                    .fetch_all::<Order>(Order::select(&tenant))
                    .await?
                    .into_iter()
                    .map(|order| order.tenant_id)
                    .collect(),
                _ => {
                    sqlx::query_scalar("SELECT tenant_id FROM orders")
                        .fetch_all(tx.raw_connection())
                        .await?
                }
            };
            match ending {
                Ending::Commit => tx.commit().await?,
                Ending::Rollback => tx.rollback().await?,
                _ => drop(tx),
            }
            seen
        }
    };
    let own = seen.iter().filter(|&&seen| seen == key).count() as u64;
    observed.transactions += 1;
    observed.foreign_rows += seen.len() as u64 - own;
    if own < ORDERS_PER_TENANT as u64 {
        observed.short_reads += 1;
    }
    Ok(())
}
