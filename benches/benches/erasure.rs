//! Erasing a tenant of 1,000,000 rows across 6 tables: the library's
//! erasure (bounded batches, a ledger, verification, a certificate) against
//! a hand-written `DELETE` per table in foreign-key order, by wall time and
//! by the longest transaction either holds its row locks for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use tenancy_benches::database::{BenchDatabase, execute};
use tenancy_benches::harness::Samples;
use tenancy_benches::results::{BenchResult, Load, Section, Unit};
use tenancy_benches::{BenchError, Step};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::lifecycle::{Erasure, ErasureOptions};
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::APP_ROLE;
use tenancy_sqlx::{CrossTenant, Dialect, OwnerPool, TenantId};

#[expect(
    dead_code,
    reason = "the structs are the tables' metadata; no row is read into them"
)]
mod schema {
    use tenancy_sqlx::tenant_scoped;

    #[tenant_scoped]
    pub struct Customer {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub name: String,
    }

    #[tenant_scoped]
    pub struct Order {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        pub total_cents: i64,
    }

    #[tenant_scoped]
    pub struct OrderItem {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Order)]
        pub order_id: i64,
        pub sku: String,
    }

    #[tenant_scoped]
    pub struct Payment {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Order)]
        pub order_id: i64,
        pub amount_cents: i64,
    }

    #[tenant_scoped]
    pub struct Shipment {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Order)]
        pub order_id: i64,
        pub carrier: String,
    }

    #[tenant_scoped]
    pub struct Note {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        pub body: String,
    }
}

/// The tables and the leaving tenant's rows in each, referenced tables
/// first: 1,000,000 in all.
const TABLES: [(&str, i64); 6] = [
    ("customers", 50_000),
    ("orders", 200_000),
    ("order_items", 400_000),
    ("payments", 150_000),
    ("shipments", 150_000),
    ("notes", 50_000),
];

/// The tenant that leaves.
const LEAVING: i64 = 1;

/// The tenant that stays, with a tenth of the rows, so that every delete
/// has to find the leaving tenant's rows among others.
const STAYING: i64 = 2;

/// Runs of each contender, taking turns round by round.
const ROUNDS: usize = 3;

/// How often the sampler reads the open transactions' ages.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);

/// What the issue asks: the library within 1.2× of the hand-written deletes.
const GOAL: f64 = 1.2;

const LIBRARY: &str = "erase_tenant (default batches)";
const HAND_WRITTEN: &str = "hand-written DELETE per table, FK order";

fn tables() -> TableSet {
    use schema::*;
    TableSet::new()
        .with::<Customer>()
        .with::<Order>()
        .with::<OrderItem>()
        .with::<Payment>()
        .with::<Shipment>()
        .with::<Note>()
}

fn main() -> std::process::ExitCode {
    tenancy_benches::run_async_main(run())
}

/// One erasure by one contender, on a fresh copy of the seeded database.
struct Run {
    contender: &'static str,
    wall: Duration,
    /// The oldest open transaction the sampler saw in the database.
    longest_transaction: Duration,
    /// The library's own account, for its runs.
    erasure: Option<Erasure>,
}

async fn run() -> Result<(), BenchError> {
    let started = Instant::now();
    let load = Load::at_start();
    let seed = BenchDatabase::create().await?;
    seed_rows(&seed).await?;
    seed.checkpoint().await?;
    let mut runs = Vec::new();
    for round in 0..ROUNDS {
        let order = if round % 2 == 0 {
            [LIBRARY, HAND_WRITTEN]
        } else {
            [HAND_WRITTEN, LIBRARY]
        };
        for contender in order {
            let suffix = format!(
                "r{round}_{}",
                if contender == LIBRARY { "lib" } else { "hand" }
            );
            let (owner, admin) = seed.copy(&suffix).await?;
            let run = erase(contender, &owner, &admin).await?;
            println!(
                "round {round}, {contender}: {:.2} s, longest transaction {:.0} ms",
                run.wall.as_secs_f64(),
                run.longest_transaction.as_secs_f64() * 1000.0
            );
            runs.push(run);
            seed.drop_copy(&suffix).await?;
        }
    }
    BenchResult {
        id: "erasure".to_owned(),
        title: "Tenant erasure".to_owned(),
        description: description(),
        postgres: Some(seed.server_version().await?),
        elapsed_seconds: started.elapsed().as_secs_f64(),
        load,
        sections: sections(&runs)?,
    }
    .save()
}

