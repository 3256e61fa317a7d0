//! The PostgreSQL test support (`tenancy_sqlx::testing`): a server with no
//! set-up, a fresh database per test, and roles that Row Level Security
//! applies to, with exactly the privileges production gives them.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, PgPool};
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{
    APP_ROLE, DATABASE_URL_ENV, OWNER_ROLE, RoleAttribute, TestDatabase, TestSupportError,
};
use tenancy_sqlx::{CrossTenant, Error, OwnerPool, Postgres, TenantPool, TenantPoolOptions};
use tenancy_test::TestResult;
use tenancy_test::shop::tables::{Plan, table_set};
use tenancy_test::shop::{customer, free_plan, tenant};
use tenancy_test::sql::{INSUFFICIENT_PRIVILEGE, sqlstate};

async fn current_database(pool: &PgPool) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(pool)
        .await
}

#[tokio::test]
async fn two_databases_are_distinct_and_usable_in_parallel() -> TestResult {
    let (first, second) = tokio::try_join!(TestDatabase::create(), TestDatabase::create())?;
    assert_ne!(first.name(), second.name());

    let (first_owner, second_owner) = tokio::try_join!(first.owner_pool(), second.owner_pool())?;
    let create = "CREATE TABLE items (id int PRIMARY KEY)";
    tokio::try_join!(
        sqlx::raw_sql(create).execute(&first_owner),
        sqlx::raw_sql(create).execute(&second_owner),
    )?;
    sqlx::raw_sql("INSERT INTO items VALUES (1), (2)")
        .execute(&first_owner)
        .await?;

    let count = "SELECT count(*) FROM items";
    let first_count: i64 = sqlx::query_scalar(count).fetch_one(&first_owner).await?;
    let second_count: i64 = sqlx::query_scalar(count).fetch_one(&second_owner).await?;
    assert_eq!((first_count, second_count), (2, 0));
    assert_eq!(current_database(&first_owner).await?, first.name());
    assert_eq!(current_database(&second_owner).await?, second.name());
    Ok(())
}

