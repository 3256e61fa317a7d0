//! The cost of the RLS policy's form: the generated policy (the setting
//! compared directly, which Citus accepts on distributed tables) vs the same
//! predicate behind a sub-select (the setting read once per statement as an
//! init plan: the form generated before) vs a naive policy (the setting read
//! and cast per row, failing without one) vs no RLS at all, on a million
//! rows of tenants of very different sizes; and the generated policy and no
//! RLS again with generic plans, pinned by the pool's
//! `PlanCacheMode::ForceGenericPlan` in the transaction's `BEGIN`.

use std::time::Instant;

use tenancy_benches::data::{
    ORDER_ROWS, PickedTenant, SKEW, TENANTS, largest_and_smallest, load_orders, skewed_sizes,
};
use tenancy_benches::database::{BenchDatabase, execute, quoted};
use tenancy_benches::harness::{Settings, measure};
use tenancy_benches::results::{BenchResult, Load, Plan, Section, Unit};
use tenancy_benches::schema::Order;
use tenancy_benches::session::{Query, Session, same_outcome};
use tenancy_benches::{BenchError, Step, run_main};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, RoleAttribute};
use tenancy_sqlx::{CrossTenant, OwnerPool, PlanCacheMode, TenantPoolOptions, TransactionSettings};

const GENERATED: &str = "generated policy";
const NAIVE: &str = "naive policy";
const SUB_SELECT: &str = "generated predicate behind a sub-select";
const RLS_OFF: &str = "RLS off (`BYPASSRLS` role)";
const GENERATED_GENERIC: &str = "generated policy, generic plans (pool option)";
const RLS_OFF_GENERIC: &str = "RLS off, generic plans (pool option)";

/// The generated predicate, as `RlsPolicy` writes it.
const GENERATED_PREDICATE: &str =
    "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint";

/// The naive policy, as found in many tutorials: no sub-select, so the
/// setting is read and cast for every row the policy is checked on.
const NAIVE_PREDICATE: &str = "tenant_id = current_setting('app.tenant_id')::bigint";

/// The generated predicate behind a sub-select: the same fail-closed test,
/// the setting an init plan evaluated once per statement rather than an
/// expression of the row's scan. Citus refuses it on distributed tables.
const SUB_SELECT_PREDICATE: &str =
    "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::bigint)";

fn main() -> std::process::ExitCode {
    run_main(|runtime| {
        let started = Instant::now();
        let load = Load::at_start();
        let sizes = skewed_sizes(TENANTS, ORDER_ROWS, SKEW);
        let (large, small) = largest_and_smallest(&sizes);
        let (database, mut sessions) = runtime.block_on(set_up(&sizes))?;
        let mut sections = Vec::new();
        for query in [Query::List, Query::Count] {
            for (size, tenant) in [("large", large), ("small", small)] {
                let section = runtime.block_on(prepare(&mut sessions, tenant))?;
                let statement = query.statement(tenant.id)?;
                let statements = vec![statement.clone(); sessions.len()];
                let outcome = runtime.block_on(same_outcome(&mut sessions, query, &statements))?;
                let samples = measure(
                    Settings::QUERIES,
                    sessions
                        .iter_mut()
                        .map(|session| session.contender(runtime, query, &statement))
                        .collect(),
                )?;
                let mut section = Section {
                    notes: vec![
                        section,
                        format!(
                            "Every contender returned the same result: {}.",
                            outcome.describe()
                        ),
                    ],
                    ..Section::new(
                        format!("{}, {size} tenant ({} rows)", query.describe(), tenant.rows),
                        Unit::Microseconds,
                        &samples,
                    )
                };
                section
                    .ratio(&samples, GENERATED_GENERIC, RLS_OFF_GENERIC, Some(1.05))?
                    .ratio(&samples, GENERATED, RLS_OFF, None)?
                    .ratio(&samples, GENERATED_GENERIC, RLS_OFF, None)?
                    .ratio(&samples, GENERATED_GENERIC, GENERATED, None)?
                    .ratio(&samples, RLS_OFF_GENERIC, RLS_OFF, None)?
                    .ratio(&samples, NAIVE, RLS_OFF, None)?
                    .ratio(&samples, SUB_SELECT, RLS_OFF, None)?
                    .ratio(&samples, GENERATED, NAIVE, None)?
                    .ratio(&samples, GENERATED, SUB_SELECT, None)?;
                for session in &mut sessions {
                    let counts = runtime.block_on(session.plan_counts(&statement))?;
                    section.notes.push(counts);
                }
                section.plans = runtime.block_on(plans(&mut sessions, &statement, query, size))?;
                runtime.block_on(end(&mut sessions))?;
                sections.push(section);
            }
        }
        BenchResult {
            id: "rls_policy".to_owned(),
            title: "RLS policy form".to_owned(),
            description: description(large, small),
            postgres: Some(runtime.block_on(database.server_version())?),
            elapsed_seconds: started.elapsed().as_secs_f64(),
            load,
            sections,
        }
        .save()
    })
}

