//! A large tenant in its own partition, on PostgreSQL: tables turned into
//! tables LIST-partitioned by tenant keep their rows, keys and sequences;
//! a tenant's own partition takes its rows out of the default partition;
//! and every tenant stays confined, through the parent and through a
//! partition named directly, as the application role (not superuser, not
//! `BYPASSRLS`, not the owner) and as the owner. The audit checks every
//! partition.

mod sales;

use sales::tables::{Customer, Job, Sale};
use sales::{A, B, TestResult, tenant};
use sqlx::PgPool;
use tenancy_sqlx::audit::{self, FindingKind};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::partition::PartitionError;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{
    CrossTenant, Error, OwnerPool, Postgres, TenantId, TenantPool, TenantPoolOptions, tenant_scoped,
};

fn owner_of(pool: PgPool) -> OwnerPool<Postgres> {
    OwnerPool::from_pool(
        pool,
        CrossTenant::with_reason("partition a large tenant").expect("a reason"),
    )
}

fn policy() -> RlsPolicy {
    RlsPolicy::for_role(APP_ROLE).expect("a role name")
}

/// Customers and sales partitioned, tenant B in partitions of its own.
async fn partitioned()
-> Result<(TestDatabase, TenantPool<Postgres>, OwnerPool<Postgres>), sales::BoxError> {
    let (db, pool) = sales::postgres().await?;
    let owner = owner_of(db.owner_pool().await?);
    let tables = sales::tables::table_set();
    owner
        .partition_by_tenant::<Customer>(&tables, &policy())
        .await?;
    owner
        .partition_by_tenant::<Sale>(&tables, &policy())
        .await?;
    let moved = owner
        .add_tenant_partition::<Customer>(&tables, &policy(), &tenant(B))
        .await?;
    assert_eq!(moved, 3);
    let moved = owner
        .add_tenant_partition::<Sale>(&tables, &policy(), &tenant(B))
        .await?;
    assert_eq!(moved, sales::sales(B).len() as u64);
    Ok((db, pool, owner))
}

async fn scalar(pool: &PgPool, sql: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
}

async fn findings(
    db: &TestDatabase,
) -> Result<Vec<(Option<String>, FindingKind)>, sales::BoxError> {
    let tables = sales::tables::table_set();
    let manifest = Manifest::new(&tables, &policy())?;
    let mut connection = db.owner_pool().await?.acquire().await?;
    let mut found: Vec<_> = audit::verify(&mut connection, &manifest, None)
        .await?
        .into_iter()
        .map(|finding| (finding.table, finding.kind))
        .collect();
    found.sort_by_key(|(table, kind)| (table.clone(), format!("{kind:?}")));
    Ok(found)
}

