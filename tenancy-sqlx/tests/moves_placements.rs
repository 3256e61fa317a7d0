//! Moving a tenant between placements: every row arrives, verified; the
//! source is emptied; other tenants are untouched; writes acknowledged
//! during the move are kept; a move killed mid-way resumes.

use std::time::Duration;

use sqlx::{AssertSqlSafe, PgPool};
use tenancy_sqlx::directory::{DatabaseUrl, Placement, TenantDirectory, TenantEntry, TenantStatus};
use tenancy_sqlx::moves::{MoveOptions, Place, TenantMover};
use tenancy_sqlx::testing::TestDatabase;
use tenancy_sqlx::{Error, Identifier, KeyValue, RouterOptions, TenantRouter};
use tenancy_test::TestResult;
use tenancy_test::models::{Models, add_tenant_schema, visible_tenants};
use tenancy_test::shop::tables::{Order, table_set};
use tenancy_test::shop::{A, ORDERS_PER_TENANT, order, rows_outside, shop, tenant};

const NEW_SCHEMA: &str = "tenant_1";

fn quick() -> RouterOptions {
    RouterOptions::new().placement_ttl(Duration::from_millis(100))
}

fn mover(m: &Models) -> TestResult<TenantMover> {
    Ok(TenantMover::new(
        m.directory.clone(),
        &table_set(),
        MoveOptions::new().settle(Duration::from_millis(150)),
    )?)
}

/// The three places tenant A can live in: the shared tables, schema
/// `tenant_1` of the main database, and a database of its own.
async fn places(m: &Models, own: &TestDatabase) -> TestResult<[Place; 3]> {
    add_tenant_schema(&m.main, NEW_SCHEMA).await?;
    let (app, owner) = (m.main.app_pool().await?, m.main.owner_pool().await?);
    Ok([
        Place::new(Placement::Shared, app.clone(), owner.clone()),
        Place::new(
            Placement::Schema(Identifier::new("schema", NEW_SCHEMA)?),
            app,
            owner,
        ),
        Place::new(
            Placement::Database(DatabaseUrl::new(own.app_url())?),
            own.app_pool().await?,
            own.owner_pool().await?,
        ),
    ])
}

/// A's orders as its transaction sees them, through the router.
async fn orders_of_a(
    router: &TenantRouter<tenancy_sqlx::directory::TableDirectory>,
) -> TestResult<Vec<Order>> {
    let mut tx = router.begin(&tenant(A)).await?;
    let mut orders: Vec<Order> = tx.fetch_all(Order::select(&tenant(A))).await?;
    tx.commit().await?;
    orders.sort_by_key(|order| order.id);
    Ok(orders)
}

async fn count(pool: &PgPool, table: &str, key: i64) -> TestResult<i64> {
    Ok(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM {table} WHERE tenant_id = $1"
    )))
    .bind(key)
    .fetch_one(pool)
    .await?)
}

/// Shared → schema → database → shared: after each move the router finds
/// the tenant at its new place with exactly its rows (same checksums), the
/// place it left holds none of them, and no other tenant's row changed.
#[tokio::test]
async fn a_tenant_moves_through_every_placement_and_back() -> TestResult {
    let m = Models::new(quick()).await?;
    let own = shop(&[]).await?;
    let [shared, schema, database] = places(&m, &own).await?;
    let mover = mover(&m)?;
    let before = orders_of_a(&m.router).await?;
    let others_before = rows_outside(&m.admin, A).await?;
    let own_admin = own.admin_pool().await?;

    let mut checksums = Vec::new();
    for (from, to, left) in [
        (&shared, &schema, "public.orders"),
        (&schema, &database, "tenant_1.orders"),
        (&database, &shared, "public.orders"),
    ] {
        let report = mover.move_tenant(KeyValue::I64(A), from, to).await?;
        assert_eq!(report.resumed, None);
        checksums.push(report.tables);
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(orders_of_a(&m.router).await?, before);
        let admin = match from.placement() {
            Placement::Database(_) => &own_admin,
            _ => &m.admin,
        };
        assert_eq!(count(admin, left, A).await?, 0, "{left} after leaving it");
        assert_eq!(
            m.directory.entry(KeyValue::I64(A)).await?,
            Some(TenantEntry::active(to.placement().clone()))
        );
    }
    assert!(checksums.windows(2).all(|pair| pair[0] == pair[1]));
    let tables: Vec<&str> = checksums[0]
        .iter()
        .map(|(table, ..)| table.as_str())
        .collect();
    assert_eq!(tables, ["customers", "orders", "order_items"]);
    assert_eq!(checksums[0][1].1, ORDERS_PER_TENANT);
    assert_eq!(rows_outside(&m.admin, A).await?, others_before);
    Ok(())
}

