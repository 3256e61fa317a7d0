//! The library on a Citus cluster (feature `citus`; `scripts/bench` runs it
//! when Citus is installed): a tenant transaction on the coordinator of a
//! coordinator and two workers vs on a single server, and a query routed to
//! one shard vs one that fans out to every shard.

use std::time::Instant;

use sqlx::PgPool;
use tenancy_benches::database::{BenchDatabase, connect_options, execute, pool_options};
use tenancy_benches::harness::{Contender, Settings, Timing, measure};
use tenancy_benches::results::{BenchResult, Load, Section, Unit};
use tenancy_benches::schema::Account;
use tenancy_benches::{BenchError, Step, run_main};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, CitusTestDatabase, RoleAttribute, TestDatabase};
use tenancy_sqlx::{CrossTenant, OwnerPool, TenantId, TenantPool, TenantPoolOptions};

const SINGLE: &str = "library, single server";
const CITUS: &str = "library, Citus coordinator";
const ROUTER: &str = "router query: `tenant_id = $1 AND id = $2`, one shard";
const MULTI_SHARD: &str = "multi-shard query: `id = $1`, every shard";

/// Tenants in `accounts`, and rows per tenant.
const TENANTS: u64 = 100;
const ACCOUNTS_PER_TENANT: u64 = 100;

const DESCRIPTION: &str = "\
A Citus 13 cluster of a coordinator and two workers, each a throwaway \
PostgreSQL cluster on this machine (so the figures show what the coordinator \
adds, not what more machines give), beside a single throwaway server. On both, \
`accounts` holds 100 tenants × 100 rows, created by `OwnerPool::apply_schema` \
(on the coordinator it distributes `accounts` by `tenant_id` over 32 shards, \
16 per worker) with the generated RLS policy; every pool has 4 connections \
over TCP on 127.0.0.1.\n\n\
- **Tenant transaction**: the transaction benchmark's library contender, on \
each target: `pool.begin(&tenant)` (`BEGIN` and `SET LOCAL` of the tenant, which \
`citus.propagate_set_commands = 'local'` passes on to the worker), one lookup by \
`(tenant_id, id)` from the builder, commit. The contenders take turns \
transaction by transaction; wall time only.\n\
- **Router vs multi-shard**: on the coordinator, as a `BYPASSRLS` role (so \
that only the routing differs), a lookup that names the tenant, which Citus \
sends to the one shard that holds it, and the same lookup by `id` alone, which \
it sends to all 32 shards and merges.";

fn main() -> std::process::ExitCode {
    run_main(|runtime| {
        let started = Instant::now();
        let load = Load::at_start();
        let setup = runtime.block_on(Setup::create())?;
        let transactions = measure(
            Settings::TRANSACTIONS,
            vec![
                timed(runtime, SINGLE, |n| library(&setup.single, n)),
                timed(runtime, CITUS, |n| library(&setup.citus, n)),
            ],
        )?;
        let mut first = Section::new("Tenant transaction", Unit::Microseconds, &transactions);
        first.ratio(&transactions, CITUS, SINGLE, None)?;
        let queries = measure(
            Settings::QUERIES,
            vec![
                timed(runtime, ROUTER, |n| router(&setup.reader, n)),
                timed(runtime, MULTI_SHARD, |n| multi_shard(&setup.reader, n)),
            ],
        )?;
        let mut second = Section::new("Router vs multi-shard query", Unit::Microseconds, &queries);
        second.ratio(&queries, MULTI_SHARD, ROUTER, None)?;
        BenchResult {
            id: "citus".to_owned(),
            title: "Citus".to_owned(),
            description: DESCRIPTION.to_owned(),
            postgres: Some(setup.postgres.clone()),
            elapsed_seconds: started.elapsed().as_secs_f64(),
            load,
            sections: vec![first, second],
        }
        .save()
    })
}

/// The two targets, their tables, and the pools measured.
struct Setup {
    postgres: String,
    single: TenantPool,
    citus: TenantPool,
    /// A `BYPASSRLS` role on the coordinator.
    reader: PgPool,
    _single_db: BenchDatabase,
    _cluster: CitusTestDatabase,
}

