//! The cost of where a tenant lives: a tenant transaction through the
//! router in the shared tables, in a schema of its own and in a database of
//! its own, against raw sqlx doing the same; the cost of a pool-cache miss;
//! and the same transaction through PgBouncer in transaction mode.

use std::time::Instant;

use sqlx::{AssertSqlSafe, PgPool};
use tenancy_benches::database::{BenchDatabase, POOL_SIZE, connect_options, execute, pool_options};
use tenancy_benches::harness::{Contender, Settings, Timing, measure};
use tenancy_benches::machine::load_average;
use tenancy_benches::results::{BenchResult, Section, Unit};
use tenancy_benches::schema::Account;
use tenancy_benches::{BenchError, Step, run_main};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::directory::{DatabaseUrl, Placement, StaticDirectory, TenantEntry};
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, PgBouncer, TestDatabase};
use tenancy_sqlx::{
    CrossTenant, Identifier, KeyValue, OwnerPool, RouterOptions, TenantId, TenantPool,
    TenantPoolOptions, TenantRouter,
};

const SHARED: &str = "library, shared";
const SCHEMA: &str = "library, schema per tenant";
const DATABASE: &str = "library, database per tenant";
const RAW_SHARED: &str = "raw sqlx, shared: `BEGIN; SET LOCAL` tenant";
const RAW_SEARCH_PATH: &str = "raw sqlx, schema: `SET LOCAL search_path`, bare names";
const RAW_QUALIFIED: &str = "raw sqlx, schema: qualified names, no `search_path`";
const RAW_DATABASE: &str = "raw sqlx, own database";
const MISS: &str = "library, database per tenant, pool-cache miss";
const HIT: &str = "library, database per tenant, pool-cache hit";
const BOUNCED: &str = "library, shared, through PgBouncer";
const RAW_BOUNCED: &str = "raw sqlx, shared, through PgBouncer, unnamed statements";
const DIRECT: &str = "library, shared, direct";

/// Tenants 1–10 share `public.accounts`; 11 has schema `tenant_11`; 12 and
/// 13 have databases of their own.
const SHARED_TENANTS: i64 = 10;
const SCHEMA_TENANT: i64 = 11;
const DATABASE_TENANT: i64 = 12;
const OTHER_DATABASE_TENANT: i64 = 13;
const ACCOUNTS_PER_TENANT: i64 = 100;

fn main() -> std::process::ExitCode {
    run_main(|runtime| {
        let started = Instant::now();
        let load_average = load_average();
        let setup = runtime.block_on(Setup::create())?;
        let hits = measure(Settings::TRANSACTIONS, setup.hit_contenders(runtime))?;
        let mut hit_section = Section::new(
            "Cache hit: one lookup per transaction",
            Unit::Microseconds,
            &hits,
        );
        hit_section
            .ratio(&hits, SCHEMA, SHARED, Some(1.05))?
            .ratio(&hits, DATABASE, SHARED, Some(1.05))?
            .ratio(&hits, SHARED, RAW_SHARED, None)?
            .ratio(&hits, SCHEMA, RAW_QUALIFIED, None)?
            .ratio(&hits, DATABASE, RAW_DATABASE, None)?
            .ratio(&hits, RAW_SEARCH_PATH, RAW_QUALIFIED, None)?;
        let misses = measure(Settings::QUERIES, setup.miss_contenders(runtime))?;
        let mut miss_section = Section::new("Pool-cache miss", Unit::Milliseconds, &misses);
        miss_section.ratio(&misses, MISS, HIT, None)?;
        let bounced = measure(Settings::TRANSACTIONS, setup.bouncer_contenders(runtime))?;
        let mut bounced_section = Section::new(
            "Through PgBouncer 1.18, transaction mode",
            Unit::Microseconds,
            &bounced,
        );
        bounced_section
            .ratio(&bounced, BOUNCED, DIRECT, None)?
            .ratio(&bounced, BOUNCED, RAW_BOUNCED, None)?;
        BenchResult {
            id: "models".to_owned(),
            title: "Isolation models".to_owned(),
            description: DESCRIPTION.to_owned(),
            postgres: Some(setup.postgres.clone()),
            elapsed_seconds: started.elapsed().as_secs_f64(),
            load_average,
            sections: vec![hit_section, miss_section, bounced_section],
        }
        .save()
    })
}

