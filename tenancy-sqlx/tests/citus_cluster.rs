//! The Citus test cluster itself: every node holds the test's database, the
//! coordinator knows both workers, and the test roles exist on every node.

use tenancy_sqlx::testing::{APP_ROLE, CITUS_WORKERS, CitusTestDatabase, OWNER_ROLE};

#[tokio::test]
async fn the_coordinator_knows_both_workers_and_every_node_has_the_roles()
-> Result<(), Box<dyn std::error::Error>> {
    let db = CitusTestDatabase::create().await?;
    let admin = db.coordinator().admin_pool().await?;
    let workers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND groupid <> 0",
    )
    .fetch_one(&admin)
    .await?;
    assert_eq!(workers, CITUS_WORKERS as i64);
    assert_eq!(db.workers().len(), CITUS_WORKERS);
    for worker in db.workers() {
        assert_eq!(worker.name(), db.coordinator().name());
        let pool = worker.admin_pool().await?;
        let citus: Option<String> =
            sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
                .fetch_optional(&pool)
                .await?;
        assert!(citus.is_some_and(|version| version.starts_with("13.")));
        let roles: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_roles WHERE rolname IN ($1, $2) AND NOT rolsuper AND NOT rolbypassrls")
                .bind(OWNER_ROLE)
                .bind(APP_ROLE)
                .fetch_one(&pool)
                .await?;
        assert_eq!(roles, 2);
        // The application role may log in to the worker's database.
        worker.app_pool().await?.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_distributed_table_spreads_its_shards_over_both_workers()
-> Result<(), Box<dyn std::error::Error>> {
    let db = CitusTestDatabase::create().await?;
    let owner = db.coordinator().owner_pool().await?;
    sqlx::raw_sql(
        "CREATE TABLE notes (tenant_id bigint NOT NULL, body text NOT NULL);
         SELECT create_distributed_table('notes', 'tenant_id');",
    )
    .execute(&owner)
    .await?;
    let mut seen = std::collections::BTreeSet::new();
    for tenant in 1..=20 {
        seen.insert(db.worker_of("notes", tenant).await?);
    }
    assert_eq!(seen.len(), CITUS_WORKERS);
    Ok(())
}