impl Setup {
    async fn create() -> Result<Self, BenchError> {
        let tables = TableSet::new().with::<Account>();
        let single_db = BenchDatabase::create().await?;
        let single = fill(single_db.test_database(), &tables).await?;
        let cluster = CitusTestDatabase::create()
            .await
            .step("start the Citus cluster and create a database")?;
        let citus = fill(cluster.coordinator(), &tables).await?;
        // Citus connects to the workers as the same role: it exists on all.
        for worker in cluster.workers() {
            worker
                .create_role("reader", &[RoleAttribute::BypassRls])
                .await
                .step("create the reader role on a worker")?;
        }
        let role = cluster
            .coordinator()
            .create_role("reader", &[RoleAttribute::BypassRls])
            .await
            .step("create the reader role")?;
        let admin = cluster
            .coordinator()
            .admin_pool()
            .await
            .step("connect as the superuser")?;
        execute(
            &admin,
            &format!("GRANT SELECT ON accounts TO \"{}\"", role.name()),
        )
        .await?;
        admin.close().await;
        let reader = pool_options()
            .connect_with(connect_options(role.url())?)
            .await
            .step("connect the reader's pool")?;
        let postgres: String = sqlx::query_scalar("SELECT version()")
            .fetch_one(&reader)
            .await
            .step("read the server version")?;
        Ok(Setup {
            postgres,
            single,
            citus,
            reader,
            _single_db: single_db,
            _cluster: cluster,
        })
    }
}

/// Applies `tables` on `database` with the library, fills `accounts` and
/// returns a tenant pool of the application role.
async fn fill(database: &TestDatabase, tables: &TableSet) -> Result<TenantPool, BenchError> {
    let owner = OwnerPool::from_pool(
        database.owner_pool().await.step("connect as the owner")?,
        CrossTenant::with_reason("benchmark set-up: create `accounts`").expect("a stated reason"),
    );
    let policy = RlsPolicy::for_role(APP_ROLE).step("make the RLS policy")?;
    owner
        .apply_schema(tables, &policy)
        .await
        .step("apply the schema of `accounts`")?;
    owner.pool().close().await;
    // The superuser fills it: the owner works under the tenant policies.
    let admin = database
        .admin_pool()
        .await
        .step("connect as the superuser")?;
    execute(
        &admin,
        &format!(
            "INSERT INTO accounts (tenant_id, id, name, balance) \
             SELECT t, a, 'account ' || a, a * 100 \
             FROM generate_series(1, {TENANTS}) AS t, generate_series(1, {ACCOUNTS_PER_TENANT}) AS a; \
             ANALYZE accounts"
        ),
    )
    .await?;
    admin.close().await;
    TenantPool::connect_with(
        pool_options(),
        connect_options(&database.app_url())?,
        TenantPoolOptions::new(tables),
    )
    .await
    .step("connect a tenant pool")
}

/// The tenant and id of the `n`-th iteration: every contender reads the
/// same rows in the same order.
fn lookup(n: u64) -> (i64, i64) {
    (
        (1 + n % TENANTS) as i64,
        (1 + (n * 7) % ACCOUNTS_PER_TENANT) as i64,
    )
}

/// A contender that runs `iteration(n)` for its next iterations, numbered
/// on from where its previous batch stopped.
fn timed<'a, F>(
    runtime: &'a tokio::runtime::Runtime,
    name: &'static str,
    iteration: impl Fn(u64) -> F + 'a,
) -> Contender<'a>
where
    F: Future<Output = Result<(), BenchError>>,
{
    let mut next = 0_u64;
    Contender::new(name, move |iterations| {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..iterations {
                iteration(next).await?;
                next += 1;
            }
            Ok::<Timing, BenchError>(start.elapsed().into())
        })
    })
}

async fn library(pool: &TenantPool, n: u64) -> Result<(), BenchError> {
    let (tenant, id) = lookup(n);
    let tenant = TenantId::from_verified(tenant);
    let mut tx = pool
        .begin(&tenant)
        .await
        .step("begin a tenant transaction")?;
    let _: Account = tx
        .fetch_one(Account::select(&tenant).filter(Account::ID.eq(id)))
        .await
        .step("look an account up")?;
    tx.commit().await.step("commit")
}

async fn router(reader: &PgPool, n: u64) -> Result<(), BenchError> {
    let (tenant, id) = lookup(n);
    sqlx::query(
        "SELECT tenant_id, id, name, balance FROM accounts WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_one(reader)
    .await
    .step("a router query")
    .map(drop)
}

async fn multi_shard(reader: &PgPool, n: u64) -> Result<(), BenchError> {
    let (_, id) = lookup(n);
    let rows = sqlx::query("SELECT tenant_id, id, name, balance FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_all(reader)
        .await
        .step("a multi-shard query")?;
    if rows.len() as u64 == TENANTS {
        Ok(())
    } else {
        Err(BenchError::message(format!(
            "the multi-shard query returned {} rows, not {TENANTS}",
            rows.len()
        )))
    }
}
