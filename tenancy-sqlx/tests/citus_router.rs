//! Every statement the builder makes for one tenant runs on one worker of a
//! Citus cluster, and statements across tenants fan out to every shard.
//!
//! The statements are the scoping properties' (`tenancy-core/tests/scoping`:
//! filter trees, joins of every kind, subqueries, CTEs, unions, aggregates,
//! windows, row locks, updates with FROM, deletes with USING, inserts and
//! upserts), built for random tenants of an i64-keyed and an i32-keyed
//! world and run, as the application role inside a tenant transaction, on a
//! coordinator whose tables `apply_schema` distributed by their tenant
//! column. The roles run with `citus.multi_task_query_log_level = 'error'`:
//! Citus raises `multi-task query about to be executed` when it plans a
//! statement into more than one task, so a statement that would fan out
//! fails instead of running, and the test fails on it.
//!
//! The generator combines clauses without regard to every rule of SQL, so
//! a statement that fails is sorted out: refused for its data after
//! planning (a division by zero, a foreign key to no plan), `EXPLAIN`,
//! which goes through the same planner and the same check, proves it
//! router-executable; refused the same way by a single PostgreSQL server
//! with the same tables, it proves nothing either way; refused by Citus
//! alone, it is counted by reason and printed.

// The property generator of the core's tests, and the tables it draws from.
#[path = "../../tenancy-core/tests/tables/mod.rs"]
mod tables;

#[allow(dead_code)]
#[path = "../../tenancy-core/tests/scoping/plans.rs"]
mod plans;
#[allow(dead_code)]
#[path = "../../tenancy-core/tests/scoping/strategies.rs"]
mod strategies;

use std::collections::BTreeMap;
use std::fmt::Debug;

use plans::{Ctx, GLOBALS, I32World, I64World, Scope, World};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sea_query_sqlx::SqlxValues;
use sqlx::{AssertSqlSafe, PgPool};
use strategies::{Tables, select_plan, union_plan, write_plan};
use tables::{Account, Country, Customer, Invoice, Line, Member, Order, Plan};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::{PolicyForm, RlsPolicy};
use tenancy_sqlx::sea_query::Values;
use tenancy_sqlx::testing::{APP_ROLE, CitusTestDatabase, OWNER_ROLE, TestDatabase};
use tenancy_sqlx::{
    BuildStatement, CrossTenant, Dialect, OwnerPool, Postgres, TenantId, TenantKey, TenantPool,
    TenantPoolOptions,
};
use tenancy_test::TestResult;

/// What Citus says when it plans a statement into more than one task.
const FAN_OUT: &str = "multi-task query about to be executed";

/// A cluster database with `tables` applied by the library (the tenant
/// tables distributed by their tenant column, the global ones reference
/// tables), where the application role and `extra` roles run with
/// multi-task statements refused.
async fn distributed(
    tables: &TableSet,
    form: PolicyForm,
    extra: &[&str],
) -> TestResult<CitusTestDatabase> {
    let db = CitusTestDatabase::create().await?;
    let admin = db.coordinator().admin_pool().await?;
    create_billing(db.coordinator()).await?;
    OwnerPool::from_pool(
        db.coordinator().owner_pool().await?,
        CrossTenant::with_reason("test set-up: the generator's tables, distributed")?,
    )
    .apply_schema(tables, &RlsPolicy::for_role(APP_ROLE)?.with_form(form))
    .await?;
    for role in [APP_ROLE].iter().chain(extra) {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "ALTER ROLE \"{role}\" IN DATABASE \"{}\" SET citus.multi_task_query_log_level = 'error'",
            db.coordinator().name()
        )))
        .execute(&admin)
        .await?;
    }
    Ok(db)
}

/// The invoices' schema, owned by the role that applies the DDL.
async fn create_billing(db: &TestDatabase) -> TestResult {
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE SCHEMA billing AUTHORIZATION {OWNER_ROLE}"
    )))
    .execute(&db.admin_pool().await?)
    .await?;
    Ok(())
}