const DESCRIPTION: &str = "\
One transaction: open it for a tenant, select one row of `accounts` by \
`(tenant_id, id)`, commit, for a tenant in the shared tables, in a schema of \
its own and in a database of its own, each opened by one `TenantRouter` (over \
a static directory, placements cached) and by raw sqlx sending the same \
`BEGIN` query. The schema contenders compare pinning `search_path` with \
naming the schema in every statement: the library does both (its statements \
are qualified; `search_path` is pinned for raw SQL). A pool-cache miss is a \
router allowed one database pool, alternating between two tenant databases: \
each `begin` closes one pool and opens, and checks, another. The last section \
runs the shared transaction through PgBouncer 1.18 in transaction mode \
(`TenantPoolOptions::behind_transaction_pooler`: unnamed statements) against \
raw sqlx doing the same and the library connected directly. Wall time only.";

struct Setup {
    postgres: String,
    router: TenantRouter<StaticDirectory>,
    missing_router: TenantRouter<StaticDirectory>,
    raw_shared: PgPool,
    raw_database: PgPool,
    bounced: TenantPool,
    raw_bounced: PgPool,
    _own: [TestDatabase; 2],
    _bouncer: PgBouncer,
    _main: BenchDatabase,
}

/// Creates `accounts` for `tenants` in `schema` of the database `owner`
/// owns, with the generated policy, and lets the application role use it.
async fn accounts(owner: &PgPool, schema: &str, tenants: &[i64]) -> Result<(), BenchError> {
    let schema_id = Identifier::new("schema", schema).step("name the schema")?;
    let tables = TableSet::new()
        .with::<Account>()
        .in_schema(schema_id.clone());
    execute(
        owner,
        &format!("CREATE SCHEMA IF NOT EXISTS {}", schema_id.quoted()),
    )
    .await?;
    execute(
        owner,
        &format!("GRANT USAGE ON SCHEMA {} TO {APP_ROLE}", schema_id.quoted()),
    )
    .await?;
    for statement in tables
        .create_statements(tenancy_sqlx::Dialect::Postgres)
        .step("generate the DDL")?
    {
        execute(owner, &statement).await?;
    }
    let list = tenants
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    execute(
        owner,
        &format!(
            "INSERT INTO {}.accounts (tenant_id, id, name, balance) \
             SELECT t, a, 'account ' || a, a * 100 \
             FROM unnest(ARRAY[{list}]::bigint[]) AS t, generate_series(1, {ACCOUNTS_PER_TENANT}) AS a",
            schema_id.quoted()
        ),
    )
    .await?;
    OwnerPool::from_pool(
        owner.clone(),
        CrossTenant::with_reason("benchmark set-up").step("a reason")?,
    )
    .apply_schema(&tables, &RlsPolicy::for_role(APP_ROLE).step("the policy")?)
    .await
    .step("apply the schema and its policy")
}

fn options() -> TenantPoolOptions {
    TenantPoolOptions::new(&TableSet::new().with::<Account>())
}

