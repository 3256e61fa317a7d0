//! The database-per-tenant model behind a real PgBouncer in transaction
//! mode: the router reaches each tenant's own database through the same
//! pooler as the shared one, and under concurrency every transaction sees
//! only its tenant's rows and writes only into its tenant's database.
//!
//! PgBouncer gets one server connection per database, so every client of
//! a database shares it: consecutive transactions of one pooled client
//! connection run wherever the pooler puts them, interleaved with other
//! clients' transactions on the same server connection.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use tenancy_sqlx::directory::{DatabaseUrl, Placement, TableDirectory, TenantEntry};
use tenancy_sqlx::testing::{APP_ROLE, PgBouncer, TestDatabase};
use tenancy_sqlx::{Identifier, KeyValue, RouterOptions, TenantPool, TenantRouter};
use tenancy_test::TestResult;
use tenancy_test::models::visible_tenants;
use tenancy_test::shop::{A, B, ORDERS_PER_TENANT, order, pool_options, shop, tenant};

/// The tenants in databases of their own.
const OWN_DATABASE_TENANTS: [i64; 3] = [4, 5, 6];

/// Server connections PgBouncer keeps per database and role.
const SERVER_CONNECTIONS: u32 = 1;

/// Client connections each of the router's pools may hold: more than
/// PgBouncer's server connections, so that clients queue and share them.
const CLIENT_CONNECTIONS: u32 = 4;

/// The shared database (tenants [`A`] and [`B`]), one database per tenant
/// of [`OWN_DATABASE_TENANTS`] (each also holding rows of [`B`], which a
/// transaction sent to the wrong place would find), PgBouncer in front of
/// them all, and a router that reaches every place through it.
struct Fleet {
    main: TestDatabase,
    own: Vec<(i64, TestDatabase)>,
    _bouncer: PgBouncer,
    router: TenantRouter<TableDirectory>,
}

impl Fleet {
    async fn new() -> TestResult<Self> {
        let main = shop(&[A, B]).await?;
        let mut own = Vec::new();
        for key in OWN_DATABASE_TENANTS {
            own.push((key, shop(&[key, B]).await?));
        }
        let bouncer = PgBouncer::start(&main, SERVER_CONNECTIONS).await?;

        let owner = main.owner_pool().await?;
        for statement in TableDirectory::create_statements(&Identifier::new("role", APP_ROLE)?) {
            sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&owner)
                .await?;
        }
        let directory = TableDirectory::new(owner);
        for key in [A, B] {
            directory
                .put(KeyValue::I64(key), &TenantEntry::active(Placement::Shared))
                .await?;
        }
        for (key, db) in &own {
            let url = DatabaseUrl::new(bouncer.app_url_of(db))?;
            directory
                .put(
                    KeyValue::I64(*key),
                    &TenantEntry::active(Placement::Database(url)),
                )
                .await?;
        }

        // Everything the application reads goes through PgBouncer: the
        // directory, the shared tables, the tenant databases.
        let app: PgConnectOptions = bouncer.app_url().parse()?;
        let reader = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(app.clone().statement_cache_capacity(0))
            .await?;
        let shared = TenantPool::connect_with(
            PgPoolOptions::new()
                .max_connections(CLIENT_CONNECTIONS)
                .acquire_timeout(Duration::from_secs(30)),
            app,
            pool_options().behind_transaction_pooler(),
        )
        .await?;
        let pools = OWN_DATABASE_TENANTS.len();
        let options = RouterOptions::new()
            .max_database_pools(pools)
            .max_database_connections(CLIENT_CONNECTIONS * u32::try_from(pools)?);
        let router = TenantRouter::new(
            TableDirectory::new(reader),
            shared,
            pool_options().behind_transaction_pooler(),
            options,
        )?;
        Ok(Fleet {
            main,
            own,
            _bouncer: bouncer,
            router,
        })
    }

    /// The name of the database `key`'s transactions must run in.
    fn database_of(&self, key: i64) -> String {
        self.own
            .iter()
            .find(|(own, _)| *own == key)
            .map_or(self.main.name(), |(_, db)| db.name())
            .to_owned()
    }

    /// Every tenant of the fleet.
    fn tenants(&self) -> Vec<i64> {
        [A, B].into_iter().chain(OWN_DATABASE_TENANTS).collect()
    }
}

/// PgBouncer started for one test database routes the others of the same
/// server too, each to itself: a tenant's own database is reachable
/// through the pooler the shared one is.
#[tokio::test]
async fn the_pooler_routes_each_database_of_the_server_to_itself() -> TestResult {
    let main = TestDatabase::create().await?;
    let other = TestDatabase::create().await?;
    let bouncer = PgBouncer::start(&main, SERVER_CONNECTIONS).await?;
    for (url, expected) in [
        (bouncer.app_url(), main.name()),
        (bouncer.app_url_of(&other), other.name()),
    ] {
        let mut connection = PgConnection::connect(&url).await?;
        let database: String = sqlx::query_scalar("SELECT current_database()::text")
            .persistent(false)
            .fetch_one(&mut connection)
            .await?;
        connection.close().await?;
        assert_eq!(database, expected, "{url}");
    }
    Ok(())
}

