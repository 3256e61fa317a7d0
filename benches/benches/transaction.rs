//! The cost of the tenant context: a transaction that looks rows up by
//! `(tenant_id, id)` and commits, through the library and the ways users
//! would otherwise write it, against one PostgreSQL cluster over TCP.

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use sqlx::{AssertSqlSafe, PgPool};
use tenancy_benches::cpu::{self, Backends};
use tenancy_benches::data::settle;
use tenancy_benches::database::{BenchDatabase, POOL_SIZE, connect_options, execute, pool_options};
use tenancy_benches::harness::{Contender, MIN_ROUNDS, Samples, Settings, Timing, measure};
use tenancy_benches::placement::{Cpus, Placement};
use tenancy_benches::results::{BenchResult, Load, Plan, Section, Unit};
use tenancy_benches::schema::Account;
use tenancy_benches::session::Session;
use tenancy_benches::{BenchError, Step, run_main};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::limits::{TenantLimits, Tier};
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, RoleAttribute};
use tenancy_sqlx::{
    BuildStatement, CrossTenant, OwnerPool, TenantId, TenantPool, TenantPoolOptions,
    TransactionSettings,
};

const LIBRARY: &str = "library";
const LIBRARY_READ: &str = "library, read transaction (`pool.read`)";
const LIBRARY_TIMEOUT: &str = "library, per-tenant statement timeout (`TenantLimits`)";
const RAW: &str = "(a) raw sqlx, no tenant context";
const RAW_SET: &str = "(b) raw sqlx, separate `set_config`";
const TENAXUM_HOOKS: &str = "(c) tenaxum 0.2, pool hooks";
const TENAXUM_BEGIN: &str = "(c′) tenaxum 0.2, `begin_tenant`";
const RAW_ONE_QUERY: &str = "raw sqlx, one-query `BEGIN` with `SELECT set_config`";
const RAW_SET_LOCAL: &str = "raw sqlx, one-query `BEGIN` with `SET LOCAL`";
const RAW_SET_LOCAL_NO_RLS: &str = "raw sqlx, one-query `BEGIN` with `SET LOCAL`, `BYPASSRLS` role";
const RAW_08: &str = "raw sqlx 0.8, no tenant context";
const RAW_READ: &str =
    "raw sqlx, the read's statements (`BEGIN READ ONLY; SET LOCAL`, queued `ROLLBACK`, no ping)";

/// Tenants in `accounts`, and rows per tenant.
const TENANTS: u64 = 100;
const ACCOUNTS_PER_TENANT: u64 = 100;

/// The hand-written statement of the raw contenders.
const SELECT_ACCOUNT: &str =
    "SELECT tenant_id, id, name, balance FROM accounts WHERE tenant_id = $1 AND id = $2";

fn main() -> std::process::ExitCode {
    run_main(|runtime| {
        let started = Instant::now();
        let load = Load::at_start();
        let setup = runtime.block_on(Setup::create())?;
        let cpus = Cpus::available()?;
        if let Some(contender) = std::env::var_os(LOOP_ENV) {
            return runtime.block_on(run_loop(&setup, cpus, &contender.to_string_lossy()));
        }
        let mut sections = Vec::new();
        for placement in Placement::ALL {
            if !cpus.supports(placement) {
                println!(
                    "transaction: skipped \"{}\": one vCPU only",
                    placement.describe()
                );
                continue;
            }
            cpus.place(placement, setup.contenders.backend_pids()?)?;
            for workload in Workload::all(placement) {
                println!("transaction: {}", workload.title());
                let split = CpuSplit::default();
                let mut measured = if workload.write {
                    let samples = measure_writes(runtime, &setup, workload, &split)?;
                    write_section(workload, &samples)?
                } else {
                    let samples = measure_contenders(runtime, &setup, workload, &split)?;
                    section(workload, &samples)?
                };
                if let Some(note) = split.note() {
                    measured.notes.push(note);
                }
                sections.push(measured);
            }
        }
        if let Some(first) = sections.first_mut() {
            first.plans = runtime.block_on(lookup_plans(&setup))?;
        }
        BenchResult {
            id: "transaction".to_owned(),
            title: "Tenant transaction".to_owned(),
            description: DESCRIPTION.to_owned(),
            postgres: Some(setup.postgres.clone()),
            elapsed_seconds: started.elapsed().as_secs_f64(),
            load,
            sections,
        }
        .save()
    })
}

/// One measured configuration: latency (one transaction per sample) or
/// throughput (concurrent clients for a fixed window per sample), with or
/// without an idle gap, in one placement.
#[derive(Debug, Clone, Copy)]
struct Workload {
    statements: usize,
    /// Concurrent clients sharing the contender's pool; `None` for latency.
    clients: Option<usize>,
    /// Whether each latency sample waits, sleeping, until the pool has
    /// taken every connection back before the next one starts.
    settled: bool,
    /// Whether the transaction inserts one row instead of looking rows up
    /// (measured for the library and (a) only).
    write: bool,
    placement: Placement,
}

/// How long each throughput sample runs its clients.
const THROUGHPUT_WINDOW: Duration = Duration::from_millis(50);

/// Latency settings: one transaction per sample, as [`Settings::TRANSACTIONS`]
/// but within 30 s per workload, since there are many workloads.
const LATENCY: Settings = Settings {
    time_budget: Some(Duration::from_secs(30)),
    ..Settings::TRANSACTIONS
};

/// Throughput settings: one window per sample.
const THROUGHPUT: Settings = Settings {
    warmup_rounds: 2,
    rounds: MIN_ROUNDS,
    sample_time: Duration::ZERO,
    time_budget: None,
};

impl Workload {
    /// The workloads measured in `placement`: latency back to back (one and
    /// ten statements), latency with an idle gap before every sample (one
    /// statement), and throughput at 1, 2, 4 and 8 clients.
    fn all(placement: Placement) -> Vec<Workload> {
        let latency = |statements, settled| Workload {
            statements,
            clients: None,
            settled,
            write: false,
            placement,
        };
        let mut workloads = vec![latency(1, false), latency(10, false), latency(1, true)];
        workloads.extend([1, 2, 4, 8].map(|clients| Workload {
            statements: 1,
            clients: Some(clients),
            settled: false,
            write: false,
            placement,
        }));
        workloads.push(Workload {
            write: true,
            ..latency(1, false)
        });
        workloads
    }