impl Setup {
    async fn create() -> Result<Self, BenchError> {
        let main = BenchDatabase::create().await?;
        let owner = main.owner_pool().await?;
        let shared: Vec<i64> = (1..=SHARED_TENANTS).collect();
        accounts(&owner, "public", &shared).await?;
        accounts(&owner, "tenant_11", &[SCHEMA_TENANT]).await?;
        let mut own = Vec::new();
        for tenant in [DATABASE_TENANT, OTHER_DATABASE_TENANT] {
            let db = TestDatabase::create()
                .await
                .step("create a tenant database")?;
            accounts(
                &db.owner_pool().await.step("connect as the owner")?,
                "public",
                &[tenant],
            )
            .await?;
            own.push(db);
        }
        let own: [TestDatabase; 2] = own
            .try_into()
            .map_err(|_| BenchError::message("two tenant databases"))?;
        let mut directory = StaticDirectory::new();
        for tenant in shared {
            directory = directory.with(
                KeyValue::I64(tenant),
                TenantEntry::active(Placement::Shared),
            );
        }
        directory = directory.with(
            KeyValue::I64(SCHEMA_TENANT),
            TenantEntry::active(Placement::Schema(
                Identifier::new("schema", "tenant_11").step("name the schema")?,
            )),
        );
        for (tenant, db) in [DATABASE_TENANT, OTHER_DATABASE_TENANT]
            .into_iter()
            .zip(&own)
        {
            directory = directory.with(
                KeyValue::I64(tenant),
                TenantEntry::active(Placement::Database(
                    DatabaseUrl::new(db.app_url()).step("the tenant database's URL")?,
                )),
            );
        }
        let app = main.test_database().app_url();
        let shared_pool = |url: String| async move {
            TenantPool::connect_with(pool_options(), connect_options(&url)?, options())
                .await
                .step("connect a tenant pool")
        };
        let router = TenantRouter::new(
            directory.clone(),
            shared_pool(app.clone()).await?,
            options(),
            RouterOptions::new().max_database_connections(16 * POOL_SIZE),
        )
        .step("make the router")?;
        let missing_router = TenantRouter::new(
            directory,
            shared_pool(app.clone()).await?,
            options(),
            RouterOptions::new()
                .max_database_pools(1)
                .max_database_connections(1),
        )
        .step("make the router with one database pool")?;
        let raw = |url: String| async move {
            pool_options()
                .connect_with(connect_options(&url)?)
                .await
                .step("connect a raw pool")
        };
        let bouncer = PgBouncer::start(main.test_database(), POOL_SIZE)
            .await
            .step("start PgBouncer")?;
        let bounced = TenantPool::connect_with(
            pool_options(),
            connect_options(&bouncer.app_url())?,
            options().behind_transaction_pooler(),
        )
        .await
        .step("connect the tenant pool through PgBouncer")?;
        let raw_bounced = pool_options()
            .connect_with(connect_options(&bouncer.app_url())?.statement_cache_capacity(0))
            .await
            .step("connect the raw pool through PgBouncer")?;
        Ok(Setup {
            postgres: main.server_version().await?,
            router,
            missing_router,
            raw_shared: raw(app).await?,
            raw_database: raw(own[0].app_url()).await?,
            bounced,
            raw_bounced,
            _own: own,
            _bouncer: bouncer,
            _main: main,
        })
    }

    fn hit_contenders<'a>(&'a self, runtime: &'a tokio::runtime::Runtime) -> Vec<Contender<'a>> {
        vec![
            library(runtime, SHARED, &self.router, |n| 1 + n % SHARED_TENANTS),
            library(runtime, SCHEMA, &self.router, |_| SCHEMA_TENANT),
            library(runtime, DATABASE, &self.router, |_| DATABASE_TENANT),
            raw(
                runtime,
                RAW_SHARED,
                &self.raw_shared,
                "",
                "public.",
                |n| 1 + n % SHARED_TENANTS,
                true,
            ),
            raw(
                runtime,
                RAW_SEARCH_PATH,
                &self.raw_shared,
                "; SET LOCAL search_path TO \"tenant_11\", pg_temp",
                "",
                |_| SCHEMA_TENANT,
                true,
            ),
            raw(
                runtime,
                RAW_QUALIFIED,
                &self.raw_shared,
                "",
                "\"tenant_11\".",
                |_| SCHEMA_TENANT,
                true,
            ),
            raw(
                runtime,
                RAW_DATABASE,
                &self.raw_database,
                "",
                "public.",
                |_| DATABASE_TENANT,
                true,
            ),
        ]
    }

