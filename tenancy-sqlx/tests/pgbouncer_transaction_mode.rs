//! Behind a real PgBouncer in transaction mode, where consecutive
//! transactions of one client run on different server connections and a
//! session-level `SET` of one client is seen by another.
//!
//! Most tests give PgBouncer a single server connection, so that every
//! client shares it: what one client leaves on the session, the next one
//! finds, deterministically.

use std::time::Duration;

use sqlx::{Connection, PgConnection};
use tenancy_sqlx::directory::{Placement, TableDirectory, TenantDirectory, TenantEntry};
use tenancy_sqlx::testing::{APP_ROLE, PgBouncer, TestDatabase};
use tenancy_sqlx::{Error, Identifier, KeyValue, TenantPool, TenantPoolOptions, TenantStatus};
use tenancy_test::TestResult;
use tenancy_test::models::visible_tenants;
use tenancy_test::shop::tables::Order;
use tenancy_test::shop::{A, B, ORDERS_PER_TENANT, order, pool_options, shop, tenant};

async fn bounced(server_connections: u32) -> TestResult<(TestDatabase, PgBouncer)> {
    let db = shop(&[A, B]).await?;
    let bouncer = PgBouncer::start(&db, server_connections).await?;
    Ok((db, bouncer))
}

fn behind_pooler() -> TenantPoolOptions {
    pool_options().behind_transaction_pooler()
}

async fn pool(
    bouncer: &PgBouncer,
    options: TenantPoolOptions,
    size: u32,
) -> Result<TenantPool, Error> {
    TenantPool::connect_with(
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(Duration::from_secs(20)),
        bouncer.app_url().parse()?,
        options,
    )
    .await
}

/// The reading of the tenant setting and of the rows another client sees
/// outside any transaction, with simple queries only (which PgBouncer
/// runs on one server connection each).
async fn what_another_client_sees(bouncer: &PgBouncer) -> TestResult<(String, i64, String)> {
    let mut other = PgConnection::connect(&bouncer.app_url()).await?;
    let row: (Option<String>, i64, String) = sqlx::query_as(
        "SELECT current_setting('app.tenant_id', true), (SELECT count(*) FROM orders),
                current_setting('statement_timeout')",
    )
    .persistent(false)
    .fetch_one(&mut other)
    .await?;
    other.close().await?;
    Ok((row.0.unwrap_or_default(), row.1, row.2))
}

/// A raw session-level `SET app.tenant_id` by one client reaches another
/// client through the pooler, which then reads that tenant's rows: the
/// leak the library's transaction-local setting prevents. The library's
/// transactions, on the same server connection, see only their own tenant.
#[tokio::test]
async fn a_session_set_by_one_client_reaches_another_but_not_a_tenant_transaction() -> TestResult {
    let (_db, bouncer) = bounced(1).await?;
    // Made first: a pool refuses sessions that start with a tenant set.
    let library = pool(&bouncer, behind_pooler(), 2).await?;
    assert_eq!(what_another_client_sees(&bouncer).await?.1, 0);

    let mut careless = PgConnection::connect(&bouncer.app_url()).await?;
    sqlx::raw_sql("SET app.tenant_id = '1'")
        .execute(&mut careless)
        .await?;
    let (setting, orders, _) = what_another_client_sees(&bouncer).await?;
    assert_eq!(
        (setting.as_str(), orders),
        ("1", ORDERS_PER_TENANT),
        "another client of the pooler inherits the session's tenant and reads its rows"
    );

    for _ in 0..5 {
        let mut tx = library.begin(&tenant(B)).await?;
        let (built, raw) = visible_tenants(&mut tx).await?;
        let expected = vec![B; ORDERS_PER_TENANT as usize];
        assert_eq!((built, raw), (expected.clone(), expected));
        tx.commit().await?;
    }
    careless.close().await?;
    Ok(())
}