    fn title(self) -> String {
        let statements = match self.statements {
            1 => "one statement per transaction".to_owned(),
            n => format!("{n} statements per transaction"),
        };
        let placement = self.placement.describe();
        if self.write {
            return format!("Latency, one INSERT per transaction, back to back, {placement}");
        }
        match (self.clients, self.settled) {
            (Some(clients), _) => format!(
                "Throughput, {clients} client{s}, {statements}, {placement}",
                s = if clients == 1 { "" } else { "s" }
            ),
            (None, false) => format!("Latency, {statements}, back to back, {placement}"),
            (None, true) => {
                format!("Latency, {statements}, each after an idle gap (pool settled), {placement}")
            }
        }
    }

    fn settings(self) -> Settings {
        let settings = match self.clients {
            Some(_) => THROUGHPUT,
            None => LATENCY,
        };
        settings.for_this_run()
    }
}

const DESCRIPTION: &str = "\
One transaction: open it for a tenant, select one row of `accounts` by \
`(tenant_id, id)` (or ten rows, one statement each), commit. `accounts` holds \
100 tenants × 100 rows and the generated RLS policy. Every contender has its own \
pool of 4 connections (opened beforehand, kept for the run) to the same throwaway \
cluster, over TCP on 127.0.0.1, and looks up the same tenants and ids in the same \
order; every lookup must return its row, so a contender whose tenant context did \
not reach the server fails instead of measuring an empty result. Wall time runs \
from asking the pool for a connection to the end of the commit; CPU time adds this \
process's thread and the contender's server backends.\n\n\
Where the processes run weighs more than anything a contender does on a small VM, \
so the benchmark pins its thread and every contender's backends \
(`sched_setaffinity`, as `taskset` does) and reports each placement separately: \
client and server on the same vCPU, then on different vCPUs. In each placement:\n\n\
- **latency, back to back**: the contenders take turns transaction by \
transaction, each sample starting as soon as the previous one ended, with one and \
with ten statements;\n\
- **latency after an idle gap**: each sample first waits, sleeping, until the \
contender's pool has taken back every connection (its release work counted in the \
sample): every transaction starts on an idle, cold CPU, as in a lightly loaded \
service;\n\
- **throughput at 1, 2, 4 and 8 clients**: per sample, that many concurrent \
clients run transactions back to back on the contender's pool for a fixed window, \
the contenders taking turns window by window; the figure is the time per finished \
transaction (its inverse is the throughput, listed under each table);\n\
- **a write, back to back**: the library and (a) only, each transaction inserting \
one new row into `accounts` (the library through `Account::insert(&tenant)`, (a) \
with a hand-written `INSERT` as its role, granted `INSERT`) and committing, so the \
commit waits for the server's answer (and its WAL flush) in both.\n\n\
The contenders:\n\n\
- **library**: `pool.begin(&tenant)` sends `BEGIN` and \
`SET LOCAL \"app\".\"tenant_id\" = '<key>'` as one simple query; \
statements come from the builder (`Account::select(&tenant).filter(..)`), as the \
application role. Its pool is made as `TenantPool::connect` makes one: \
no ping before a connection is handed out (`test_before_acquire(false)`; a \
connection found dead by its `BEGIN` gets the `BEGIN` again on another). Three \
round trips for one statement.\n\
- **library, read transaction**: `pool.read(&tenant)`, the same statements, then \
`read.end()`, which queues `ROLLBACK` and hands the connection back without \
waiting; the pool sends it and reads its answer (with its release ping, one \
round trip) before the connection is borrowed again, in a task of this same \
thread. Two round trips the caller waits for, for one statement. `BEGIN READ \
ONLY`.\n\
- **library, per-tenant statement timeout**: the library with `TenantLimits` \
whose one tier pins `statement_timeout = 5 s`, in the same simple query as \
`BEGIN`: the cost of the limits' admission and of one more `SET LOCAL`.\n\
- **(a)** is the application without tenant isolation: `pool.begin()` and \
hand-written SQL, as a role that RLS does not apply to (`BYPASSRLS`), so it reads \
the same rows without a tenant setting. Three round trips, besides sqlx's ping \
before it hands out a connection (its default, kept by every raw sqlx and \
tenaxum contender).\n\
- **(b)** sets the context the way most code does: `pool.begin()`, then a bound \
`SELECT set_config('app.tenant_id', $1, true)`. Four round trips.\n\
- **(c)** is tenaxum 0.2 as its documentation recommends for request handlers: \
`with_tenant_hooks` runs a session-level `set_config` in `before_acquire` and \
`RESET` in `after_release`, the tenant taken from its task-local. Five round \
trips. **(c′)** is its `begin_tenant`, for jobs: `pool.begin()`, then \
`set_config`. tenaxum is built on sqlx 0.8, so raw sqlx 0.8 without tenant \
context is measured too: (c) / raw sqlx 0.8 is tenaxum's own cost.\n\
- Four more raw sqlx contenders take the library apart. One sends the \
library's `BEGIN; SET LOCAL ..`: the library minus its builder, checks and \
guards. Another does the same as a `BYPASSRLS` role: the context statement \
without the policy, so that `SET LOCAL, BYPASSRLS` / (a) is the cost of the \
tenant context and `SET LOCAL` / `SET LOCAL, BYPASSRLS` that of the policy. The \
third sends `BEGIN; SELECT set_config('app.tenant_id', '<key>', true)`, which \
sets the same transaction-local setting and is what the library sent before \
these benchmarks showed that the `SELECT` costs more than the round trip it \
saves over (b). A fourth sends the library read's statements, from a pool \
without the ping as the library's: `BEGIN READ ONLY; SET LOCAL ..`, the \
hand-written select (with the policy), and a dropped transaction's queued \
`ROLLBACK`: the read minus the library, so that the read / that contender is \
the library's own cost and that contender / (a) the floor of the read's \
protocol.\n\n\
Under each section, the CPU time per transaction is split into this thread's \
(the client) and the backends' (the server).";