#[tokio::test]
async fn app_role_is_not_privileged() -> TestResult {
    let db = TestDatabase::create().await?;
    let app = db.app_pool().await?;
    let (user, superuser, bypass_rls, create_db, create_role): (String, bool, bool, bool, bool) =
        sqlx::query_as(
            "SELECT rolname::text, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole \
             FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(&app)
        .await?;
    assert_eq!(user, APP_ROLE);
    assert!(!superuser, "the app role must not be a superuser");
    assert!(!bypass_rls, "the app role must not bypass RLS");
    assert!(!create_db && !create_role);

    let member_of_owner: bool = sqlx::query_scalar("SELECT pg_has_role($1, $2, 'MEMBER')")
        .bind(APP_ROLE)
        .bind(OWNER_ROLE)
        .fetch_one(&app)
        .await?;
    assert!(
        !member_of_owner,
        "the app role must not inherit the owner's rights"
    );
    Ok(())
}

#[tokio::test]
async fn app_role_cannot_create_a_database() -> TestResult {
    let db = TestDatabase::create().await?;
    let app = db.app_pool().await?;
    let refused = sqlx::raw_sql("CREATE DATABASE tenancy_app_may_not_create_this")
        .execute(&app)
        .await
        .err()
        .ok_or("CREATE DATABASE as the app role succeeded")?;
    assert_eq!(sqlstate(&refused).as_deref(), Some(INSUFFICIENT_PRIVILEGE));
    Ok(())
}

#[tokio::test]
async fn owner_role_owns_the_database_and_its_tables() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    let (user, superuser, bypass_rls, create_role): (String, bool, bool, bool) = sqlx::query_as(
        "SELECT rolname::text, rolsuper, rolbypassrls, rolcreaterole \
         FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&owner)
    .await?;
    assert_eq!(user, OWNER_ROLE);
    assert!(!superuser && !bypass_rls && !create_role);

    let database_owner: String = sqlx::query_scalar(
        "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(&owner)
    .await?;
    assert_eq!(database_owner, OWNER_ROLE);

    sqlx::raw_sql("CREATE TABLE notes (id serial PRIMARY KEY, body text)")
        .execute(&owner)
        .await?;
    let table_owner: String =
        sqlx::query_scalar("SELECT tableowner::text FROM pg_tables WHERE tablename = 'notes'")
            .fetch_one(&owner)
            .await?;
    assert_eq!(table_owner, OWNER_ROLE);
    Ok(())
}

/// No default privileges: a table the owner creates is out of the
/// application role's reach until the owner grants it, as in production.
#[tokio::test]
async fn app_role_may_use_only_what_it_is_granted_and_cannot_create_tables() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    sqlx::raw_sql("CREATE TABLE notes (id serial PRIMARY KEY, body text)")
        .execute(&owner)
        .await?;

    let app = db.app_pool().await?;
    let refused = sqlx::raw_sql("INSERT INTO notes (body) VALUES ('hello')")
        .execute(&app)
        .await
        .err()
        .ok_or("the app role wrote a table nobody granted it")?;
    assert_eq!(sqlstate(&refused).as_deref(), Some(INSUFFICIENT_PRIVILEGE));

    sqlx::raw_sql(
        "GRANT SELECT, INSERT ON notes TO tenancy_app; GRANT USAGE ON SEQUENCE notes_id_seq TO tenancy_app",
    )
    .execute(&owner)
    .await?;
    sqlx::raw_sql("INSERT INTO notes (body) VALUES ('hello')")
        .execute(&app)
        .await?;
    let body: String = sqlx::query_scalar("SELECT body FROM notes")
        .fetch_one(&app)
        .await?;
    assert_eq!(body, "hello");

    let refused = sqlx::raw_sql("CREATE TABLE mine (id int)")
        .execute(&app)
        .await
        .err()
        .ok_or("the app role created a table, so it could own one")?;
    assert_eq!(sqlstate(&refused).as_deref(), Some(INSUFFICIENT_PRIVILEGE));
    Ok(())
}

/// With the schema applied as a deployment applies it, the application
/// role gets what the generated grants give and nothing else: it reads and
/// writes tenant tables, reads global ones, and may not write those, in a
/// test as in production.
#[tokio::test]
async fn the_generated_grants_are_all_the_application_role_gets() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("test set-up")?,
    )
    .with_tables(&table_set());
    owner
        .apply_schema(&table_set(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    owner.execute(free_plan()).await?;
    let pool = TenantPool::<Postgres>::connect(&db.app_url(), TenantPoolOptions::new(&table_set()))
        .await?;
    let a = tenant(1);
    let mut tx = pool.begin(&a).await?;
    let plans: Vec<Plan> = tx.fetch_all(Plan::select()).await?;
    assert_eq!(plans.len(), 1);
    tx.execute(customer(&a, "ann@example.test")).await?;
    tx.commit().await?;

    let mut tx = pool.begin(&a).await?;
    let refused = tx
        .execute(
            Plan::insert()
                .set(Plan::ID, 2)
                .set(Plan::NAME, "pro".to_owned()),
        )
        .await;
    match refused {
        Err(Error::Database(error)) => {
            assert_eq!(sqlstate(&error).as_deref(), Some(INSUFFICIENT_PRIVILEGE))
        }
        other => return Err(format!("the app role wrote a global table: {other:?}").into()),
    }
    tx.rollback().await?;
    Ok(())
}

#[tokio::test]
async fn admin_url_connects_as_a_superuser_to_the_test_database() -> TestResult {
    let db = TestDatabase::create().await?;
    let mut admin = PgConnection::connect(&db.admin_url()).await?;
    let (database, superuser): (String, bool) = sqlx::query_as(
        "SELECT current_database()::text, rolsuper FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut admin)
    .await?;
    admin.close().await?;
    assert_eq!(database, db.name());
    assert!(superuser);
    Ok(())
}

#[tokio::test]
async fn created_roles_have_exactly_the_attributes_asked_for() -> TestResult {
    let db = TestDatabase::create().await?;
    let role = db
        .create_role("bypass", &[RoleAttribute::BypassRls])
        .await?;
    assert_eq!(role.name(), format!("{}_bypass", db.name()));

    let pool = role.pool().await?;
    let (user, superuser, bypass_rls): (String, bool, bool) = sqlx::query_as(
        "SELECT rolname::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(user, role.name());
    assert!(bypass_rls && !superuser);
    assert_eq!(current_database(&pool).await?, db.name());
    Ok(())
}

#[tokio::test]
async fn role_names_that_are_not_plain_identifiers_are_rejected() -> TestResult {
    let db = TestDatabase::create().await?;
    for name in ["x\"; DROP ROLE postgres; --", "Upper", "", &"a".repeat(60)] {
        let error = db.create_role(name, &[]).await.err().ok_or("accepted")?;
        assert!(
            matches!(error, TestSupportError::InvalidRoleName { .. }),
            "{name:?}: {error}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn drop_database_removes_the_database_and_its_roles() -> TestResult {
    let db = TestDatabase::create().await?;
    let role = db.create_role("reader", &[]).await?;
    let witness = TestDatabase::create().await?;
    let (name, role_name) = (db.name().to_owned(), role.name().to_owned());
    db.drop_database().await?;

    let admin = witness.admin_pool().await?;
    let (databases, roles): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pg_database WHERE datname = $1), \
                (SELECT count(*) FROM pg_roles WHERE rolname = $2)",
    )
    .bind(&name)
    .bind(&role_name)
    .fetch_one(&admin)
    .await?;
    assert_eq!((databases, roles), (0, 0));
    Ok(())
}

/// Each `#[tokio::test]` has its own runtime; so do these threads. They must
/// all reach the one server of the process.
#[test]
fn one_server_serves_every_runtime_of_the_process() -> TestResult {
    let server_of_a_new_runtime = || -> Result<(i32, String), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| error.to_string())?;
        runtime.block_on(async {
            let db = TestDatabase::create().await.map_err(|e| e.to_string())?;
            let admin = db.admin_pool().await.map_err(|e| e.to_string())?;
            sqlx::query_as("SELECT inet_server_port(), pg_postmaster_start_time()::text")
                .fetch_one(&admin)
                .await
                .map_err(|error| error.to_string())
        })
    };
    let threads: Vec<_> = (0..3)
        .map(|_| std::thread::spawn(server_of_a_new_runtime))
        .collect();
    let mut servers = Vec::new();
    for thread in threads {
        servers.push(thread.join().map_err(|_| "a runtime thread panicked")??);
    }
    servers.dedup();
    assert_eq!(
        servers.len(),
        1,
        "runtimes reached different servers: {servers:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_on_a_multi_threaded_runtime() -> TestResult {
    let db = TestDatabase::create().await?;
    let app = db.app_pool().await?;
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&app).await?;
    assert_eq!(one, 1);
    Ok(())
}

/// With nothing in the environment, the server is a throwaway cluster in a
/// temporary directory; with a URL, it is that server.
#[tokio::test]
async fn a_server_comes_without_any_set_up() -> TestResult {
    let db = TestDatabase::create().await?;
    let admin = db.admin_pool().await?;
    let data_directory: String = sqlx::query_scalar("SELECT current_setting('data_directory')")
        .fetch_one(&admin)
        .await?;
    let throwaway = data_directory.contains("tenancy-pg-");
    match std::env::var(DATABASE_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => assert!(!throwaway, "{data_directory}"),
        _ => assert!(throwaway, "not a throwaway cluster: {data_directory}"),
    }
    Ok(())
}

/// Prints where this process's cluster lives, for
/// [`the_cluster_is_removed_when_the_test_process_exits`].
#[tokio::test]
async fn reports_its_cluster() -> TestResult {
    let db = TestDatabase::create().await?;
    let admin = db.admin_pool().await?;
    let data_directory: String = sqlx::query_scalar("SELECT current_setting('data_directory')")
        .fetch_one(&admin)
        .await?;
    let pid_file = std::fs::read_to_string(Path::new(&data_directory).join("postmaster.pid"))
        .unwrap_or_default();
    let postmaster_pid = pid_file.lines().next().unwrap_or_default();
    println!("CLUSTER data_directory={data_directory} postmaster_pid={postmaster_pid}");
    assert!(!data_directory.is_empty());
    Ok(())
}

#[test]
fn the_cluster_is_removed_when_the_test_process_exits() -> TestResult {
    if std::env::var(DATABASE_URL_ENV).is_ok_and(|url| !url.trim().is_empty()) {
        // A server given by URL is not ours to stop: only check it is usable.
        return run_reports_its_cluster().map(drop);
    }
    let output = run_reports_its_cluster()?;
    let line = output
        .lines()
        .find_map(|line| line.strip_prefix("CLUSTER "))
        .ok_or_else(|| format!("the child printed no cluster:\n{output}"))?;
    let field = |key: &str| {
        line.split(' ')
            .find_map(|pair| pair.strip_prefix(key))
            .map(str::to_owned)
            .ok_or_else(|| format!("no {key} in {line:?}"))
    };
    let data_directory = field("data_directory=")?;
    let cluster_dir = Path::new(&data_directory)
        .parent()
        .ok_or("the data directory has no parent")?
        .to_owned();
    let postmaster = Path::new("/proc").join(field("postmaster_pid=")?);
    assert!(field("postmaster_pid=")?.parse::<u32>().is_ok(), "{line:?}");

    let deadline = Instant::now() + Duration::from_secs(15);
    while (cluster_dir.exists() || postmaster.exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!postmaster.exists(), "the server outlived its test process");
    assert!(
        !cluster_dir.exists(),
        "{} was left behind",
        cluster_dir.display()
    );
    Ok(())
}

/// Runs [`reports_its_cluster`] alone in a child process; returns its stdout.
fn run_reports_its_cluster() -> TestResult<String> {
    let output = Command::new(std::env::current_exe()?)
        .args(["reports_its_cluster", "--exact", "--nocapture"])
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "the child test failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(stdout)
}

/// Not an assertion on speed: prints the cost of a database (and, when this
/// test happens to be first, of the cluster) for `--nocapture` runs.
#[tokio::test]
async fn creating_databases_reports_its_cost() -> TestResult {
    let started = Instant::now();
    let first = TestDatabase::create().await?;
    let first_elapsed = started.elapsed();
    let mut names = vec![first.name().to_owned()];
    let started = Instant::now();
    for _ in 0..5 {
        names.push(TestDatabase::create().await?.name().to_owned());
    }
    let each = started.elapsed() / 5;
    println!("first TestDatabase::create: {first_elapsed:?}; each after: {each:?}");
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 6, "database names repeat: {names:?}");
    Ok(())
}