/// What raw SQL sets at session level inside a tenant transaction is reset
/// inside the transaction, so on the server connection it ran on: the next
/// client finds nothing. The same statements in a plain sqlx transaction
/// do reach the next client, so the test can fail.
#[tokio::test]
async fn the_clean_up_after_raw_sql_reaches_the_server_connection_it_ran_on() -> TestResult {
    let (_db, bouncer) = bounced(1).await?;
    let library = pool(&bouncer, behind_pooler(), 1).await?;
    let default = what_another_client_sees(&bouncer).await?;
    let leave_behind = "SET app.tenant_id = '1'; SET statement_timeout = '4321s'";

    let mut tx = library.begin(&tenant(A)).await?;
    sqlx::raw_sql(leave_behind)
        .execute(tx.raw_connection())
        .await?;
    tx.commit().await?;
    assert_eq!(what_another_client_sees(&bouncer).await?, default);

    let mut plain = PgConnection::connect(&bouncer.app_url()).await?;
    let mut plain_tx = plain.begin().await?;
    sqlx::raw_sql(leave_behind).execute(&mut *plain_tx).await?;
    plain_tx.commit().await?;
    let (setting, _, timeout) = what_another_client_sees(&bouncer).await?;
    assert_eq!((setting.as_str(), timeout.as_str()), ("1", "4321s"));
    Ok(())
}

/// Pools that keep sqlx's named prepared statements clash on the shared
/// server connection: each client numbers its statements from
/// `sqlx_s_1`. The error says why and what to do, instead of `prepared
/// statement "sqlx_s_2" already exists`.
#[tokio::test]
async fn named_prepared_statements_clash_with_a_clear_error() -> TestResult {
    let (_db, bouncer) = bounced(1).await?;
    let first = pool(&bouncer, pool_options(), 1).await?;
    // The second pool's own connection check may clash already (sqlx then
    // retries it on a fresh server connection); its first statement does.
    let clash = match pool(&bouncer, pool_options(), 1).await {
        Err(error) => error,
        Ok(second) => {
            let mut tx = first.begin(&tenant(A)).await?;
            tx.fetch_all::<Order>(Order::select(&tenant(A))).await?;
            tx.commit().await?;
            let mut tx = second.begin(&tenant(B)).await?;
            let built = tx.fetch_all::<Order>(Order::select(&tenant(B))).await;
            built
                .err()
                .ok_or("the second pool's named statements did not clash")?
        }
    };
    assert!(
        matches!(clash, Error::PreparedStatementBehindPooler { .. }),
        "{clash}"
    );
    assert!(
        clash.to_string().contains("behind_transaction_pooler"),
        "{clash}"
    );
    Ok(())
}

/// Many clients, few server connections, tenants interleaved: every
/// transaction reads and writes its own tenant's rows only, and no
/// prepared statement goes missing.
#[tokio::test]
async fn tenant_transactions_never_see_another_tenant_behind_the_pooler() -> TestResult {
    let (db, bouncer) = bounced(2).await?;
    let mut tasks = Vec::new();
    for client in 0..3 {
        let pool = pool(&bouncer, behind_pooler(), 4).await?;
        for round in 0..20_i64 {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                let key = if (client + round) % 2 == 0 { A } else { B };
                let tenant = tenant(key);
                let mut tx = pool.begin(&tenant).await?;
                tx.execute(order(&tenant, 1, "bounced")).await?;
                let (built, raw) = visible_tenants(&mut tx).await?;
                tx.commit().await?;
                Ok::<_, tenancy_test::BoxError>((key, built, raw))
            }));
        }
    }
    for task in tasks {
        let (key, built, raw) = task.await??;
        assert!(
            built.iter().chain(&raw).all(|seen| *seen == key),
            "{key}: {built:?} {raw:?}"
        );
        // Each read sees at least the seed and this transaction's order
        // (the two reads may see different numbers of concurrent commits).
        assert!(built.len() > ORDERS_PER_TENANT as usize && !raw.is_empty());
    }
    let written: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT tenant_id, count(*) FROM orders WHERE status = 'bounced'
         GROUP BY tenant_id ORDER BY tenant_id",
    )
    .fetch_all(&db.admin_pool().await?)
    .await?;
    assert_eq!(written, [(A, 30), (B, 30)]);
    Ok(())
}