/// The cluster, its tables, and a pool per contender.
struct Setup {
    postgres: String,
    library: TenantPool,
    contenders: Contenders,
    /// The application role's URL, and that of the role RLS skips.
    app_url: String,
    bypass_url: String,
    database: BenchDatabase,
}

/// The `application_name` of each contender's connections, by which its
/// server backends are found.
const LIBRARY_APP: &str = "bench-library";
const LIBRARY_READ_APP: &str = "bench-library-read";
const LIBRARY_TIMEOUT_APP: &str = "bench-library-timeout";
const RAW_APP: &str = "bench-raw";
const RAW_SET_APP: &str = "bench-raw-set-config";
const RAW_ONE_QUERY_APP: &str = "bench-raw-one-query";
const RAW_SET_LOCAL_APP: &str = "bench-raw-set-local";
const RAW_SET_LOCAL_NO_RLS_APP: &str = "bench-raw-set-local-no-rls";
const TENAXUM_HOOKS_APP: &str = "bench-tenaxum-hooks";
const TENAXUM_BEGIN_APP: &str = "bench-tenaxum-begin";
const RAW_08_APP: &str = "bench-raw-sqlx-0.8";
const RAW_READ_APP: &str = "bench-raw-read";

/// Every contender's pool, with its backends.
struct Contenders {
    library: Pool<TenantPool>,
    library_read: Pool<TenantPool>,
    library_timeout: Pool<TenantPool>,
    raw: Pool<PgPool>,
    raw_set: Pool<PgPool>,
    raw_one_query: Pool<PgPool>,
    raw_set_local: Pool<PgPool>,
    raw_set_local_no_rls: Pool<PgPool>,
    tenaxum_hooks: Pool<sqlx08::PgPool>,
    tenaxum_begin: Pool<sqlx08::PgPool>,
    raw_08: Pool<sqlx08::PgPool>,
    raw_read: Pool<PgPool>,
}

impl Contenders {
    /// The server processes behind every contender's connections, to place
    /// them; only known when the server runs on this machine.
    fn backend_pids(&self) -> Result<Vec<i32>, BenchError> {
        let backends = [
            &self.library.backends,
            &self.library_read.backends,
            &self.library_timeout.backends,
            &self.raw.backends,
            &self.raw_set.backends,
            &self.raw_one_query.backends,
            &self.raw_set_local.backends,
            &self.raw_set_local_no_rls.backends,
            &self.tenaxum_hooks.backends,
            &self.tenaxum_begin.backends,
            &self.raw_08.backends,
            &self.raw_read.backends,
        ];
        let mut pids = Vec::new();
        for backends in backends {
            let backends = backends.as_ref().ok_or_else(|| {
                BenchError::message(
                    "the server's backends are not visible from here: placing them needs the \
                     server on this machine (unset TENANCY_TEST_DATABASE_URL to use a throwaway \
                     cluster)",
                )
            })?;
            pids.extend_from_slice(backends.pids());
        }
        Ok(pids)
    }
}

/// A contender's pool and the server backends of its connections.
struct Pool<P> {
    pool: P,
    backends: Option<Backends>,
    /// Whether every connection is idle in the pool: released, with the
    /// pool's release work (its ping, tenaxum's `RESET`) done.
    settled: fn(&P) -> bool,
}

impl Pool<PgPool> {
    async fn new(pool: PgPool, admin: &PgPool, name: &str) -> Result<Self, BenchError> {
        let settled: fn(&PgPool) -> bool = |pool| pool.num_idle() == pool.size() as usize;
        Pool::with_backends(pool, admin, name, settled, |pool| pool.size()).await
    }
}

impl Pool<TenantPool> {
    async fn new_tenant(pool: TenantPool, admin: &PgPool, name: &str) -> Result<Self, BenchError> {
        let settled: fn(&TenantPool) -> bool = |pool| pool.num_idle() == pool.size() as usize;
        Pool::with_backends(pool, admin, name, settled, |pool| pool.size()).await
    }
}

impl Pool<sqlx08::PgPool> {
    async fn new_08(pool: sqlx08::PgPool, admin: &PgPool, name: &str) -> Result<Self, BenchError> {
        let settled: fn(&sqlx08::PgPool) -> bool = |pool| pool.num_idle() == pool.size() as usize;
        Pool::with_backends(pool, admin, name, settled, |pool| pool.size()).await
    }
}

