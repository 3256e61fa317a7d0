//! Helpers shared by the adapter's integration tests.

#![allow(dead_code)]

use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tenancy_sqlx::testing::TestDatabase;
use tenancy_sqlx::{Postgres, TenantPool, TenantPoolOptions};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A tenant pool of exactly one connection, as the application role, with an
/// `application_name` that lets the admin find its backend.
pub async fn single_connection_pool(
    db: &TestDatabase,
    application_name: &str,
    options: TenantPoolOptions,
) -> Result<TenantPool, Box<dyn std::error::Error>> {
    let connect: PgConnectOptions = db
        .app_url()
        .parse::<PgConnectOptions>()?
        .application_name(application_name);
    let pool = TenantPool::<Postgres>::connect_with(
        PgPoolOptions::new().max_connections(1),
        connect,
        options,
    )
    .await?;
    Ok(pool)
}

/// What the server says the backends with this `application_name` are doing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Backend {
    pub pid: i32,
    pub state: String,
    /// The text of the last query message the backend received.
    pub query: String,
}

pub async fn backends(admin: &PgPool, application_name: &str) -> Result<Vec<Backend>, sqlx::Error> {
    sqlx::query_as(
        "SELECT pid, coalesce(state, '') AS state, coalesce(query, '') AS query FROM pg_stat_activity
         WHERE application_name = $1 ORDER BY pid",
    )
    .bind(application_name)
    .fetch_all(admin)
    .await
}

/// Waits until no backend with this `application_name` is inside a
/// transaction, or fails after two seconds. Connections go back to the pool
/// in a spawned task, so the check has to wait for it.
pub async fn assert_no_open_transaction(admin: &PgPool, application_name: &str) -> TestResult {
    let mut seen = Vec::new();
    for _ in 0..40 {
        seen = backends(admin, application_name).await?;
        if seen
            .iter()
            .all(|backend| !backend.state.contains("transaction"))
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("a pooled connection stayed inside a transaction: {seen:?}").into())
}

/// Polls `future` once, with a waker that does nothing: the test decides
/// when to poll again, or to drop it.
pub fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    future.poll(&mut cx)
}

/// The tables the tests declare, as an application would.
pub mod tables {
    use tenancy_sqlx::{global_table, tenant_scoped};

    #[global_table]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Plan {
        #[tenancy(primary_key)]
        pub id: i64,
        pub name: String,
    }

    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Customer {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(unique)]
        pub email: String,
    }

    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Order {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        #[tenancy(index)]
        pub status: String,
    }

    /// The tables above, referenced tables first.
    pub fn table_set() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new()
            .with::<Plan>()
            .with::<Customer>()
            .with::<Order>()
    }
}

/// A database with [`tables::table_set`] created and protected by the owner,
/// for the application role.
pub async fn database_with_tables() -> Result<TestDatabase, Box<dyn std::error::Error>> {
    let db = TestDatabase::create().await?;
    let owner = tenancy_sqlx::OwnerPool::from_pool(
        db.owner_pool().await?,
        tenancy_sqlx::CrossTenant::with_reason("test set-up").expect("a stated reason"),
    );
    owner
        .apply_schema(
            &tables::table_set(),
            &tenancy_sqlx::rls::RlsPolicy::for_role(tenancy_sqlx::testing::APP_ROLE)?,
        )
        .await?;
    Ok(db)
}