fn description(large: PickedTenant, small: PickedTenant) -> String {
    format!(
        "`orders` holds {ORDER_ROWS} rows of {TENANTS} tenants whose sizes fall as \
         1/rank^{SKEW}: the largest tenant has {} rows, the smallest {}. A tenth of each \
         tenant's orders are `open`. Rows were inserted in the order of `placed_at`, \
         so each tenant's rows are spread over the whole table, as when orders arrive \
         over time; then `VACUUM (ANALYZE)` until every page is all-visible. The table \
         and its indexes come from the library's DDL: primary key `(tenant_id, id)`, \
         index `(tenant_id, status, placed_at)`.\n\n\
         Every contender runs the same statement, built by the library (so it carries \
         the explicit `\"orders\".\"tenant_id\" = $1`), on its own connection, inside \
         a transaction whose `app.tenant_id` is set; they take turns query by query. \
         Each role below owns nothing and is subject to exactly one policy:\n\n\
         - **generated policy**: `RlsPolicy`'s, `FORCE`d, for the application role: \
         `USING ({GENERATED_PREDICATE})`;\n\
         - **naive policy**: `USING ({NAIVE_PREDICATE})`, the form of many tutorials;\n\
         - **generated predicate behind a sub-select**: `USING ({SUB_SELECT_PREDICATE})`, \
         the form generated before Citus support, to show what the sub-select costs \
         or saves;\n\
         - **RLS off**: a role with `BYPASSRLS`, to which no policy applies: only the \
         explicit predicate filters;\n\
         - **generated policy, generic plans** and **RLS off, generic plans**: the same \
         two roles, their transaction opened by a `TenantPool` (one connection) whose \
         `TransactionSettings::plan_cache_mode(PlanCacheMode::ForceGenericPlan)` puts \
         `SET LOCAL plan_cache_mode = 'force_generic_plan'` in the simple query of \
         `BEGIN`; the statement runs on the transaction's connection as on the others. \
         PostgreSQL then plans the prepared statement once, for any tenant, instead of \
         for every execution's values.\n\n\
         Figures are per query, result decoding included; CPU time is this \
         process's thread plus the server backend. Note that sqlx prepares each \
         statement once per connection, and PostgreSQL then plans it again for every \
         execution when it expects a plan for the bound values to beat a generic one, \
         as it does here for tenants this different in size: the plans below show \
         what each execution plans.",
        large.rows, small.rows
    )
}