impl<P> Pool<P> {
    async fn with_backends(
        pool: P,
        admin: &PgPool,
        name: &str,
        settled: fn(&P) -> bool,
        size: fn(&P) -> u32,
    ) -> Result<Self, BenchError> {
        // `min_connections` are opened in the background.
        for _ in 0..500 {
            if size(&pool) == POOL_SIZE && settled(&pool) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let backends = Backends::of_application(admin, name, POOL_SIZE as usize).await?;
        Ok(Pool {
            pool,
            backends,
            settled,
        })
    }

    /// Waits until the pool's connections are all back, so that the work of
    /// releasing them counts for this sample. Sleeping costs no CPU time.
    async fn settle(&self) {
        for _ in 0..1000 {
            if (self.settled)(&self.pool) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// The same options as [`pool_options`], with connections kept for the
/// whole run, so that each contender's backends stay the same processes.
fn named_pool_options() -> sqlx::postgres::PgPoolOptions {
    pool_options().idle_timeout(None).max_lifetime(None)
}

impl Setup {
    async fn create() -> Result<Self, BenchError> {
        let database = BenchDatabase::create().await?;
        let tables = TableSet::new().with::<Account>();
        let owner = OwnerPool::from_pool(
            database.owner_pool().await?,
            CrossTenant::with_reason("benchmark set-up: create and fill `accounts`")
                .expect("a stated reason"),
        );
        let create = tables
            .create_statements(tenancy_sqlx::Dialect::Postgres)
            .step("generate the DDL of `accounts`")?;
        for statement in &create {
            execute(owner.pool(), statement).await?;
        }
        execute(
            owner.pool(),
            &format!(
                "INSERT INTO accounts (tenant_id, id, name, balance) \
                 SELECT t, a, 'account ' || a, a * 100 \
                 FROM generate_series(1, {TENANTS}) AS t, generate_series(1, {ACCOUNTS_PER_TENANT}) AS a"
            ),
        )
        .await?;
        settle(owner.pool(), "accounts").await?;
        let policy = RlsPolicy::for_role(APP_ROLE).step("make the RLS policy")?;
        owner
            .apply_rls(&tables, &policy)
            .await
            .step("apply the generated RLS policy to `accounts`")?;
        owner.pool().close().await;

        let bypass = database
            .reader_role("no_rls", &[RoleAttribute::BypassRls], &["accounts"])
            .await?;
        let app_url = database.test_database().app_url();
        let pool = |name: &'static str, url: String| async move {
            let options = connect_options(&url)?.application_name(name);
            named_pool_options()
                .connect_with(options)
                .await
                .step(format!("connect the pool of `{name}`"))
        };
        let pool_08 = |name: &'static str,
                       options: sqlx08::postgres::PgPoolOptions,
                       url: String| async move {
            let connect: sqlx08::postgres::PgConnectOptions =
                url.parse().step("parse a database URL for sqlx 0.8")?;
            options
                .max_connections(POOL_SIZE)
                .min_connections(POOL_SIZE)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(connect.application_name(name))
                .await
                .step(format!("connect the sqlx 0.8 pool of `{name}`"))
        };
        let plain_08 = sqlx08::postgres::PgPoolOptions::new;
        // The library's pools as `TenantPool::connect` makes them: no
        // ping before a connection is handed out.
        let tenant_pool = |name: &'static str, options: TenantPoolOptions| {
            let url = app_url.clone();
            async move {
                TenantPool::connect_with(
                    named_pool_options().test_before_acquire(false),
                    connect_options(&url)?.application_name(name),
                    options,
                )
                .await
                .step(format!("connect the library's tenant pool `{name}`"))
            }
        };
        let library = tenant_pool(LIBRARY_APP, TenantPoolOptions::new(&tables)).await?;
        let library_read = tenant_pool(LIBRARY_READ_APP, TenantPoolOptions::new(&tables)).await?;
        let timeouts =
            TenantLimits::new().default_tier(Tier::new("standard").transaction_settings(
                TransactionSettings::new().statement_timeout(Duration::from_secs(5)),
            ));
        let library_timeout = tenant_pool(
            LIBRARY_TIMEOUT_APP,
            TenantPoolOptions::new(&tables).limits(timeouts),
        )
        .await?;
        let admin = database
            .test_database()
            .admin_pool()
            .await
            .step("connect as the superuser")?;
        // (a)'s write: the role RLS skips inserts as the application would.
        execute(
            &admin,
            &format!(
                "GRANT INSERT ON accounts TO {}",
                tenancy_benches::database::quoted("role", bypass.name())?
            ),
        )
        .await?;
        // The read's protocol without the library: sqlx's pool as the
        // library's, without the ping before a connection is handed out.
        let raw_read = named_pool_options()
            .test_before_acquire(false)
            .connect_with(connect_options(&app_url)?.application_name(RAW_READ_APP))
            .await
            .step(format!("connect the pool of `{RAW_READ_APP}`"))?;
        let contenders = Contenders {
            raw_read: Pool::new(raw_read, &admin, RAW_READ_APP).await?,
            library: Pool::new_tenant(library.clone(), &admin, LIBRARY_APP).await?,
            library_read: Pool::new_tenant(library_read, &admin, LIBRARY_READ_APP).await?,
            library_timeout: Pool::new_tenant(library_timeout, &admin, LIBRARY_TIMEOUT_APP).await?,
            raw: Pool::new(
                pool(RAW_APP, bypass.url().to_owned()).await?,
                &admin,
                RAW_APP,
            )
            .await?,
            raw_set: Pool::new(
                pool(RAW_SET_APP, app_url.clone()).await?,
                &admin,
                RAW_SET_APP,
            )
            .await?,
            raw_one_query: Pool::new(
                pool(RAW_ONE_QUERY_APP, app_url.clone()).await?,
                &admin,
                RAW_ONE_QUERY_APP,
            )
            .await?,
            raw_set_local: Pool::new(
                pool(RAW_SET_LOCAL_APP, app_url.clone()).await?,
                &admin,
                RAW_SET_LOCAL_APP,
            )
            .await?,
            raw_set_local_no_rls: Pool::new(
                pool(RAW_SET_LOCAL_NO_RLS_APP, bypass.url().to_owned()).await?,
                &admin,
                RAW_SET_LOCAL_NO_RLS_APP,
            )
            .await?,
            tenaxum_hooks: Pool::new_08(
                pool_08(
                    TENAXUM_HOOKS_APP,
                    tenaxum::pool::with_tenant_hooks(plain_08()),
                    app_url.clone(),
                )
                .await?,
                &admin,
                TENAXUM_HOOKS_APP,
            )
            .await?,
            tenaxum_begin: Pool::new_08(
                pool_08(TENAXUM_BEGIN_APP, plain_08(), app_url.clone()).await?,
                &admin,
                TENAXUM_BEGIN_APP,
            )
            .await?,
            raw_08: Pool::new_08(
                pool_08(RAW_08_APP, plain_08(), bypass.url().to_owned()).await?,
                &admin,
                RAW_08_APP,
            )
            .await?,
        };
        admin.close().await;
        Ok(Setup {
            postgres: database.server_version().await?,
            library,
            contenders,
            app_url,
            bypass_url: bypass.url().to_owned(),
            database,
        })
    }
}

/// Which rows a transaction looks up: the `n`-th transaction of every
/// contender reads the same ones.
#[derive(Debug, Clone, Copy)]
struct Lookup {
    tenant: i64,
    first_id: i64,
}

impl Lookup {
    fn nth(n: u64) -> Self {
        Lookup {
            tenant: (1 + n % TENANTS) as i64,
            first_id: (1 + (n * 7) % ACCOUNTS_PER_TENANT) as i64,
        }
    }

    /// The ids of `statements` lookups, wrapping within the tenant.
    fn ids(self, statements: usize) -> impl Iterator<Item = i64> {
        (0..statements as i64)
            .map(move |offset| 1 + (self.first_id - 1 + offset) % ACCOUNTS_PER_TENANT as i64)
    }
}

/// One contender: it numbers its transactions on from where its previous
/// sample stopped, and reports their wall time and the CPU time they
/// cost: this thread's and its backends'.
fn timed<'a, P, F>(
    runtime: &'a tokio::runtime::Runtime,
    name: &'static str,
    pool: &'a Pool<P>,
    workload: Workload,
    split: &'a CpuSplit,
    transaction: impl Fn(Lookup, usize) -> F + 'a,
) -> Contender<'a>
where
    F: Future<Output = Result<(), BenchError>>,
{
    let next = Cell::new(0_u64);
    Contender::new(name, move |iterations| {
        runtime.block_on(async {
            let server_before = pool.backends.as_ref().map(Backends::cpu).transpose()?;
            let client_before = cpu::client_thread();
            let start = Instant::now();
            let transactions = match workload.clients {
                None => {
                    for _ in 0..iterations {
                        transaction(Lookup::nth(next.get()), workload.statements).await?;
                        next.set(next.get() + 1);
                    }
                    iterations
                }
                Some(clients) => {
                    let deadline = start + THROUGHPUT_WINDOW;
                    let done = Cell::new(0_u64);
                    let client = || async {
                        while Instant::now() < deadline {
                            let at = Lookup::nth(next.get());
                            next.set(next.get() + 1);
                            transaction(at, workload.statements).await?;
                            done.set(done.get() + 1);
                        }
                        Ok::<(), BenchError>(())
                    };
                    all_of((0..clients).map(|_| client()).collect()).await?;
                    if done.get() == 0 {
                        return Err(BenchError::message(format!(
                            "{name}: no transaction finished within {THROUGHPUT_WINDOW:?}"
                        )));
                    }
                    done.get()
                }
            };
            let wall = start.elapsed();
            if workload.settled {
                pool.settle().await;
            }
            let client = cpu::client_thread().saturating_sub(client_before);
            let server_after = pool.backends.as_ref().map(Backends::cpu).transpose()?;
            let server = server_before
                .zip(server_after)
                .map(|(before, after)| after.saturating_sub(before));
            if let Some(server) = server {
                split.add(name, client, server, transactions);
            }
            let cpu = server.map(|server| client + server);
            // The harness divides by `iterations`, one window per sample
            // for throughput: report the time per finished transaction.
            let per = |time: Duration| match workload.clients {
                None => time,
                Some(_) => time.div_f64(transactions as f64 * iterations as f64),
            };
            Ok::<Timing, BenchError>(Timing {
                wall: per(wall),
                cpu: cpu.map(per),
            })
        })
    })
}

/// Each contender's CPU time over one workload, split into this thread's
/// (the client: the library or sqlx, tokio) and its backends' (the
/// server), summed over every sample, warm-up included.
#[derive(Default)]
struct CpuSplit {
    /// Name, client, server, transactions; in the order first measured.
    totals: RefCell<Vec<(&'static str, Duration, Duration, u64)>>,
}

impl CpuSplit {
    fn add(&self, name: &'static str, client: Duration, server: Duration, transactions: u64) {
        let mut totals = self.totals.borrow_mut();
        match totals.iter_mut().find(|total| total.0 == name) {
            Some(total) => {
                total.1 += client;
                total.2 += server;
                total.3 += transactions;
            }
            None => totals.push((name, client, server, transactions)),
        }
    }