/// Read transactions behind the pooler, from a pool that does not ping:
/// each read's queued `ROLLBACK` reaches the server connection the read ran
/// on (PgBouncer hands that server connection to no one else until the
/// transaction ends), every read sees its own tenant only, and once they
/// are done another client of the one server connection finds no tenant.
#[tokio::test]
async fn reads_end_on_their_own_server_connection_behind_the_pooler() -> TestResult {
    let (_db, bouncer) = bounced(1).await?;
    let pool = TenantPool::connect_with(
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(3)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(20)),
        bouncer.app_url().parse()?,
        behind_pooler(),
    )
    .await?;
    let mut tasks = Vec::new();
    for round in 0..30_i64 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let key = if round % 2 == 0 { A } else { B };
            let tenant = tenant(key);
            let mut read = pool.read(&tenant).await?;
            let mut seen: Vec<i64> = read
                .fetch_all::<Order>(Order::select(&tenant))
                .await?
                .into_iter()
                .map(|order| order.tenant_id)
                .collect();
            if round % 5 == 0 {
                // Raw SQL without a predicate: only the tenant setting
                // of this server connection's transaction confines it.
                let raw: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM orders")
                    .persistent(false)
                    .fetch_all(read.raw_connection())
                    .await?;
                seen.extend(raw);
            }
            read.end();
            Ok::<_, tenancy_test::BoxError>((key, seen))
        }));
    }
    for task in tasks {
        let (key, seen) = task.await??;
        assert!(
            seen.len() >= ORDERS_PER_TENANT as usize && seen.iter().all(|seen| *seen == key),
            "{key}: {seen:?}"
        );
    }
    // A read left open would hold the one server connection: this client
    // would wait for it.
    let outside = tokio::time::timeout(Duration::from_secs(10), what_another_client_sees(&bouncer))
        .await
        .map_err(|_| "the server connection is still inside a read's transaction")??;
    assert_eq!((outside.0.as_str(), outside.1), ("", 0), "{outside:?}");
    Ok(())
}

/// The provided directory behind the pooler: two clients that each list,
/// look up and change entries over one shared server connection. A
/// statement prepared outside a transaction would be prepared by the first
/// client on that connection and clash with the second client's statement
/// of the same name (`prepared statement "sqlx_s_1" already exists`), or,
/// with more server connections, be missing on the one that executes it.
#[tokio::test]
async fn the_table_directory_reads_and_writes_behind_the_pooler() -> TestResult {
    let (db, bouncer) = bounced(1).await?;
    let owner = db.owner_pool().await?;
    for statement in TableDirectory::create_statements(&Identifier::new("role", APP_ROLE)?) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&owner)
            .await?;
    }
    let through_pooler = |url: String| async move {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
    };
    // The owner writes through the pooler too: `put` and `set_status`.
    let writer = TableDirectory::new(through_pooler(bouncer.owner_url()).await?);
    let schema = Identifier::new("schema", "tenant_2")?;
    writer
        .put(KeyValue::I64(A), &TenantEntry::active(Placement::Shared))
        .await?;
    writer
        .put(
            KeyValue::I64(B),
            &TenantEntry::active(Placement::Schema(schema.clone())),
        )
        .await?;
    writer
        .set_status(KeyValue::I64(B), TenantStatus::Suspended)
        .await?;
    assert!(matches!(
        writer
            .set_status(KeyValue::I64(99), TenantStatus::Active)
            .await,
        Err(Error::TenantNotFound { .. })
    ));

    let expected = vec![
        (A.to_string(), TenantEntry::active(Placement::Shared)),
        (
            B.to_string(),
            TenantEntry {
                placement: Placement::Schema(schema),
                status: TenantStatus::Suspended,
            },
        ),
    ];
    let first = TableDirectory::new(through_pooler(bouncer.app_url()).await?);
    let second = TableDirectory::new(through_pooler(bouncer.app_url()).await?);
    for round in 0..3 {
        for (client, directory) in [("first", &first), ("second", &second), ("owner", &writer)] {
            let listed = directory
                .list()
                .await
                .map_err(|error| format!("round {round}, {client} client: {error}"))?;
            assert_eq!(listed, expected, "round {round}, {client} client");
            let entry = directory.entry(KeyValue::I64(B)).await?;
            assert_eq!(entry.as_ref(), Some(&expected[1].1));
        }
    }
    Ok(())
}

