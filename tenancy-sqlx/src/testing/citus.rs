//! A real Citus cluster for the tests: a coordinator and two workers, each a
//! throwaway PostgreSQL cluster that loads Citus, and per test one database
//! of the same name on every node, joined into one Citus cluster.
//!
//! *Available with the `citus` feature* (which needs the Citus extension
//! installed into the server that `pg_config` names; without it
//! [`CitusTestDatabase::create`] fails with
//! [`TestSupportError::CitusMissing`], it never skips).

#![cfg_attr(docsrs, doc(cfg(feature = "citus")))]

use tokio::sync::OnceCell;

use super::TestSupportError;
use super::database::TestDatabase;
use super::server::Server;

/// How many workers the test cluster has: two, so that two tenants can live
/// on different machines.
pub const CITUS_WORKERS: usize = 2;

/// The `postgresql.conf` lines of every node: Citus must be preloaded, and
/// moving shards without blocking writes needs logical decoding. Roles are
/// the same on every node already (the test support creates them), and
/// their propagation would have the parallel tests' databases, which share
/// the nodes, update the same role rows at once (`tuple concurrently
/// updated`).
const NODE_SETTINGS: &[(&str, &str)] = &[
    ("shared_preload_libraries", "'citus'"),
    ("citus.enable_create_role_propagation", "off"),
    ("citus.enable_alter_role_propagation", "off"),
    ("citus.enable_alter_role_set_propagation", "off"),
    ("wal_level", "logical"),
    ("max_worker_processes", "32"),
];

/// The three nodes of this process's Citus cluster.
#[derive(Debug, Clone)]
struct Nodes {
    coordinator: Server,
    workers: Vec<Server>,
}

/// Started on first use, once per test process; a failure is kept, so that a
/// missing Citus fails every test quickly with the same message.
static NODES: OnceCell<Result<Nodes, TestSupportError>> = OnceCell::const_new();

impl Nodes {
    async fn shared() -> Result<Self, TestSupportError> {
        NODES.get_or_init(Self::start).await.clone()
    }

    async fn start() -> Result<Self, TestSupportError> {
        let (coordinator, first, second) = tokio::join!(
            Server::start_node(NODE_SETTINGS),
            Server::start_node(NODE_SETTINGS),
            Server::start_node(NODE_SETTINGS),
        );
        let nodes = Nodes {
            coordinator: coordinator.map_err(explain_missing_citus)?,
            workers: vec![
                first.map_err(explain_missing_citus)?,
                second.map_err(explain_missing_citus)?,
            ],
        };
        tracing::info!(
            coordinator = nodes.coordinator.port(),
            workers = ?nodes.workers.iter().map(Server::port).collect::<Vec<_>>(),
            "started a throwaway Citus cluster for the tests"
        );
        Ok(nodes)
    }
}

/// A server that fails to start because `citus.so` is missing says so.
fn explain_missing_citus(error: TestSupportError) -> TestSupportError {
    match &error {
        TestSupportError::CommandFailed { log_tail, .. }
            if log_tail.contains("citus") && log_tail.contains("could not access file") =>
        {
            TestSupportError::CitusMissing {
                detail: log_tail.clone(),
            }
        }
        _ => error,
    }
}

/// One test's database on a Citus cluster: a database of the same name on
/// the coordinator and on each worker, with `CREATE EXTENSION citus` in all
/// three, the workers added to the coordinator's metadata, and the owner and
/// application roles on every node (see the [module documentation](super)).
///
/// Connect through the [coordinator](Self::coordinator), as an application
/// does; the [workers](Self::workers) are there to show what a worker holds
/// and enforces on its own. The database does not set
/// `citus.propagate_set_commands`: that the tenant setting reaches the
/// workers is the library's job
/// ([`OwnerPool::apply_schema`](crate::OwnerPool::apply_schema)), and a test
/// of it would prove nothing if the test support did it.
#[derive(Debug)]
pub struct CitusTestDatabase {
    coordinator: TestDatabase,
    workers: Vec<TestDatabase>,
}

impl CitusTestDatabase {
    /// Creates the database on every node of this process's Citus cluster,
    /// starting the cluster first if this is the first call.
    ///
    /// # Errors
    ///
    /// [`TestSupportError::CitusMissing`] if the server cannot load Citus
    /// (its message says how to install it), and whatever
    /// [`TestDatabase::create`] fails with.
    pub async fn create() -> Result<Self, TestSupportError> {
        let nodes = Nodes::shared().await?;
        let coordinator = TestDatabase::create_on(nodes.coordinator.clone(), None).await?;
        let mut workers = Vec::with_capacity(nodes.workers.len());
        for server in &nodes.workers {
            let worker = TestDatabase::create_on(server.clone(), Some(coordinator.name())).await?;
            worker.run_as_admin("CREATE EXTENSION citus").await?;
            workers.push(worker);
        }
        let mut join = format!(
            "CREATE EXTENSION citus; SELECT citus_set_coordinator_host('127.0.0.1', {});",
            coordinator.port()
        );
        for worker in &workers {
            join.push_str(&format!(
                " SELECT citus_add_node('127.0.0.1', {});",
                worker.port()
            ));
        }
        coordinator.run_as_admin(&join).await?;
        Ok(Self {
            coordinator,
            workers,
        })
    }

    /// The database on the coordinator: the one applications connect to.
    pub fn coordinator(&self) -> &TestDatabase {
        &self.coordinator
    }

    /// The database on each worker, in the order they were added.
    pub fn workers(&self) -> &[TestDatabase] {
        &self.workers
    }

    /// The worker that holds the shard of `table` (a distributed table's
    /// name as `regclass` reads it) for the distribution value `value`.
    ///
    /// # Errors
    ///
    /// [`TestSupportError::Database`] if the lookup fails, e.g. because the
    /// table is not distributed.
    pub async fn worker_of(&self, table: &str, value: i64) -> Result<usize, TestSupportError> {
        let action = || format!("find the worker of `{table}` for {value}");
        let pool = self.coordinator.admin_pool().await?;
        let port: i32 = sqlx::query_scalar(
            "SELECT p.nodeport FROM pg_dist_placement pl \
             JOIN pg_dist_node p ON p.groupid = pl.groupid \
             WHERE pl.shardid = get_shard_id_for_distribution_column($1::regclass, $2::bigint)",
        )
        .bind(table)
        .bind(value)
        .fetch_one(&pool)
        .await
        .map_err(|error| TestSupportError::database(action(), error))?;
        pool.close().await;
        self.workers
            .iter()
            .position(|worker| i32::from(worker.port()) == port)
            .ok_or_else(|| {
                TestSupportError::io(
                    action(),
                    std::io::Error::other(format!("no worker listens on port {port}")),
                )
            })
    }
}