    /// The section's note: client / server CPU per transaction, in µs.
    fn note(&self) -> Option<String> {
        let totals = self.totals.borrow();
        let per = |time: Duration, n: u64| time.as_secs_f64() * 1e6 / n.max(1) as f64;
        let list: Vec<String> = totals
            .iter()
            .map(|&(name, client, server, n)| {
                format!("{name}: {:.1} / {:.1}", per(client, n), per(server, n))
            })
            .collect();
        (!list.is_empty()).then(|| {
            format!(
                "CPU time per transaction, this thread (client) / its backends (server), in µs, \
                 the mean over every sample, warm-up included: {}.",
                list.join("; ")
            )
        })
    }
}

/// Set to a contender (`library`, `read`, `raw`, `raw-read`, `set-local`,
/// `set-local-no-rls`) to run only its one-statement transaction back to
/// back, client and server on the same vCPU, for
/// [`LOOP_SECONDS_ENV`] seconds (10 by default), and print its CPU time
/// per transaction: a steady load to profile (`perf record`), not a
/// measurement for the report.
const LOOP_ENV: &str = "TENANCY_BENCH_LOOP";
const LOOP_SECONDS_ENV: &str = "TENANCY_BENCH_LOOP_SECONDS";

async fn run_loop(setup: &Setup, cpus: Cpus, contender: &str) -> Result<(), BenchError> {
    let seconds: u64 = match std::env::var(LOOP_SECONDS_ENV) {
        Ok(text) => text
            .parse()
            .map_err(|_| BenchError::message(format!("{LOOP_SECONDS_ENV}: not seconds: {text}")))?,
        Err(_) => 10,
    };
    let pools = &setup.contenders;
    cpus.place(Placement::SameCpu, pools.backend_pids()?)?;
    let backends = match contender {
        "library" => &pools.library.backends,
        "read" => &pools.library_read.backends,
        "raw" => &pools.raw.backends,
        "set-local" => &pools.raw_set_local.backends,
        "set-local-no-rls" => &pools.raw_set_local_no_rls.backends,
        "raw-read" => &pools.raw_read.backends,
        other => {
            return Err(BenchError::message(format!(
                "{LOOP_ENV}: no contender `{other}`"
            )));
        }
    };
    let backends = backends
        .as_ref()
        .ok_or_else(|| BenchError::message("the backends are not visible from here"))?;
    println!(
        "transaction: looping `{contender}` for {seconds} s; process {}, backends {:?}",
        std::process::id(),
        backends.pids()
    );
    let server_before = backends.cpu()?;
    let client_before = cpu::client_thread();
    let start = Instant::now();
    let mut n = 0_u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        let at = Lookup::nth(n);
        match contender {
            "library" => library(&setup.library, LIBRARY, at, 1).await?,
            "read" => library_read(&pools.library_read.pool, at, 1).await?,
            "raw" => raw(&pools.raw.pool, at, 1).await?,
            "set-local" => raw_set_local(&pools.raw_set_local.pool, RAW_SET_LOCAL, at, 1).await?,
            "raw-read" => raw_read(&pools.raw_read.pool, at, 1).await?,
            _ => {
                raw_set_local(
                    &pools.raw_set_local_no_rls.pool,
                    RAW_SET_LOCAL_NO_RLS,
                    at,
                    1,
                )
                .await?
            }
        }
        n += 1;
    }
    let wall = start.elapsed();
    // Let the last release finish, so its server time counts.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let client = cpu::client_thread().saturating_sub(client_before);
    let server = backends.cpu()?.saturating_sub(server_before);
    let per = |time: Duration| time.as_secs_f64() * 1e6 / n as f64;
    println!(
        "transaction: `{contender}`: {n} transactions, wall {:.1} µs, client CPU {:.1} µs, \
         server CPU {:.1} µs per transaction",
        per(wall),
        per(client),
        per(server)
    );
    Ok(())
}

fn measure_contenders<'a>(
    runtime: &'a tokio::runtime::Runtime,
    setup: &'a Setup,
    workload: Workload,
    split: &'a CpuSplit,
) -> Result<Vec<Samples>, BenchError> {
    let pools = &setup.contenders;
    measure(
        workload.settings(),
        vec![
            timed(
                runtime,
                LIBRARY,
                &pools.library,
                workload,
                split,
                |at, n| library(&setup.library, LIBRARY, at, n),
            ),
            timed(
                runtime,
                LIBRARY_READ,
                &pools.library_read,
                workload,
                split,
                |at, n| library_read(&pools.library_read.pool, at, n),
            ),
            timed(
                runtime,
                RAW_READ,
                &pools.raw_read,
                workload,
                split,
                |at, n| raw_read(&pools.raw_read.pool, at, n),
            ),
            timed(
                runtime,
                LIBRARY_TIMEOUT,
                &pools.library_timeout,
                workload,
                split,
                |at, n| library(&pools.library_timeout.pool, LIBRARY_TIMEOUT, at, n),
            ),
            timed(runtime, RAW, &pools.raw, workload, split, |at, n| {
                raw(&pools.raw.pool, at, n)
            }),
            timed(
                runtime,
                RAW_SET,
                &pools.raw_set,
                workload,
                split,
                |at, n| raw_set(&pools.raw_set.pool, at, n),
            ),
            timed(
                runtime,
                TENAXUM_HOOKS,
                &pools.tenaxum_hooks,
                workload,
                split,
                |at, n| tenaxum_hooks(&pools.tenaxum_hooks.pool, at, n),
            ),
            timed(
                runtime,
                TENAXUM_BEGIN,
                &pools.tenaxum_begin,
                workload,
                split,
                |at, n| tenaxum_begin(&pools.tenaxum_begin.pool, at, n),
            ),
            timed(
                runtime,
                RAW_ONE_QUERY,
                &pools.raw_one_query,
                workload,
                split,
                |at, n| raw_one_query(&pools.raw_one_query.pool, at, n),
            ),
            timed(runtime, RAW_08, &pools.raw_08, workload, split, |at, n| {
                raw_08(&pools.raw_08.pool, at, n)
            }),
            timed(
                runtime,
                RAW_SET_LOCAL,
                &pools.raw_set_local,
                workload,
                split,
                |at, n| raw_set_local(&pools.raw_set_local.pool, RAW_SET_LOCAL, at, n),
            ),
            timed(
                runtime,
                RAW_SET_LOCAL_NO_RLS,
                &pools.raw_set_local_no_rls,
                workload,
                split,
                |at, n| {
                    raw_set_local(
                        &pools.raw_set_local_no_rls.pool,
                        RAW_SET_LOCAL_NO_RLS,
                        at,
                        n,
                    )
                },
            ),
        ],
    )
}