/// The owner pool's statements behind the pooler: two owner pools share
/// one server connection (each numbers its named statements from
/// `sqlx_s_1`), and one owner pool's statements run on either of two
/// server connections, interleaved with a tenant pool's transactions.
/// Every statement (cross-tenant, global, and the audit's catalog
/// queries) runs and reads what it should; none clashes with another
/// client's prepared statement or misses its own.
#[tokio::test]
async fn owner_pool_statements_run_behind_the_pooler() -> TestResult {
    use tenancy_sqlx::{CrossTenant, OwnerPool, Select};
    use tenancy_test::shop::tables::{Customer, Plan, table_set};

    let owner = |bouncer: &PgBouncer| {
        let url = bouncer.owner_url();
        async move {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(20))
                .connect(&url)
                .await?;
            TestResult::Ok(
                OwnerPool::from_pool(pool, CrossTenant::with_reason("test: behind the pooler")?)
                    .with_tables(&table_set()),
            )
        }
    };
    let capability = CrossTenant::with_reason("test: customers across tenants")?;
    let across = || Select::<Customer>::across_tenants(&capability);
    let free = || Plan::select().filter(Plan::ID.eq(1));

    let (_db, shared) = bounced(1).await?;
    let (first, second) = (owner(&shared).await?, owner(&shared).await?);
    for round in 0..3 {
        for owner in [&first, &second] {
            let plans: Vec<Plan> = owner.fetch_all(free()).await?;
            assert_eq!(plans.len(), 1, "round {round}: {plans:?}");
            let plan: Option<Plan> = owner.fetch_optional(free()).await?;
            assert!(plan.is_some(), "round {round}");
            // The owner sets no tenant: the forced policy shows it no rows.
            let customers: Vec<Customer> = owner.fetch_all(across()).await?;
            assert!(customers.is_empty(), "round {round}: {customers:?}");
            let renamed = owner
                .execute(
                    Plan::update()
                        .set(Plan::NAME, format!("free {round}"))
                        .filter(Plan::ID.eq(1)),
                )
                .await?;
            assert_eq!(renamed, 1, "round {round}");
            // The catalog queries of the audit, in a transaction of their
            // own, leave no named statement behind.
            let findings = owner.verify(&table_set()).await?;
            assert!(findings.is_empty(), "round {round}: {findings:#?}");
        }
    }

    let (_db, spread) = bounced(2).await?;
    let owner = owner(&spread).await?;
    let library = pool(&spread, behind_pooler(), 2).await?;
    for round in 0..6 {
        // A tenant transaction holds one server connection while the owner
        // pool's statement runs on the other.
        let mut tx = library.begin(&tenant(A)).await?;
        let orders: Vec<Order> = tx.fetch_all(Order::select(&tenant(A))).await?;
        assert_eq!(orders.len() as i64, ORDERS_PER_TENANT, "round {round}");
        let plans: Vec<Plan> = owner.fetch_all(free()).await?;
        assert_eq!(plans.len(), 1, "round {round}");
        tx.commit().await?;
        let plans: Vec<Plan> = owner.fetch_all(free()).await?;
        assert_eq!(plans.len(), 1, "round {round}");
    }
    Ok(())
}