    fn miss_contenders<'a>(&'a self, runtime: &'a tokio::runtime::Runtime) -> Vec<Contender<'a>> {
        vec![
            library(runtime, MISS, &self.missing_router, |n| {
                DATABASE_TENANT + n % 2
            }),
            library(runtime, HIT, &self.router, |_| DATABASE_TENANT),
        ]
    }

    fn bouncer_contenders<'a>(
        &'a self,
        runtime: &'a tokio::runtime::Runtime,
    ) -> Vec<Contender<'a>> {
        vec![
            pool(runtime, BOUNCED, &self.bounced),
            pool(runtime, DIRECT, self.router.shared_pool()),
            raw(
                runtime,
                RAW_BOUNCED,
                &self.raw_bounced,
                "",
                "public.",
                |n| 1 + n % SHARED_TENANTS,
                false,
            ),
        ]
    }
}

/// The `n`-th lookup's account id.
fn account(n: i64) -> i64 {
    1 + (n * 7) % ACCOUNTS_PER_TENANT
}

fn library<'a>(
    runtime: &'a tokio::runtime::Runtime,
    name: &'static str,
    router: &'a TenantRouter<StaticDirectory>,
    tenant_of: fn(i64) -> i64,
) -> Contender<'a> {
    let mut next = 0_i64;
    Contender::new(name, move |iterations| {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..iterations {
                let tenant = TenantId::from_verified(tenant_of(next));
                let mut tx = router.begin(&tenant).await.step(name)?;
                let row: Option<Account> = tx
                    .fetch_optional(Account::select(&tenant).filter(Account::ID.eq(account(next))))
                    .await
                    .step(name)?;
                row.ok_or_else(|| BenchError::message(format!("{name}: no row")))?;
                tx.commit().await.step(name)?;
                next += 1;
            }
            Ok::<Timing, BenchError>(start.elapsed().into())
        })
    })
}

fn pool<'a>(
    runtime: &'a tokio::runtime::Runtime,
    name: &'static str,
    pool: &'a TenantPool,
) -> Contender<'a> {
    let mut next = 0_i64;
    Contender::new(name, move |iterations| {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..iterations {
                let tenant = TenantId::from_verified(1 + next % SHARED_TENANTS);
                let mut tx = pool.begin(&tenant).await.step(name)?;
                let row: Option<Account> = tx
                    .fetch_optional(Account::select(&tenant).filter(Account::ID.eq(account(next))))
                    .await
                    .step(name)?;
                row.ok_or_else(|| BenchError::message(format!("{name}: no row")))?;
                tx.commit().await.step(name)?;
                next += 1;
            }
            Ok::<Timing, BenchError>(start.elapsed().into())
        })
    })
}

/// Raw sqlx: `BEGIN; SET LOCAL` tenant (and `pins`), then the lookup on
/// `accounts` named with `prefix`.
fn raw<'a>(
    runtime: &'a tokio::runtime::Runtime,
    name: &'static str,
    pool: &'a PgPool,
    pins: &'static str,
    prefix: &'static str,
    tenant_of: fn(i64) -> i64,
    persistent: bool,
) -> Contender<'a> {
    let select = format!(
        "SELECT tenant_id, id, name, balance FROM {prefix}accounts WHERE tenant_id = $1 AND id = $2"
    );
    let mut next = 0_i64;
    Contender::new(name, move |iterations| {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..iterations {
                let tenant = tenant_of(next);
                let begin = format!("BEGIN; SET LOCAL \"app\".\"tenant_id\" = '{tenant}'{pins}");
                let mut tx = pool.begin_with(AssertSqlSafe(begin)).await.step(name)?;
                let row: Option<Account> = sqlx::query_as(AssertSqlSafe(select.clone()))
                    .persistent(persistent)
                    .bind(tenant)
                    .bind(account(next))
                    .fetch_optional(&mut *tx)
                    .await
                    .step(name)?;
                row.ok_or_else(|| BenchError::message(format!("{name}: no row")))?;
                tx.commit().await.step(name)?;
                next += 1;
            }
            Ok::<Timing, BenchError>(start.elapsed().into())
        })
    })
}