/// The write workload: the library and (a), each inserting new rows (ids
/// above the seeded ones, never one twice: see [`new_account`]).
fn measure_writes<'a>(
    runtime: &'a tokio::runtime::Runtime,
    setup: &'a Setup,
    workload: Workload,
    split: &'a CpuSplit,
) -> Result<Vec<Samples>, BenchError> {
    let pools = &setup.contenders;
    measure(
        workload.settings(),
        vec![
            timed(
                runtime,
                LIBRARY,
                &pools.library,
                workload,
                split,
                |at, _| library_write(&setup.library, at),
            ),
            timed(runtime, RAW, &pools.raw, workload, split, |at, _| {
                raw_write(&pools.raw.pool, at)
            }),
        ],
    )
}

fn write_section(workload: Workload, samples: &[Samples]) -> Result<Section, BenchError> {
    let mut section = Section::new(workload.title(), Unit::Microseconds, samples);
    section.ratio(samples, LIBRARY, RAW, Some(1.05))?;
    section.notes.push(
        "Each transaction inserts one new row of `accounts` and commits; the library's row \
         goes through the builder and the generated policy's `WITH CHECK`, (a)'s through a \
         hand-written `INSERT` as the role RLS skips."
            .to_owned(),
    );
    Ok(section)
}

/// A new row for the transaction's tenant, its id taken from one counter
/// for every contender, placement and round, so that no insert meets a key.
fn new_account(at: Lookup) -> Account {
    static NEXT_ID: AtomicI64 = AtomicI64::new(1_000_000_000);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    Account {
        tenant_id: at.tenant,
        id,
        name: format!("account {id}"),
        balance: 0,
    }
}

async fn library_write(pool: &TenantPool, at: Lookup) -> Result<(), BenchError> {
    let tenant = TenantId::from_verified(at.tenant);
    let mut tx = pool.begin(&tenant).await.step("library write: begin")?;
    let inserted = tx
        .execute(Account::insert(&tenant).row(&new_account(at)))
        .await
        .step("library write: insert")?;
    if inserted != 1 {
        return Err(BenchError::message(format!(
            "library write: {inserted} rows inserted instead of 1"
        )));
    }
    tx.commit().await.step("library write: commit")
}