/// The database, filled and protected, and one session per contender.
async fn set_up(sizes: &[u64]) -> Result<(BenchDatabase, Vec<Session>), BenchError> {
    let database = BenchDatabase::create().await?;
    let tables = TableSet::new().with::<Order>();
    let owner = OwnerPool::from_pool(
        database.owner_pool().await?,
        CrossTenant::with_reason("benchmark set-up: create and fill `orders`")
            .expect("a stated reason"),
    );
    let create = tables
        .create_statements(tenancy_sqlx::Dialect::Postgres)
        .step("generate the DDL of `orders`")?;
    for statement in &create {
        execute(owner.pool(), statement).await?;
    }
    load_orders(owner.pool(), None, "orders", sizes).await?;
    let policy = RlsPolicy::for_role(APP_ROLE).step("make the RLS policy")?;
    owner
        .apply_rls(&tables, &policy)
        .await
        .step("apply the generated RLS policy to `orders`")?;

    let naive = database.reader_role("naive", &[], &["orders"]).await?;
    execute(
        owner.pool(),
        &format!(
            "CREATE POLICY naive_isolation ON orders AS PERMISSIVE FOR ALL TO {role} \
             USING ({NAIVE_PREDICATE}) WITH CHECK ({NAIVE_PREDICATE})",
            role = quoted("role", naive.name())?
        ),
    )
    .await?;
    let sub_select = database.reader_role("sub_select", &[], &["orders"]).await?;
    execute(
        owner.pool(),
        &format!(
            "CREATE POLICY sub_select_isolation ON orders AS PERMISSIVE FOR ALL TO {role} \
             USING ({SUB_SELECT_PREDICATE}) WITH CHECK ({SUB_SELECT_PREDICATE})",
            role = quoted("role", sub_select.name())?
        ),
    )
    .await?;
    owner.pool().close().await;
    let off = database
        .reader_role("rls_off", &[RoleAttribute::BypassRls], &["orders"])
        .await?;
    database.checkpoint().await?;

    let admin = database
        .test_database()
        .admin_pool()
        .await
        .step("connect as the superuser")?;
    let app_url = database.test_database().app_url();
    let sessions = vec![
        Session::connect(GENERATED, &app_url, "bench-generated-policy", &admin).await?,
        Session::connect(NAIVE, naive.url(), "bench-naive-policy", &admin).await?,
        Session::connect(
            SUB_SELECT,
            sub_select.url(),
            "bench-sub-select-policy",
            &admin,
        )
        .await?,
        Session::connect(RLS_OFF, off.url(), "bench-rls-off", &admin).await?,
        Session::in_pool(
            GENERATED_GENERIC,
            &app_url,
            "bench-generated-generic",
            TenantPoolOptions::new(&tables).transaction_settings(generic_plans()),
            &admin,
        )
        .await?,
        Session::in_pool(
            RLS_OFF_GENERIC,
            off.url(),
            "bench-rls-off-generic",
            TenantPoolOptions::new(&tables)
                .transaction_settings(generic_plans())
                .allow_rls_bypassing_role("benchmark: the cost of no policy, with generic plans"),
            &admin,
        )
        .await?,
    ];
    admin.close().await;
    Ok((database, sessions))
}

/// What the generic-plan contenders' pools pin.
fn generic_plans() -> TransactionSettings {
    TransactionSettings::new().plan_cache_mode(PlanCacheMode::ForceGenericPlan)
}

/// Opens every session's transaction for `tenant`; returns a note.
async fn prepare(sessions: &mut [Session], tenant: PickedTenant) -> Result<String, BenchError> {
    for session in sessions.iter_mut() {
        session.begin_for(tenant.id).await?;
    }
    Ok(format!(
        "Tenant {} with {} rows; `app.tenant_id` set in every contender's transaction.",
        tenant.id, tenant.rows
    ))
}

async fn end(sessions: &mut [Session]) -> Result<(), BenchError> {
    for session in sessions.iter_mut() {
        session.commit().await?;
    }
    Ok(())
}

/// Every contender's plan for the statement, after the measurement (caches
/// warm, as they were while it ran).
async fn plans(
    sessions: &mut [Session],
    statement: &tenancy_sqlx::Statement,
    query: Query,
    size: &str,
) -> Result<Vec<Plan>, BenchError> {
    let mut plans = Vec::new();
    for session in sessions.iter_mut() {
        plans.push(Plan {
            title: format!(
                "Plan: {}, {size} tenant, {}",
                query.describe(),
                session.name()
            ),
            sql: statement.sql().to_owned(),
            text: session.explain(statement).await?,
        });
    }
    Ok(plans)
}