fn description() -> String {
    let total: i64 = TABLES.iter().map(|(_, rows)| rows).sum();
    let per_table: Vec<String> = TABLES
        .iter()
        .map(|(table, rows)| format!("`{table}` {rows}"))
        .collect();
    format!(
        "Erasing tenant {LEAVING}, which has {total} rows across 6 tables ({}), with composite \
         foreign keys `(tenant_id, ..)` between them, RLS forced, and tenant {STAYING} holding a \
         tenth as many rows beside them. The library's `OwnerPool::erase_tenant` with \
         `ErasureOptions::new(..)` (batches of at most 10,000 rows, smaller when one takes longer \
         than 200 ms; a ledger row per batch; the final count in every table; the certificate) \
         runs against one `DELETE .. WHERE tenant_id = 1` per table, leaves first, each in its \
         own transaction, by the same owner role with the tenant set for its session. Each run \
         starts on a fresh copy (`CREATE DATABASE .. TEMPLATE`) of the same seeded database; the \
         contenders take turns over {ROUNDS} rounds. A sampler reads \
         `clock_timestamp() - xact_start` of the database's other sessions every {} ms: its \
         maximum is the longest any transaction held the row locks it took.",
        per_table.join(", "),
        SAMPLE_EVERY.as_millis()
    )
}

/// Creates the tables, loads both tenants' rows, then protects the tables
/// with the library's RLS DDL (once forced, even the owner writes only the
/// rows a policy lets it write).
async fn seed_rows(database: &BenchDatabase) -> Result<(), BenchError> {
    let owner = database.owner_pool().await?;
    let tables = tables();
    for statement in tables
        .create_statements(Dialect::Postgres)
        .step("render the tables' DDL")?
    {
        execute(&owner, &statement).await?;
    }
    for (tenant, share) in [(LEAVING, 1), (STAYING, 10)] {
        let count = |table: &str| {
            TABLES
                .iter()
                .find(|(name, _)| *name == table)
                .map_or(0, |(_, rows)| rows / share)
        };
        let (customers, orders) = (count("customers"), count("orders"));
        let sql = format!(
            "INSERT INTO customers SELECT {tenant}, g, 'customer ' || g FROM generate_series(1, {customers}) g;
             INSERT INTO orders SELECT {tenant}, g, g % {customers} + 1, g * 7 FROM generate_series(1, {orders}) g;
             INSERT INTO order_items SELECT {tenant}, g, g % {orders} + 1, 'sku-' || g FROM generate_series(1, {items}) g;
             INSERT INTO payments SELECT {tenant}, g, g % {orders} + 1, g * 3 FROM generate_series(1, {payments}) g;
             INSERT INTO shipments SELECT {tenant}, g, g % {orders} + 1, 'carrier ' || g % 5 FROM generate_series(1, {shipments}) g;
             INSERT INTO notes SELECT {tenant}, g, g % {customers} + 1, repeat('n', 40) FROM generate_series(1, {notes}) g;",
            items = count("order_items"),
            payments = count("payments"),
            shipments = count("shipments"),
            notes = count("notes"),
        );
        execute(&owner, &sql).await?;
    }
    OwnerPool::from_pool(
        owner.clone(),
        CrossTenant::with_reason("erasure benchmark set-up").step("state the reason")?,
    )
    .with_tables(&tables)
    .apply_schema(
        &tables,
        &RlsPolicy::for_role(APP_ROLE).step("name the application role")?,
    )
    .await
    .step("protect the tables with RLS")?;
    execute(&owner, "ANALYZE").await?;
    owner.close().await;
    Ok(())
}

async fn erase(
    contender: &'static str,
    owner: &PgConnectOptions,
    admin: &PgConnectOptions,
) -> Result<Run, BenchError> {
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(longest_transaction(admin.clone(), Arc::clone(&stop)));
    let start = Instant::now();
    let erasure = if contender == LIBRARY {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(owner.clone())
            .await
            .step("connect as the owner")?;
        let erased = OwnerPool::from_pool(
            pool.clone(),
            CrossTenant::with_reason("erasure benchmark").step("state the reason")?,
        )
        .with_tables(&tables())
        .erase_tenant(
            &TenantId::from_verified(LEAVING),
            &ErasureOptions::new(&tables()),
        )
        .await
        .step("erase the tenant")?;
        pool.close().await;
        Some(erased)
    } else {
        let mut connection = PgConnection::connect_with(owner)
            .await
            .step("connect as the owner")?;
        // The owner's policy reads the tenant setting, as for the library.
        execute(&mut connection, &format!("SET app.tenant_id = '{LEAVING}'")).await?;
        for (table, _) in TABLES.iter().rev() {
            execute(
                &mut connection,
                &format!("DELETE FROM {table} WHERE tenant_id = {LEAVING}"),
            )
            .await?;
        }
        let _ = connection.close().await;
        None
    };
    let wall = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let longest_transaction = sampler
        .await
        .map_err(|error| BenchError::message(format!("the lock sampler failed: {error}")))??;
    check(admin).await?;
    Ok(Run {
        contender,
        wall,
        longest_transaction,
        erasure,
    })
}