/// While the tenant moves, a writer keeps inserting through the router,
/// retrying while the tenant is refused: every insert it was told was
/// committed is at the new place, and the seed too.
#[tokio::test]
async fn no_acknowledged_write_is_lost_in_a_move() -> TestResult {
    let m = Models::new(quick()).await?;
    let own = shop(&[]).await?;
    let [shared, schema, _] = places(&m, &own).await?;
    let mover = mover(&m)?;
    let router = m.router.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = std::sync::Arc::clone(&stop);
        tokio::spawn(async move {
            let (mut acknowledged, mut refused) = (0_i64, 0_i64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let tx = router.begin(&tenant(A)).await;
                let mut tx = match tx {
                    Err(Error::TenantUnavailable {
                        status: TenantStatus::Moving,
                        ..
                    }) => {
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    other => other?,
                };
                tx.execute(order(&tenant(A), 1, "during-move")).await?;
                tx.commit().await?;
                acknowledged += 1;
            }
            Ok::<_, tenancy_test::BoxError>((acknowledged, refused))
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    mover
        .move_tenant(KeyValue::I64(A), &shared, &schema)
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (acknowledged, refused) = writer.await??;
    assert!(refused > 0, "the writer was never refused during the move");
    let landed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tenant_1.orders WHERE tenant_id = $1 AND status = 'during-move'",
    )
    .bind(A)
    .fetch_one(&m.admin)
    .await?;
    assert_eq!(landed, acknowledged);
    assert_eq!(count(&m.admin, "public.orders", A).await?, 0);
    let mut tx = m.router.begin(&tenant(A)).await?;
    let (built, _) = visible_tenants(&mut tx).await?;
    tx.rollback().await?;
    assert_eq!(built.len() as i64, ORDERS_PER_TENANT + acknowledged);
    Ok(())
}

/// A writer that holds the tenant's tables longer than the move's lock
/// timeout fails the move cleanly: the tenant is active where it was, the
/// target holds nothing of it, and the writer's transaction commits.
#[tokio::test]
async fn a_move_that_cannot_lock_in_time_fails_cleanly() -> TestResult {
    let m = Models::new(quick()).await?;
    let own = shop(&[]).await?;
    let [shared, schema, _] = places(&m, &own).await?;
    let mut writer = m.router.begin(&tenant(A)).await?;
    writer.execute(order(&tenant(A), 1, "slow-writer")).await?;
    let mover = TenantMover::new(
        m.directory.clone(),
        &table_set(),
        MoveOptions::new()
            .settle(Duration::from_millis(150))
            .lock_timeout(Duration::from_millis(200)),
    )?;
    let failed = mover
        .move_tenant(KeyValue::I64(A), &shared, &schema)
        .await
        .unwrap_err();
    assert!(
        tenancy_test::sql::sqlstate(match &failed {
            Error::Database(error) => error,
            other => return Err(format!("not a lock timeout: {other}").into()),
        })
        .as_deref()
            == Some("55P03"),
        "{failed}"
    );
    writer.commit().await?;
    assert_eq!(
        m.directory.entry(KeyValue::I64(A)).await?,
        Some(TenantEntry::active(Placement::Shared))
    );
    assert_eq!(count(&m.admin, "tenant_1.orders", A).await?, 0);
    assert_eq!(
        count(&m.admin, "public.orders", A).await?,
        ORDERS_PER_TENANT + 1
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    m.router.begin(&tenant(A)).await?.commit().await?;
    Ok(())
}

/// A move is refused unless the directory places the tenant at the source.
#[tokio::test]
async fn a_move_from_the_wrong_place_is_refused() -> TestResult {
    let m = Models::new(quick()).await?;
    let own = shop(&[]).await?;
    let [_, schema, database] = places(&m, &own).await?;
    let refused = mover(&m)?
        .move_tenant(KeyValue::I64(A), &schema, &database)
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::MoveRefused { .. }), "{refused}");
    assert_eq!(
        m.directory.entry(KeyValue::I64(A)).await?,
        Some(TenantEntry::active(Placement::Shared))
    );
    Ok(())
}

/// The environment variables that make this test binary the moving child.
const CHILD_MAIN_APP: &str = "TENANCY_MOVE_CHILD_APP_URL";
const CHILD_MAIN_OWNER: &str = "TENANCY_MOVE_CHILD_OWNER_URL";

/// A move killed with SIGKILL after its copy (the parent holds the
/// directory row, so the switch waits) leaves the tenant refused, not half
/// moved; running the move again resumes it from the journal and completes
/// it with every row. The test binary itself is the child: run with the
/// variables above set, this test performs the move instead.
#[tokio::test]
async fn a_move_killed_mid_way_resumes() -> TestResult {
    if let (Ok(app), Ok(owner)) = (
        std::env::var(CHILD_MAIN_APP),
        std::env::var(CHILD_MAIN_OWNER),
    ) {
        return move_as_child(&app, &owner).await;
    }
    let m = Models::new(quick()).await?;
    let own = shop(&[]).await?;
    let [shared, schema, _] = places(&m, &own).await?;
    let before = orders_of_a(&m.router).await?;

    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args(["--exact", "a_move_killed_mid_way_resumes", "--nocapture"])
        .env(CHILD_MAIN_APP, m.main.app_url())
        .env(CHILD_MAIN_OWNER, m.main.owner_url())
        .stdout(std::process::Stdio::null())
        .spawn()?;
    // Once the child has marked the tenant moving it waits a second before
    // copying: then the parent holds the directory row, so that the
    // child's switch waits after the copy.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while m
        .directory
        .entry(KeyValue::I64(A))
        .await?
        .map(|entry| entry.status)
        != Some(TenantStatus::Moving)
    {
        if std::time::Instant::now() > deadline || child.try_wait()?.is_some() {
            let _ = child.kill();
            return Err("the child never marked the tenant moving".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut hold = m.admin.begin().await?;
    sqlx::query("SELECT 1 FROM tenancy_tenants WHERE tenant_key = '1' FOR UPDATE")
        .execute(&mut *hold)
        .await?;
    loop {
        let phase: Option<String> =
            sqlx::query_scalar("SELECT phase FROM tenancy_moves WHERE tenant_key = '1'")
                .fetch_optional(&m.admin)
                .await?;
        if phase.as_deref() == Some("copied") {
            break;
        }
        if std::time::Instant::now() > deadline || child.try_wait()?.is_some() {
            let _ = child.kill();
            return Err(format!("the child never reached the copy (phase {phase:?})").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill()?; // SIGKILL
    child.wait()?;
    hold.rollback().await?;

    tokio::time::sleep(Duration::from_millis(120)).await;
    assert!(matches!(
        m.router.begin(&tenant(A)).await,
        Err(Error::TenantUnavailable {
            status: TenantStatus::Moving,
            ..
        })
    ));
    assert_eq!(
        count(&m.admin, "public.orders", A).await?,
        ORDERS_PER_TENANT
    );

    let report = mover(&m)?
        .move_tenant(KeyValue::I64(A), &shared, &schema)
        .await?;
    assert_eq!(report.resumed.as_deref(), Some("copied"));
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(orders_of_a(&m.router).await?, before);
    assert_eq!(count(&m.admin, "public.orders", A).await?, 0);
    assert_eq!(
        count(&m.admin, "tenant_1.orders", A).await?,
        ORDERS_PER_TENANT
    );
    Ok(())
}

/// The child's side: the same move, from the main database's URLs.
async fn move_as_child(app: &str, owner: &str) -> TestResult {
    let (app, owner) = (PgPool::connect(app).await?, PgPool::connect(owner).await?);
    let mover = TenantMover::new(
        tenancy_sqlx::directory::TableDirectory::new(owner.clone()),
        &table_set(),
        MoveOptions::new().settle(Duration::from_secs(1)),
    )?;
    let shared = Place::new(Placement::Shared, app.clone(), owner.clone());
    let schema = Place::new(
        Placement::Schema(Identifier::new("schema", NEW_SCHEMA)?),
        app,
        owner,
    );
    mover
        .move_tenant(KeyValue::I64(A), &shared, &schema)
        .await?;
    Ok(())
}
