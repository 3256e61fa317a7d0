//! `tenancy isolate-tenant` on a real Citus cluster: the tenant's shards
//! become its own, then move to the other worker, and its rows stay
//! readable; a server without Citus and a bad worker address are refused.

// The structs describe tables; no test builds a value of them.
#![allow(dead_code, missing_docs)]

mod support;

use support::{TestResult, tenancy};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, CitusTestDatabase, TestDatabase};
use tenancy_sqlx::{CrossTenant, OwnerPool, tenant_scoped};

#[tenant_scoped(table = "notes")]
pub struct Note {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    pub body: String,
}

#[tokio::test]
async fn isolate_tenant_gives_a_tenant_its_own_shard_and_moves_it() -> TestResult {
    let db = CitusTestDatabase::create().await?;
    let owner = OwnerPool::from_pool(
        db.coordinator().owner_pool().await?,
        CrossTenant::with_reason("test set-up")?,
    );
    owner
        .apply_schema(
            &TableSet::new().with::<Note>(),
            &RlsPolicy::for_role(APP_ROLE)?,
        )
        .await?;
    let admin = db.coordinator().admin_pool().await?;
    sqlx::query(
        "INSERT INTO notes (tenant_id, body) SELECT t % 5, 'n' FROM generate_series(1, 50) t",
    )
    .execute(&admin)
    .await?;
    let url = db.coordinator().admin_url();
    let isolated = tenancy(&[
        "isolate-tenant",
        "--database-url",
        &url,
        "--table",
        "notes",
        "--tenant",
        "3",
    ])?;
    assert_eq!(isolated.code, Some(0), "{isolated}");
    assert!(
        isolated.stdout.contains("(shared with other tenants)"),
        "{isolated}"
    );
    assert!(isolated.stdout.contains("isolated: shard"), "{isolated}");
    assert!(isolated.stdout.contains("(this tenant only)"), "{isolated}");

    let (current, ports): (i32, Vec<i32>) = sqlx::query_as(
        "SELECT (SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
                 WHERE p.shardid = get_shard_id_for_distribution_column('notes', 3)),
                ARRAY(SELECT nodeport FROM pg_dist_node WHERE groupid <> 0 ORDER BY 1)",
    )
    .fetch_one(&admin)
    .await?;
    let other = ports
        .into_iter()
        .find(|port| *port != current)
        .ok_or("one worker")?;
    let target = format!("127.0.0.1:{other}");
    let moved = tenancy(&[
        "isolate-tenant",
        "--database-url",
        &url,
        "--table",
        "public.notes",
        "--tenant",
        "3",
        "--to-worker",
        &target,
    ])?;
    assert_eq!(moved.code, Some(0), "{moved}");
    assert!(moved.stdout.contains("moved:    shard"), "{moved}");
    assert!(
        moved
            .stdout
            .contains(&format!("on {target} (this tenant only)")),
        "{moved}"
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM notes WHERE tenant_id = 3")
        .fetch_one(&admin)
        .await?;
    assert_eq!(rows, 10);

    let bad = tenancy(&[
        "isolate-tenant",
        "--database-url",
        &url,
        "--table",
        "notes",
        "--tenant",
        "3",
        "--to-worker",
        "nowhere",
    ])?;
    assert_eq!(bad.code, Some(2), "{bad}");
    assert!(bad.stderr.contains("is not HOST:PORT"), "{bad}");
    Ok(())
}

#[tokio::test]
async fn isolate_tenant_refuses_a_server_without_citus() -> TestResult {
    let db = TestDatabase::create().await?;
    let refused = tenancy(&[
        "isolate-tenant",
        "--database-url",
        &db.admin_url(),
        "--table",
        "notes",
        "--tenant",
        "3",
    ])?;
    assert_eq!(refused.code, Some(2), "{refused}");
    assert!(
        refused.stderr.contains("not a Citus coordinator"),
        "{refused}"
    );
    Ok(())
}