/// What a statement of world `W` may read, as in the scoping properties.
fn world_tables<W: World>(ctes: bool) -> Tables {
    let reachable = [W::SCOPED, GLOBALS].concat();
    Tables {
        bases: W::SCOPED.to_vec(),
        joinable: reachable.clone(),
        candidates: reachable.clone(),
        selects: reachable,
        ctes,
        locks: true,
        postgres_only: true,
        outer_joins: true,
    }
}

/// `count` values of `strategy`, from a fixed seed so that a failure
/// repeats.
fn draw<S: Strategy>(strategy: S, count: usize, seed: u8) -> Vec<S::Value> {
    let mut runner = TestRunner::new_with_rng(
        Config {
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    );
    (0..count)
        .filter_map(|_| strategy.new_tree(&mut runner).ok())
        .map(|tree| tree.current())
        .collect()
}

/// What Citus does with an `INSERT` whose values hold a subquery: it runs
/// no such statement, on one shard or many.
const INSERT_SUBQUERY: &str = "subqueries are not supported within INSERT queries";

/// How the cluster took one statement.
enum Outcome {
    /// It ran (on one worker, when multi-task statements are refused).
    Ran,
    /// Refused for its data after planning; `EXPLAIN` planned it onto one
    /// worker.
    Explained,
    /// Refused for its data while planning (a constant division by zero,
    /// folded by the planner): nothing proven either way.
    Unplanned,
    /// Refused by PostgreSQL the same way on a single server (its SQLSTATE).
    LikeOneServer(String),
    /// Planned into more than one task: it would fan out.
    FannedOut(String),
    /// Refused by Citus only, for a reason it gives for one shard as for
    /// many (see [`INSERT_SUBQUERY`] and [`outcome`]).
    Known(String),
    /// Refused by Citus only, for another reason.
    CitusOnly(String),
}

/// Where a statement runs: in a tenant's transaction of a tenant pool, or
/// in a transaction of a plain pool (the owner, across tenants).
#[derive(Clone, Copy)]
enum Place<'a, K: TenantKey> {
    Tenant(&'a TenantPool, &'a TenantId<K>),
    Owner(&'a PgPool),
}

/// How a statement is run.
#[derive(Clone, Copy)]
enum Run {
    /// As built.
    AsBuilt,
    /// `EXPLAIN` of it.
    Explain,
    /// With the builder's `FALSE` (an empty `IN` list) written as a false
    /// that the planner cannot fold.
    Unfolded,
}

/// Runs `sql` at `place` as `how` says, through the transaction's
/// connection (the builder's SQL, under the policies), and rolls back.
async fn run_at<K: TenantKey>(
    place: Place<'_, K>,
    sql: &str,
    values: &Values,
    how: Run,
) -> TestResult<Result<(), sqlx::Error>> {
    let sql = match how {
        Run::AsBuilt => sql.to_owned(),
        Run::Explain => format!("EXPLAIN (COSTS OFF) {sql}"),
        Run::Unfolded => sql.replace(" FALSE", " (pg_catalog.pg_backend_pid() < 0)"),
    };
    let query = sqlx::query_with(AssertSqlSafe(sql), SqlxValues(values.clone()));
    let ran = match place {
        Place::Tenant(pool, tenant) => {
            let mut tx = pool.begin(tenant).await?;
            let ran = query.execute(&mut *tx.raw_connection()).await;
            tx.rollback().await.ok();
            ran
        }
        Place::Owner(pool) => {
            let mut tx = pool.begin().await?;
            let ran = query.execute(&mut *tx).await;
            tx.rollback().await.ok();
            ran
        }
    };
    Ok(ran.map(drop))
}

/// The plan of `sql` for the owner, as `EXPLAIN` writes it (without
/// multi-task statements refused: `EXPLAIN` alone runs nothing).
async fn plan_of(owner: &PgPool, sql: &str, values: &Values) -> TestResult<String> {
    let mut tx = owner.begin().await?;
    sqlx::raw_sql("SET LOCAL citus.multi_task_query_log_level = 'off'")
        .execute(&mut *tx)
        .await?;
    let lines: Vec<String> = sqlx::query_scalar_with(
        AssertSqlSafe(format!("EXPLAIN (COSTS OFF) {sql}")),
        SqlxValues(values.clone()),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.rollback().await?;
    Ok(lines.join("\n"))
}

/// The SQLSTATE and message of a database error.
fn state_and_message(error: &sqlx::Error) -> (String, String) {
    error.as_database_error().map_or_else(
        || (String::new(), error.to_string()),
        |error| {
            let code = error
                .code()
                .map(|code| code.into_owned())
                .unwrap_or_default();
            (code, error.message().to_owned())
        },
    )
}

/// Whether `code` is PostgreSQL refusing a statement's data (classes 21,
/// 22 and 23: cardinality, data exceptions, integrity constraints), not
/// its plan.
fn data_error(code: &str) -> bool {
    ["21", "22", "23"]
        .iter()
        .any(|class| code.starts_with(class))
}

/// Runs the statement on the cluster; if it fails, finds out why, with
/// `EXPLAIN` on the cluster or the same statement on a single server.
async fn outcome<K: TenantKey>(
    citus: Place<'_, K>,
    single: Place<'_, K>,
    sql: &str,
    values: &Values,
) -> TestResult<Outcome> {
    let Err(error) = run_at(citus, sql, values, Run::AsBuilt).await? else {
        return Ok(Outcome::Ran);
    };
    let (code, message) = state_and_message(&error);
    if message.contains(FAN_OUT) {
        return Ok(Outcome::FannedOut(message));
    }
    if data_error(&code) {
        return Ok(match run_at(citus, sql, values, Run::Explain).await? {
            Ok(()) => Outcome::Explained,
            Err(error) if data_error(&state_and_message(&error).0) => Outcome::Unplanned,
            Err(error) => Outcome::CitusOnly(state_and_message(&error).1),
        });
    }
    if let Err(alike) = run_at(single, sql, values, Run::AsBuilt).await?
        && state_and_message(&alike).1 == message
    {
        return Ok(Outcome::LikeOneServer(code));
    }
    if message == INSERT_SUBQUERY && sql.starts_with("INSERT") {
        return Ok(Outcome::Known(message));
    }
    // A filter that PostgreSQL folds to a constant `FALSE`, and the tenant
    // predicate beside it with it: with nothing to fold, the same statement
    // must run on one worker.
    if sql.contains(" FALSE") && run_at(citus, sql, values, Run::Unfolded).await?.is_ok() {
        return Ok(Outcome::Known(format!(
            "{message} (a filter folded to FALSE)"
        )));
    }
    Ok(Outcome::CitusOnly(message))
}

/// Whether the plan reads no row because a filter folded to a constant
/// false: `One-Time Filter: false`, or a conjunction of falses such as
/// `(false AND false)` (an always-true test of a `NOT NULL` tenant column
/// beside a comparison of two values that is false).
fn folded_to_false(plan: &str) -> bool {
    plan.lines().any(|line| {
        line.trim_start()
            .strip_prefix("One-Time Filter: ")
            .is_some_and(|filter| {
                filter.contains("false")
                    && filter
                        .replace("false", "")
                        .replace("AND", "")
                        .chars()
                        .all(|c| matches!(c, '(' | ')' | ' '))
            })
    })
}

/// How the cluster took the statements of a run: counts, and for each
/// message an example statement.
#[derive(Debug, Default)]
struct Tally {
    ran: usize,
    explained: usize,
    unplanned: usize,
    /// Refused by PostgreSQL the same way on a single server, by SQLSTATE
    /// (an `ORDER BY` term a `SELECT DISTINCT` does not select, `FOR
    /// SHARE` on the nullable side of an outer join): the generator
    /// combines clauses without regard to every rule of SQL.
    like_one_server: BTreeMap<String, (usize, String)>,
    fanned_out: BTreeMap<String, (usize, String)>,
    /// The two kinds of statement the builder makes that Citus runs on no
    /// shard at all: an `INSERT` whose values hold a subquery, and one with
    /// a filter that PostgreSQL folds to a constant `FALSE` (an empty `IN`
    /// list) and, with it, the tenant predicate beside it, so that Citus
    /// sees a table with no tenant and refuses the join, CTE or subquery
    /// around it.
    known: BTreeMap<String, (usize, String)>,
    /// Refused by Citus only, for another reason.
    unknown: BTreeMap<String, (usize, String)>,
}

fn count(map: &BTreeMap<String, (usize, String)>) -> usize {
    map.values().map(|(count, _)| count).sum()
}

fn note(map: &mut BTreeMap<String, (usize, String)>, key: String, example: String) {
    map.entry(key).or_insert((0, example)).0 += 1;
}

impl Tally {
    fn proven(&self) -> usize {
        self.ran + self.explained
    }

    fn total(&self) -> usize {
        self.proven()
            + self.unplanned
            + count(&self.like_one_server)
            + count(&self.fanned_out)
            + count(&self.known)
            + count(&self.unknown)
    }

    fn take(&mut self, outcome: Outcome, sql: &str, values: &Values) {
        let example = format!("{sql}\n  values: {values:?}");
        match outcome {
            Outcome::Ran => self.ran += 1,
            Outcome::Explained => self.explained += 1,
            Outcome::Unplanned => self.unplanned += 1,
            Outcome::LikeOneServer(code) => note(&mut self.like_one_server, code, example),
            Outcome::FannedOut(message) => note(&mut self.fanned_out, message, example),
            Outcome::Known(message) => note(&mut self.known, message, example),
            Outcome::CitusOnly(message) => note(&mut self.unknown, message, example),
        }
    }

    fn add(&mut self, other: Tally) {
        self.ran += other.ran;
        self.explained += other.explained;
        self.unplanned += other.unplanned;
        for (mine, theirs) in [
            (&mut self.like_one_server, other.like_one_server),
            (&mut self.fanned_out, other.fanned_out),
            (&mut self.known, other.known),
            (&mut self.unknown, other.unknown),
        ] {
            for (key, (count, example)) in theirs {
                mine.entry(key).or_insert((0, example)).0 += count;
            }
        }
    }
}

/// Runs each statement on the cluster in a transaction of its tenant, and
/// tallies how the cluster took it.
async fn prove_router<K: TenantKey>(
    citus: &TenantPool,
    single: &TenantPool,
    statements: Vec<(K, Box<dyn BuildStatement>)>,
) -> TestResult<Tally> {
    let mut tally = Tally::default();
    for (key, statement) in statements {
        let tenant = TenantId::from_verified(key);
        let built = statement.build(Dialect::Postgres)?;
        let (sql, values) = (built.sql(), built.values());
        let outcome = outcome(
            Place::Tenant(citus, &tenant),
            Place::Tenant(single, &tenant),
            sql,
            values,
        )
        .await?;
        tally.take(outcome, sql, values);
    }
    Ok(tally)
}

/// The scoped selects, unions and writes of world `W`, each for a random
/// tenant of `keys`.
fn scoped_statements<W: World>(
    keys: impl Strategy<Value = W::Key> + Clone,
    [selects, unions, writes]: [usize; 3],
    seed: u8,
) -> Vec<(W::Key, Box<dyn BuildStatement>)>
where
    W::Key: Debug + Copy,
{
    let mut statements: Vec<(W::Key, Box<dyn BuildStatement>)> = Vec::new();
    for (key, plan) in draw(
        (keys.clone(), select_plan(world_tables::<W>(true))),
        selects,
        seed,
    ) {
        let tenant = TenantId::from_verified(key);
        statements.push((key, plan.build(&mut Ctx::<W>::new(Scope::Tenant(&tenant)))));
    }
    for (key, plan) in draw(
        (keys.clone(), union_plan(world_tables::<W>(false))),
        unions,
        seed,
    ) {
        let tenant = TenantId::from_verified(key);
        statements.push((key, plan.build(&Ctx::<W>::new(Scope::Tenant(&tenant)))));
    }
    for (key, plan) in draw(
        (keys, write_plan(world_tables::<W>(false), true)),
        writes,
        seed,
    ) {
        let tenant = TenantId::from_verified(key);
        statements.push((key, W::write(&plan, &Ctx::<W>::new(Scope::Tenant(&tenant)))));
    }
    statements
}

fn i64_tables() -> TableSet {
    with_typed_columns(
        TableSet::new()
            .with::<Plan>()
            .with::<Country>()
            .with::<Customer>()
            .with::<Order>()
            .with::<Line>()
            .with::<Invoice>(),
    )
}

/// The generator's table with JSON, network and array columns, when the
/// features that give its operators are on.
#[cfg(all(feature = "json", feature = "ipnetwork", feature = "array"))]
fn with_typed_columns(set: TableSet) -> TableSet {
    set.with::<tables::Asset>()
}

#[cfg(not(all(feature = "json", feature = "ipnetwork", feature = "array")))]
fn with_typed_columns(set: TableSet) -> TableSet {
    set
}

fn i32_tables() -> TableSet {
    TableSet::new()
        .with::<Plan>()
        .with::<Country>()
        .with::<Account>()
        .with::<Member>()
}

/// The same tables on the cluster and on a single server, each applied by
/// the library, with tenant pools and owner pools to both.
struct Both {
    _citus_db: CitusTestDatabase,
    _single_db: TestDatabase,
    citus: TenantPool,
    single: TenantPool,
    citus_owner: PgPool,
    single_owner: PgPool,
}

impl Both {
    async fn create(tables: &TableSet, form: PolicyForm) -> TestResult<Both> {
        let citus_db = distributed(tables, form, &[OWNER_ROLE]).await?;
        let single_db = TestDatabase::create().await?;
        create_billing(&single_db).await?;
        let single_owner = single_db.owner_pool().await?;
        OwnerPool::from_pool(
            single_owner.clone(),
            CrossTenant::with_reason("test set-up: the generator's tables, on one server")?,
        )
        .apply_schema(tables, &RlsPolicy::for_role(APP_ROLE)?.with_form(form))
        .await?;
        let connect = async |url: String| {
            TenantPool::<Postgres>::connect(&url, TenantPoolOptions::new(tables)).await
        };
        Ok(Both {
            citus: connect(citus_db.coordinator().app_url()).await?,
            single: connect(single_db.app_url()).await?,
            citus_owner: citus_db.coordinator().owner_pool().await?,
            single_owner,
            _citus_db: citus_db,
            _single_db: single_db,
        })
    }
}

/// Proves the scoped statements of world `W` on a database of its tables.
async fn prove_world<W: World>(
    tables: &TableSet,
    form: PolicyForm,
    keys: impl Strategy<Value = W::Key> + Clone,
    counts: [usize; 3],
    seed: u8,
) -> TestResult<Tally>
where
    W::Key: Debug + Copy,
{
    let both = Both::create(tables, form).await?;
    let statements = scoped_statements::<W>(keys, counts, seed);
    let total = statements.len();
    let tally = prove_router(&both.citus, &both.single, statements).await?;
    assert_eq!(tally.total(), total);
    Ok(tally)
}

#[tokio::test]
async fn every_scoped_builder_statement_runs_on_one_worker() -> TestResult {
    let mut tally = prove_world::<I64World>(
        &i64_tables(),
        PolicyForm::Equality,
        1_000_000_000_000i64..1_000_000_000_000_000,
        [1_000, 250, 800],
        64,
    )
    .await?;
    tally.add(
        prove_world::<I32World>(
            &i32_tables(),
            PolicyForm::Equality,
            1_000_000_000i32..=i32::MAX,
            [500, 150, 400],
            32,
        )
        .await?,
    );
    eprintln!("{tally:#?}");
    eprintln!(
        "{} statements: {} proven router-executable ({} of them by EXPLAIN), {} refused for \
         their data while planning, {} refused alike by a single server, {} refused by Citus on \
         one shard as on many, {} refused by Citus otherwise, {} fanned out",
        tally.total(),
        tally.proven(),
        tally.explained,
        tally.unplanned,
        count(&tally.like_one_server),
        count(&tally.known),
        count(&tally.unknown),
        count(&tally.fanned_out),
    );
    // Nothing fans out.
    assert!(
        tally.fanned_out.is_empty(),
        "fanned out: {:#?}",
        tally.fanned_out
    );
    // What Citus refuses otherwise stays rare: a filter comparing two
    // values, which PostgreSQL folds to FALSE with the tenant predicate
    // beside it (Citus then finds a table with no tenant and refuses the
    // CTE, join or lock around it, rather than running it anywhere).
    assert!(
        count(&tally.unknown) * 200 <= tally.total(),
        "refused by Citus only: {:#?}",
        tally.unknown
    );
    // The generator's statements, not a few easy ones.
    assert!(
        tally.proven() >= 2_000,
        "only {} statements proven",
        tally.proven()
    );
    Ok(())
}

/// The same proof, fewer statements, with the policies in the
/// array-membership form: Citus routes by the statement's own tenant
/// predicate, whatever the policy's form.
#[tokio::test]
async fn under_the_array_membership_form_every_scoped_statement_runs_on_one_worker() -> TestResult {
    let tally = prove_world::<I64World>(
        &i64_tables(),
        PolicyForm::ArrayMembership,
        1_000_000_000_000i64..1_000_000_000_000_000,
        [300, 80, 250],
        64,
    )
    .await?;
    eprintln!("{tally:#?}");
    assert!(
        tally.fanned_out.is_empty(),
        "fanned out: {:#?}",
        tally.fanned_out
    );
    assert!(
        count(&tally.unknown) * 200 <= tally.total(),
        "refused by Citus only: {:#?}",
        tally.unknown
    );
    assert!(
        tally.proven() >= 400,
        "only {} statements proven",
        tally.proven()
    );
    Ok(())
}

#[tokio::test]
async fn cross_tenant_builder_statements_fan_out() -> TestResult {
    let tables = i64_tables();
    let both = Both::create(&tables, PolicyForm::Equality).await?;
    let capability = CrossTenant::with_reason("test: statements across tenants")?;
    let world = Tables {
        // CTEs cannot be matched on a tenant column across tenants.
        ctes: false,
        ..world_tables::<I64World>(false)
    };
    let selects = draw(select_plan(world.clone()), 200, 7);
    let writes = draw(write_plan(world, false), 100, 7);
    let ctx = || Ctx::<I64World>::new(Scope::Across(&capability));
    let statements: Vec<Box<dyn BuildStatement>> = selects
        .iter()
        .map(|plan| plan.build(&mut ctx()))
        .chain(writes.iter().map(|plan| I64World::write(plan, &ctx())))
        .collect();
    let (mut fanned_out, mut refused, mut alike, mut pruned) = (0, 0, 0, 0);
    let (citus, single) = (
        Place::<i64>::Owner(&both.citus_owner),
        Place::<i64>::Owner(&both.single_owner),
    );
    for statement in &statements {
        let built = statement.build(Dialect::Postgres)?;
        let (sql, values) = (built.sql(), built.values());
        match outcome(citus, single, sql, values).await? {
            Outcome::FannedOut(_) => fanned_out += 1,
            // Citus refuses some multi-shard joins outright: no worker
            // could run them alone either.
            Outcome::CitusOnly(_) | Outcome::Known(_) => refused += 1,
            Outcome::LikeOneServer(_) => alike += 1,
            Outcome::Ran | Outcome::Explained | Outcome::Unplanned => {
                // A filter folded to FALSE prunes every shard: the plan
                // has no task, or one that reads no table; or, with the
                // builder's FALSE not folded, the statement fans out or is
                // refused.
                let plan = plan_of(&both.citus_owner, sql, values).await?;
                if plan.contains("Task Count: 0") || folded_to_false(&plan) {
                    pruned += 1;
                    continue;
                }
                let unfolded = run_at(citus, sql, values, Run::Unfolded).await?;
                match unfolded.map_err(|error| state_and_message(&error).1) {
                    Err(message) if message.contains(FAN_OUT) => fanned_out += 1,
                    Err(_) if sql.contains(" FALSE") => refused += 1,
                    _ => {
                        return Err(
                            format!("ran on one worker across tenants: {sql}\n{plan}").into()
                        );
                    }
                }
            }
        }
    }
    eprintln!(
        "{} cross-tenant statements: {fanned_out} fanned out, {refused} refused by Citus as \
         multi-shard statements, {pruned} with a filter folded to FALSE and no shard to run \
         on, {alike} refused alike by a single server",
        statements.len()
    );
    assert_eq!(fanned_out + refused + alike + pruned, statements.len());
    assert!(fanned_out >= 150, "only {fanned_out} fanned out");
    Ok(())
}