#[tokio::test]
async fn partitioned_tables_keep_their_rows_and_confine_every_tenant() -> TestResult {
    let (db, pool) = sales::postgres().await?;
    let mut before = Vec::new();
    for key in [A, B] {
        let tenant = tenant(key);
        let mut tx = pool.begin(&tenant).await?;
        before.push(
            tx.fetch_all::<Sale>(Sale::select(&tenant).order_by_asc(Sale::ID))
                .await?,
        );
        tx.commit().await?;
    }
    assert_eq!(findings(&db).await?, []);
    drop((db, pool));

    let (db, pool, _owner) = partitioned().await?;
    for (key, rows) in [A, B].into_iter().zip(before) {
        let tenant = tenant(key);
        let mut tx = pool.begin(&tenant).await?;
        let after = tx
            .fetch_all::<Sale>(Sale::select(&tenant).order_by_asc(Sale::ID))
            .await?;
        // Raw SQL through the parent and through B's partition, as A.
        let tenants: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT tenant_id FROM sales")
            .fetch_all(tx.raw_connection())
            .await?;
        let in_b_partition: i64 = sqlx::query_scalar("SELECT count(*) FROM sales_tenant_2")
            .fetch_one(tx.raw_connection())
            .await?;
        tx.commit().await?;
        assert_eq!(after, rows, "tenant {key}'s rows are kept");
        assert_eq!(tenants, [key]);
        let expected = if key == B { rows.len() as i64 } else { 0 };
        assert_eq!(in_b_partition, expected, "tenant {key} in B's partition");
    }

    // Where the rows are, as the superuser sees them.
    let admin = db.admin_pool().await?;
    assert_eq!(
        scalar(
            &admin,
            "SELECT count(*) FROM ONLY sales_default WHERE tenant_id = 2"
        )
        .await?,
        0
    );
    assert_eq!(
        scalar(&admin, "SELECT count(*) FROM ONLY sales_tenant_2").await?,
        sales::sales(B).len() as i64
    );
    let partitions: Vec<String> = sqlx::query_scalar(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'sales'::regclass ORDER BY 1",
    )
    .fetch_all(&admin)
    .await?;
    assert_eq!(partitions, ["sales_default", "sales_tenant_2"]);

    // No tenant set: nothing, through the parent or a partition.
    let app = db.app_pool().await?;
    for table in [
        "sales",
        "sales_default",
        "sales_tenant_2",
        "customers_tenant_2",
    ] {
        assert_eq!(
            scalar(&app, &format!("SELECT count(*) FROM {table}")).await?,
            0,
            "{table}"
        );
    }
    // The owner, naming a partition: forced row-level security, no policy
    // for it, so nothing either.
    let owner = db.owner_pool().await?;
    for table in ["sales", "sales_default", "sales_tenant_2"] {
        assert_eq!(
            scalar(&owner, &format!("SELECT count(*) FROM {table}")).await?,
            0,
            "owner {table}"
        );
    }

    // A cannot write into B's partition, neither as B nor as itself.
    let a = tenant(A);
    for values in ["(2, 99, 1, 'open', 1)", "(1, 99, 1, 'open', 1)"] {
        let mut tx = pool.begin(&a).await?;
        let written = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO sales_tenant_2 (tenant_id, id, customer_id, status, amount) VALUES {values}"
        )))
        .execute(tx.raw_connection())
        .await;
        assert!(written.is_err(), "{values}: {written:?}");
        tx.rollback().await?;
    }

    // B's new rows go to B's partition, and the foreign key to customers
    // (re-created on the partitioned tables) still holds.
    let b = tenant(B);
    let mut tx = pool.begin(&b).await?;
    tx.execute(
        Sale::insert(&b)
            .set(Sale::ID, 100)
            .set(Sale::CUSTOMER_ID, 1)
            .set(Sale::STATUS, "open")
            .set(Sale::AMOUNT, 2999)
            .set(Sale::DISCOUNT, None::<i64>)
            .set(Sale::NOTE, None::<String>),
    )
    .await?;
    tx.commit().await?;
    assert_eq!(
        scalar(
            &admin,
            "SELECT count(*) FROM ONLY sales_tenant_2 WHERE id = 100"
        )
        .await?,
        1
    );
    let mut tx = pool.begin(&b).await?;
    let orphan = tx
        .execute(
            Sale::insert(&b)
                .set(Sale::ID, 101)
                .set(Sale::CUSTOMER_ID, 99)
                .set(Sale::STATUS, "open")
                .set(Sale::AMOUNT, 2999)
                .set(Sale::DISCOUNT, None::<i64>)
                .set(Sale::NOTE, None::<String>),
        )
        .await;
    assert!(orphan.is_err(), "{orphan:?}");
    tx.rollback().await?;

    // The partitioned tables are what the generated DDL and RLS DDL make.
    assert_eq!(findings(&db).await?, []);
    Ok(())
}

#[tokio::test]
async fn the_audit_checks_every_partition() -> TestResult {
    let (db, _pool, _owner) = partitioned().await?;
    let admin = db.admin_pool().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE sales_tenant_2 NO FORCE ROW LEVEL SECURITY;
         GRANT TRUNCATE ON sales_tenant_2 TO {APP_ROLE};
         DROP POLICY tenancy_isolation ON customers_tenant_2;
         ALTER TABLE sales_default OWNER TO {APP_ROLE};"
    )))
    .execute(&admin)
    .await?;
    let found = findings(&db).await?;
    let expected = [
        // The owner's policy is left, which does not apply to the
        // application role.
        (
            Some("customers_tenant_2".to_owned()),
            FindingKind::PolicyRoleMismatch,
        ),
        (
            Some("sales_default".to_owned()),
            FindingKind::PartitionOwner,
        ),
        // As its owner, the application role may truncate it.
        (
            Some("sales_default".to_owned()),
            FindingKind::TruncateAllowed,
        ),
        (Some("sales_tenant_2".to_owned()), FindingKind::RlsNotForced),
        (
            Some("sales_tenant_2".to_owned()),
            FindingKind::TruncateAllowed,
        ),
    ];
    for finding in &expected {
        assert!(
            found.contains(finding),
            "{finding:?} missing from {found:?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:?}");
    Ok(())
}