async fn raw_write(pool: &PgPool, at: Lookup) -> Result<(), BenchError> {
    let account = new_account(at);
    let mut tx = pool.begin().await.step("raw write: begin")?;
    let inserted =
        sqlx::query("INSERT INTO accounts (tenant_id, id, name, balance) VALUES ($1, $2, $3, $4)")
            .bind(account.tenant_id)
            .bind(account.id)
            .bind(account.name)
            .bind(account.balance)
            .execute(&mut *tx)
            .await
            .step("raw write: insert")?
            .rows_affected();
    if inserted != 1 {
        return Err(BenchError::message(format!(
            "raw write: {inserted} rows inserted instead of 1"
        )));
    }
    tx.commit().await.step("raw write: commit")
}

/// The plan of one lookup as the application role (the generated policy
/// applies) and as the role RLS skips, in a transaction for tenant 1.
async fn lookup_plans(setup: &Setup) -> Result<Vec<Plan>, BenchError> {
    let statement = Account::select(&TenantId::from_verified(1))
        .filter(Account::ID.eq(1))
        .to_postgres()
        .step("build the lookup")?;
    let admin = setup
        .database
        .test_database()
        .admin_pool()
        .await
        .step("connect as the superuser")?;
    let mut plans = Vec::new();
    for (role, url) in [
        ("the application role: generated policy", &setup.app_url),
        ("a `BYPASSRLS` role: no policy", &setup.bypass_url),
    ] {
        let mut session = Session::connect(role, url, "bench-plans", &admin).await?;
        session.begin_for(1).await?;
        // Run it as often as the measurement did, so that the plan is the
        // one PostgreSQL settled on for the prepared statement.
        for _ in 0..10 {
            session.fetch_rows(&statement).await?;
        }
        plans.push(Plan {
            title: format!("Plan: one lookup as {role}"),
            sql: statement.sql().to_owned(),
            text: session.explain(&statement).await?,
        });
        session.commit().await?;
    }
    admin.close().await;
    Ok(plans)
}

fn section(workload: Workload, samples: &[Samples]) -> Result<Section, BenchError> {
    let mut section = Section::new(workload.title(), Unit::Microseconds, samples);
    // The goals hold for latency back to back; the other workloads are
    // reported beside it.
    let back_to_back = workload.clients.is_none() && !workload.settled;
    let goal = |goal: f64| back_to_back.then_some(goal);
    // The read transaction's goals: a third below raw sqlx's latency for
    // one statement, and at least its throughput from 2 clients on.
    let read_goal = match workload.clients {
        None if back_to_back && workload.statements == 1 => Some(0.80),
        Some(2..) => Some(1.00),
        _ => None,
    };
    section
        .ratio(samples, LIBRARY_READ, RAW, read_goal)?
        .ratio(samples, LIBRARY_READ, LIBRARY, None)?
        .ratio(samples, LIBRARY_READ, RAW_READ, None)?
        .ratio(samples, RAW_READ, RAW, None)?
        .ratio(samples, LIBRARY_TIMEOUT, LIBRARY, None)?
        .ratio(samples, LIBRARY, RAW, goal(1.03))?
        .ratio(samples, LIBRARY, RAW_SET, goal(1.0))?
        .ratio(samples, LIBRARY, TENAXUM_HOOKS, goal(1.0))?
        .ratio(samples, LIBRARY, TENAXUM_BEGIN, None)?
        .ratio(samples, LIBRARY, RAW_SET_LOCAL, None)?
        .ratio(samples, RAW_SET_LOCAL_NO_RLS, RAW, None)?
        .ratio(samples, RAW_SET_LOCAL, RAW_SET_LOCAL_NO_RLS, None)?
        .ratio(samples, RAW_SET_LOCAL, RAW_ONE_QUERY, None)?
        .ratio(samples, TENAXUM_HOOKS, RAW_08, None)?;
    if let Some(clients) = workload.clients {
        let throughput: Vec<String> = samples
            .iter()
            .map(|samples| {
                let per_second = 1e9 / samples.summary().median;
                format!("{}: {per_second:.0}", samples.name)
            })
            .collect();
        section.notes.push(format!(
            "{clients} concurrent client{s} on one async thread share each contender's pool \
             of {POOL_SIZE} connections for {window} ms per sample; the figures are wall and \
             CPU time per finished transaction, so a ratio below 1 means more transactions \
             per second. Median throughput, transactions per second: {list}.",
            s = if clients == 1 { "" } else { "s" },
            window = THROUGHPUT_WINDOW.as_millis(),
            list = throughput.join("; "),
        ));
    } else if !workload.settled {
        section.notes.push(
            "Back to back: a sample starts as soon as the previous one ended, so the release \
             work of a contender's last transaction (the pool's ping, tenaxum's `RESET`) may \
             overlap the next sample; its backends' CPU time still counts for that contender, \
             in its next sample."
                .to_owned(),
        );
    }
    Ok(section)
}

/// Runs `futures` concurrently on this task until all have finished, or
/// until the first fails.
async fn all_of<F>(futures: Vec<F>) -> Result<(), BenchError>
where
    F: Future<Output = Result<(), BenchError>>,
{
    let mut futures: Vec<Option<Pin<Box<F>>>> = futures
        .into_iter()
        .map(|future| Some(Box::pin(future)))
        .collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in &mut futures {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(Ok(())) => *slot = None,
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    })
    .await
}

/// A lookup must find its row: no row means the tenant context was wrong.
fn found<T>(row: Option<T>, contender: &str, tenant: i64, id: i64) -> Result<T, BenchError> {
    row.ok_or_else(|| {
        BenchError::message(format!(
            "{contender}: no row for tenant {tenant}, id {id}; the tenant context did not reach the server"
        ))
    })
}