/// Many transactions at once over tenants in the shared tables and in
/// databases of their own, all through PgBouncer: each runs in its
/// tenant's database, the builder and raw SQL see only its tenant's
/// orders, every write lands in its tenant's database and nowhere else,
/// and the server never counts more application connections to a tenant
/// database than PgBouncer's pool (so every transaction went through it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_tenants_behind_the_pooler_see_only_their_own_rows() -> TestResult {
    let fleet = Arc::new(Fleet::new().await?);
    let admin = fleet.main.admin_pool().await?;
    let own_names: Vec<String> = fleet
        .own
        .iter()
        .map(|(_, db)| db.name().to_owned())
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(most_connections(
        admin.clone(),
        own_names.clone(),
        Arc::clone(&done),
    ));

    let tenants = Arc::new(fleet.tenants());
    let mut tasks = Vec::new();
    for worker in 0..8usize {
        let (fleet, tenants) = (Arc::clone(&fleet), Arc::clone(&tenants));
        tasks.push(tokio::spawn(async move {
            let mut written: HashMap<i64, i64> = HashMap::new();
            for i in 0..40usize {
                let key = tenants[(worker + i * 3) % tenants.len()];
                let tenant = tenant(key);
                let mut tx = fleet.router.begin(&tenant).await?;
                if i % 3 == 0 {
                    tx.execute(order(&tenant, 1, "concurrent")).await?;
                    *written.entry(key).or_default() += 1;
                }
                let database: String = sqlx::query_scalar("SELECT current_database()::text")
                    .persistent(false)
                    .fetch_one(tx.raw_connection())
                    .await?;
                let (built, raw) = visible_tenants(&mut tx).await?;
                tx.commit().await?;
                assert_eq!(database, fleet.database_of(key), "tenant {key}");
                assert!(
                    built.len() >= ORDERS_PER_TENANT as usize && built.len() == raw.len(),
                    "tenant {key}: {} built, {} raw",
                    built.len(),
                    raw.len()
                );
                let foreign: Vec<i64> =
                    built.into_iter().chain(raw).filter(|t| *t != key).collect();
                assert_eq!(
                    foreign,
                    Vec::<i64>::new(),
                    "tenant {key} saw other tenants' orders"
                );
            }
            Ok::<_, tenancy_test::BoxError>(written)
        }));
    }
    let mut written: HashMap<i64, i64> = HashMap::new();
    for task in tasks {
        for (key, count) in task.await?? {
            *written.entry(key).or_default() += count;
        }
    }
    done.store(true, Ordering::Relaxed);
    let most = sampler.await??;

    // Every write is in its tenant's database, none anywhere else: read
    // by the superuser, straight from each database.
    for key in fleet.tenants() {
        let expected = ORDERS_PER_TENANT + written.get(&key).copied().unwrap_or_default();
        for database in std::iter::once(&fleet.main).chain(fleet.own.iter().map(|(_, db)| db)) {
            let count = orders_of(database, key).await?;
            let here = database.name() == fleet.database_of(key);
            // B has seeded rows in every tenant database, never written to.
            let other = if key == B { ORDERS_PER_TENANT } else { 0 };
            assert_eq!(
                count,
                if here { expected } else { other },
                "tenant {key} in {}",
                database.name()
            );
        }
    }
    assert!(
        (1..=i64::from(SERVER_CONNECTIONS)).contains(&most),
        "the server counted at most {most} application connections to a tenant database; \
         PgBouncer keeps {SERVER_CONNECTIONS}"
    );
    Ok(())
}

/// How many orders of `key` the database `db` holds, counted by the
/// superuser (no policy hides any).
async fn orders_of(db: &TestDatabase, key: i64) -> TestResult<i64> {
    let admin = db.admin_pool().await?;
    let count = sqlx::query_scalar("SELECT count(*) FROM orders WHERE tenant_id = $1")
        .bind(key)
        .fetch_one(&admin)
        .await?;
    admin.close().await;
    Ok(count)
}

/// The most application-role connections the server counted to any one of
/// `databases` while `done` was unset.
async fn most_connections(
    admin: PgPool,
    databases: Vec<String>,
    done: Arc<AtomicBool>,
) -> Result<i64, sqlx::Error> {
    let mut most = 0;
    while !done.load(Ordering::Relaxed) {
        let seen: Option<i64> = sqlx::query_scalar(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM pg_stat_activity
             WHERE usename = $1 AND datname = ANY($2) GROUP BY datname) per_database",
        )
        .bind(APP_ROLE)
        .bind(&databases)
        .fetch_one(&admin)
        .await?;
        most = most.max(seen.unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(most)
}