/// The oldest open transaction of the database's other sessions, sampled
/// until `stop`.
async fn longest_transaction(
    admin: PgConnectOptions,
    stop: Arc<AtomicBool>,
) -> Result<Duration, BenchError> {
    let mut connection = PgConnection::connect_with(&admin)
        .await
        .step("connect the lock sampler")?;
    let mut longest = 0.0_f64;
    while !stop.load(Ordering::Relaxed) {
        let age: f64 = sqlx::query_scalar(
            "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)::float8
             FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND xact_start IS NOT NULL",
        )
        .fetch_one(&mut connection)
        .await
        .step("sample the open transactions")?;
        longest = longest.max(age);
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    let _ = connection.close().await;
    Ok(Duration::from_secs_f64(longest))
}

/// Fails the run unless the leaving tenant has no row left and the staying
/// one has all of its rows.
async fn check(admin: &PgConnectOptions) -> Result<(), BenchError> {
    let mut connection = PgConnection::connect_with(admin)
        .await
        .step("connect to check the result")?;
    for (table, rows) in TABLES {
        let counts: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT tenant_id, count(*) FROM {table} GROUP BY tenant_id ORDER BY tenant_id"
        )))
        .fetch_all(&mut connection)
        .await
        .step("count the rows left")?;
        if counts != [(STAYING, rows / 10)] {
            return Err(BenchError::message(format!(
                "{table}: rows per tenant after the erasure are {counts:?}, expected only \
                 tenant {STAYING}'s {}",
                rows / 10
            )));
        }
    }
    let _ = connection.close().await;
    Ok(())
}

fn samples(runs: &[Run], value: impl Fn(&Run) -> Duration) -> Vec<Samples> {
    [LIBRARY, HAND_WRITTEN]
        .into_iter()
        .map(|contender| Samples {
            name: contender.to_owned(),
            iterations: 1,
            nanos_per_iteration: runs
                .iter()
                .filter(|run| run.contender == contender)
                .map(|run| value(run).as_nanos() as f64)
                .collect(),
            cpu_nanos_per_iteration: None,
        })
        .collect()
}

fn sections(runs: &[Run]) -> Result<Vec<Section>, BenchError> {
    let walls = samples(runs, |run| run.wall);
    let mut wall = Section::new(
        "1,000,000 rows across 6 tables: wall time",
        Unit::Seconds,
        &walls,
    );
    wall.ratio(&walls, LIBRARY, HAND_WRITTEN, Some(GOAL))?;
    let erasures: Vec<&Erasure> = runs.iter().filter_map(|run| run.erasure.as_ref()).collect();
    if let Some(first) = erasures.first() {
        let rows: i64 = first
            .certificate
            .content
            .tables
            .iter()
            .map(|table| table.rows)
            .sum();
        wall.notes.push(format!(
            "Each library run deleted {rows} rows in {} batch transactions (the certificate's \
             count), verified that none was left and stored the certificate.",
            first.batches
        ));
    }
    let locks = samples(runs, |run| run.longest_transaction);
    let mut lock = Section::new(
        "1,000,000 rows across 6 tables: longest transaction (row locks held)",
        Unit::Milliseconds,
        &locks,
    );
    lock.ratio(&locks, LIBRARY, HAND_WRITTEN, None)?;
    let mut reported: Vec<f64> = erasures
        .iter()
        .map(|erasure| erasure.longest_batch.as_secs_f64() * 1000.0)
        .collect();
    reported.sort_by(f64::total_cmp);
    if let Some(median) = reported.get(reported.len() / 2) {
        lock.notes.push(format!(
            "The library's own account of its longest batch (`Erasure::longest_batch`, `BEGIN` \
             to the end of `COMMIT`): {median:.0} ms (median of the runs); the batch time it \
             keeps batches under is 200 ms."
        ));
    }
    Ok(vec![wall, lock])
}