async fn library(
    pool: &TenantPool,
    contender: &str,
    at: Lookup,
    statements: usize,
) -> Result<(), BenchError> {
    let tenant = TenantId::from_verified(at.tenant);
    let mut tx = pool
        .begin(&tenant)
        .await
        .step(format!("{contender}: begin"))?;
    for id in at.ids(statements) {
        let row: Option<Account> = tx
            .fetch_optional(Account::select(&tenant).filter(Account::ID.eq(id)))
            .await
            .step(format!("{contender}: select"))?;
        found(row, contender, at.tenant, id)?;
    }
    tx.commit().await.step(format!("{contender}: commit"))
}

async fn library_read(pool: &TenantPool, at: Lookup, statements: usize) -> Result<(), BenchError> {
    let tenant = TenantId::from_verified(at.tenant);
    let mut read = pool.read(&tenant).await.step("library read: begin")?;
    for id in at.ids(statements) {
        let row: Option<Account> = read
            .fetch_optional(Account::select(&tenant).filter(Account::ID.eq(id)))
            .await
            .step("library read: select")?;
        found(row, LIBRARY_READ, at.tenant, id)?;
    }
    read.end();
    Ok(())
}

/// The raw contenders' statements: one hand-written select per id, each
/// required to find its row. The step is named only on failure, so that no
/// contender formats text while it is timed.
async fn select_each(
    tx: &mut sqlx::PgConnection,
    contender: &str,
    at: Lookup,
    statements: usize,
) -> Result<(), BenchError> {
    for id in at.ids(statements) {
        let row: Option<Account> = sqlx::query_as(SELECT_ACCOUNT)
            .bind(at.tenant)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|cause| BenchError::caused_by(format!("{contender}: select"), cause))?;
        found(row, contender, at.tenant, id)?;
    }
    Ok(())
}

async fn raw(pool: &PgPool, at: Lookup, statements: usize) -> Result<(), BenchError> {
    let mut tx = pool.begin().await.step("raw: begin")?;
    select_each(&mut tx, RAW, at, statements).await?;
    tx.commit().await.step("raw: commit")
}

async fn raw_set(pool: &PgPool, at: Lookup, statements: usize) -> Result<(), BenchError> {
    let mut tx = pool.begin().await.step("raw + set_config: begin")?;
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(at.tenant.to_string())
        .execute(&mut *tx)
        .await
        .step("raw + set_config: set the tenant")?;
    select_each(&mut tx, RAW_SET, at, statements).await?;
    tx.commit().await.step("raw + set_config: commit")
}

async fn raw_one_query(pool: &PgPool, at: Lookup, statements: usize) -> Result<(), BenchError> {
    // The key is an integer: nothing but digits reaches the statement.
    let begin = format!(
        "BEGIN; SELECT set_config('app.tenant_id', '{}', true)",
        at.tenant
    );
    let mut tx = pool
        .begin_with(AssertSqlSafe(begin))
        .await
        .step("raw one-query begin")?;
    select_each(&mut tx, RAW_ONE_QUERY, at, statements).await?;
    tx.commit().await.step("raw one-query: commit")
}

async fn raw_set_local(
    pool: &PgPool,
    contender: &str,
    at: Lookup,
    statements: usize,
) -> Result<(), BenchError> {
    // The library's `BEGIN`; the key is an integer.
    let begin = format!("BEGIN; SET LOCAL \"app\".\"tenant_id\" = '{}'", at.tenant);
    let mut tx = pool
        .begin_with(AssertSqlSafe(begin))
        .await
        .step(format!("{contender}: begin"))?;
    select_each(&mut tx, contender, at, statements).await?;
    tx.commit().await.step(format!("{contender}: commit"))
}

async fn raw_read(pool: &PgPool, at: Lookup, statements: usize) -> Result<(), BenchError> {
    // The library read's `BEGIN`; the key is an integer.
    let begin = format!(
        "BEGIN READ ONLY; SET LOCAL \"app\".\"tenant_id\" = '{}'",
        at.tenant
    );
    let mut tx = pool
        .begin_with(AssertSqlSafe(begin))
        .await
        .step("raw read: begin")?;
    select_each(&mut tx, RAW_READ, at, statements).await?;
    // Dropping it queues `ROLLBACK`; the pool's release ping sends it.
    drop(tx);
    Ok(())
}

/// A row of `accounts` as sqlx 0.8 decodes it (its derive is not enabled).
type AccountRow = (i64, i64, String, i64);

async fn select_08(
    tx: &mut sqlx08::Transaction<'_, sqlx08::Postgres>,
    contender: &str,
    at: Lookup,
    statements: usize,
) -> Result<(), BenchError> {
    for id in at.ids(statements) {
        let row: Option<AccountRow> = sqlx08::query_as(SELECT_ACCOUNT)
            .bind(at.tenant)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
            .step(format!("{contender}: select"))?;
        found(row, contender, at.tenant, id)?;
    }
    Ok(())
}

async fn tenaxum_hooks(
    pool: &sqlx08::PgPool,
    at: Lookup,
    statements: usize,
) -> Result<(), BenchError> {
    // What tenaxum's `tenant_scope` middleware does around a handler.
    tenaxum::pool::scope_tenant(tenaxum::TenantId::from(at.tenant), async {
        let mut tx = pool.begin().await.step("tenaxum hooks: begin")?;
        select_08(&mut tx, TENAXUM_HOOKS, at, statements).await?;
        tx.commit().await.step("tenaxum hooks: commit")
    })
    .await
}

async fn tenaxum_begin(
    pool: &sqlx08::PgPool,
    at: Lookup,
    statements: usize,
) -> Result<(), BenchError> {
    use tenaxum::PgPoolExt as _;
    let tenant = tenaxum::TenantId::from(at.tenant);
    let mut tx = pool
        .begin_tenant(&tenant)
        .await
        .step("tenaxum begin_tenant")?;
    select_08(&mut tx, TENAXUM_BEGIN, at, statements).await?;
    tx.commit().await.step("tenaxum begin_tenant: commit")
}

async fn raw_08(pool: &sqlx08::PgPool, at: Lookup, statements: usize) -> Result<(), BenchError> {
    let mut tx = pool.begin().await.step("raw sqlx 0.8: begin")?;
    select_08(&mut tx, RAW_08, at, statements).await?;
    tx.commit().await.step("raw sqlx 0.8: commit")
}