#[tokio::test]
async fn partitioning_refuses_what_it_cannot_do_and_changes_nothing() -> TestResult {
    let (db, _pool, owner) = partitioned().await?;
    let tables = sales::tables::table_set();
    let refusal = |result: Result<_, Error>| match result {
        Err(Error::Partition(error)) => Ok(error),
        other => Err(format!("not refused: {other:?}")),
    };
    assert!(matches!(
        refusal(
            owner
                .partition_by_tenant::<Sale>(&tables, &policy())
                .await
                .map(|()| 0_u64)
        )?,
        PartitionError::AlreadyPartitioned { .. }
    ));
    assert!(matches!(
        refusal(
            owner
                .add_tenant_partition::<Sale>(&tables, &policy(), &tenant(B))
                .await
        )?,
        PartitionError::PartitionExists { .. }
    ));
    assert!(matches!(
        refusal(
            owner
                .add_tenant_partition::<Job>(&tables, &policy(), &tenant(A))
                .await
        )?,
        PartitionError::NotPartitionedByTenant { .. }
    ));

    let admin = db.admin_pool().await?;
    sqlx::raw_sql("ALTER TABLE jobs ADD COLUMN note text")
        .execute(&admin)
        .await?;
    assert!(matches!(
        refusal(
            owner
                .partition_by_tenant::<Job>(&tables, &policy())
                .await
                .map(|()| 0_u64)
        )?,
        PartitionError::ColumnsDiffer { .. }
    ));
    let kind: String =
        sqlx::query_scalar("SELECT relkind::text FROM pg_class WHERE oid = 'jobs'::regclass")
            .fetch_one(&admin)
            .await?;
    assert_eq!(kind, "r", "the refused table is untouched");
    assert_eq!(scalar(&admin, "SELECT count(*) FROM jobs").await?, 8);
    Ok(())
}

/// A ticket numbered by the database.
#[tenant_scoped]
#[derive(Debug, sqlx::FromRow)]
pub struct Ticket {
    /// Its tenant.
    pub tenant_id: i64,
    /// Its number.
    #[tenancy(primary_key, generated)]
    pub id: i64,
    /// What it is about.
    pub title: String,
}

#[tokio::test]
async fn identity_columns_continue_after_partitioning() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = owner_of(db.owner_pool().await?);
    let tables = TableSet::new().with::<Ticket>();
    owner.apply_schema(&tables, &policy()).await?;
    let pool =
        TenantPool::<Postgres>::connect(&db.app_url(), TenantPoolOptions::new(&tables)).await?;
    let insert = |tenant: TenantId, title: &str| {
        Ticket::insert(&tenant).set(Ticket::TITLE, title.to_owned())
    };
    let a = tenant(A);
    let mut tx = pool.begin(&a).await?;
    for title in ["one", "two", "three"] {
        tx.execute(insert(a, title)).await?;
    }
    tx.commit().await?;

    owner
        .partition_by_tenant::<Ticket>(&tables, &policy())
        .await?;
    owner
        .add_tenant_partition::<Ticket>(&tables, &policy(), &a)
        .await?;
    let mut tx = pool.begin(&a).await?;
    tx.execute(insert(a, "four")).await?;
    let tickets: Vec<Ticket> = tx
        .fetch_all(Ticket::select(&a).order_by_asc(Ticket::ID))
        .await?;
    tx.commit().await?;
    let ids: Vec<(i64, &str)> = tickets.iter().map(|t| (t.id, t.title.as_str())).collect();
    assert_eq!(ids, [(1, "one"), (2, "two"), (3, "three"), (4, "four")]);
    Ok(())
}
