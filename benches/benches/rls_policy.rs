//! The cost of the RLS policy's form: the generated policy (the setting
//! compared directly, which Citus accepts on distributed tables) vs the
//! generated array-membership form (`PolicyForm::ArrayMembership`) vs a
//! range form (`>=` and `<=` the setting) vs the same predicate behind a
//! sub-select (the setting read once per statement as an init plan: the
//! form generated before) vs a naive policy (the setting read and cast per
//! row, failing without one) vs no RLS at all, on a million rows of tenants
//! of very different sizes; the generated forms and no RLS again with
//! generic plans, pinned by the pool's `PlanCacheMode::ForceGenericPlan` in
//! the transaction's `BEGIN`; and raw SQL without a tenant predicate under
//! each form.

use std::time::Instant;

use tenancy_benches::data::{
    ORDER_ROWS, PickedTenant, SKEW, TENANTS, largest_and_smallest, load_orders, skewed_sizes,
};
use tenancy_benches::database::{BenchDatabase, execute, quoted};
use tenancy_benches::harness::{Settings, measure};
use tenancy_benches::results::{BenchResult, Load, Plan, Section, Unit};
use tenancy_benches::schema::Order;
use tenancy_benches::session::{Query, Session, Sql, same_outcome, same_sql_outcome};
use tenancy_benches::{BenchError, Step, run_main};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::{PolicyForm, RlsPolicy};
use tenancy_sqlx::testing::{APP_ROLE, RoleAttribute};
use tenancy_sqlx::{
    CrossTenant, Identifier, OwnerPool, PlanCacheMode, SettingName, TenantPoolOptions,
    TransactionSettings,
};

const GENERATED: &str = "generated policy";
const ARRAY: &str = "array-membership policy";
const RANGE: &str = "range policy";
const NAIVE: &str = "naive policy";
const SUB_SELECT: &str = "generated predicate behind a sub-select";
const RLS_OFF: &str = "RLS off (`BYPASSRLS` role)";
const GENERATED_GENERIC: &str = "generated policy, generic plans (pool option)";
const ARRAY_GENERIC: &str = "array-membership policy, generic plans (pool option)";
const RANGE_GENERIC: &str = "range policy, generic plans (pool option)";
const RLS_OFF_GENERIC: &str = "RLS off, generic plans (pool option)";

/// The contenders that run raw SQL without a tenant predicate in the raw
/// sections: every policy form (generic plans change nothing for SQL
/// without parameters). [`RLS_OFF`] runs the library's statement there,
/// the same rows with the explicit predicate, as the reference.
const RAW_CONTENDERS: [&str; 5] = [GENERATED, ARRAY, RANGE, SUB_SELECT, NAIVE];

/// The generated predicate, as `RlsPolicy` writes it.
const GENERATED_PREDICATE: &str =
    "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint";

/// The range form: the setting as both bounds of the tenant column. Like
/// the array form, no equality the planner could merge with the
/// statement's own; it reads the setting twice.
const RANGE_PREDICATE: &str = "tenant_id >= NULLIF(current_setting('app.tenant_id', true), '')::bigint \
     AND tenant_id <= NULLIF(current_setting('app.tenant_id', true), '')::bigint";

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
                    Settings::QUERIES.for_this_run(),
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
                    .ratio(&samples, ARRAY_GENERIC, RLS_OFF_GENERIC, Some(1.05))?
                    .ratio(&samples, RANGE_GENERIC, RLS_OFF_GENERIC, None)?
                    .ratio(&samples, GENERATED, RLS_OFF, None)?
                    .ratio(&samples, ARRAY, RLS_OFF, None)?
                    .ratio(&samples, RANGE, RLS_OFF, None)?
                    .ratio(&samples, ARRAY_GENERIC, GENERATED_GENERIC, None)?
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
        for query in [Query::List, Query::Count] {
            for (size, tenant) in [("large", large), ("small", small)] {
                sections.push(raw_section(runtime, &mut sessions, query, size, tenant)?);
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
         - **array-membership policy**: the predicate of \
         `RlsPolicy::with_form(PolicyForm::ArrayMembership)`: `USING ({array})`. An array \
         membership is no equality to the planner, so it does not merge with the \
         statement's `tenant_id = $1` into a check of the two values (a gating `Result` \
         node with a `One-Time Filter`, through which every row of the scan passes, as \
         the generated policy's plans below show): both are conditions of the same \
         index scan;\n\
         - **range policy**: `USING ({RANGE_PREDICATE})`, another form the planner does \
         not merge, offered for comparison only;\n\
         - **naive policy**: `USING ({NAIVE_PREDICATE})`, the form of many tutorials;\n\
         - **generated predicate behind a sub-select**: `USING ({SUB_SELECT_PREDICATE})`, \
         the form generated before Citus support, to show what the sub-select costs \
         or saves;\n\
         - **RLS off**: a role with `BYPASSRLS`, to which no policy applies: only the \
         explicit predicate filters;\n\
         - **…, generic plans**: the generated, array-membership, range and RLS-off \
         roles again, their transaction opened by a `TenantPool` (one connection) whose \
         `TransactionSettings::plan_cache_mode(PlanCacheMode::ForceGenericPlan)` puts \
         `SET LOCAL plan_cache_mode = 'force_generic_plan'` in the simple query of \
         `BEGIN`; the statement runs on the transaction's connection as on the others. \
         PostgreSQL then plans the prepared statement once, for any tenant, instead of \
         for every execution's values.\n\n\
         The last four sections run **raw SQL without a tenant predicate** \
         (`{RAW_LIST}` and `{RAW_COUNT}`), as SQL sent on a tenant transaction's \
         connection might, under each policy: the policy alone picks the tenant's rows. \
         The reference there is RLS off running the library's statement, which returns \
         the same rows. The raw SQL has no parameters, so the plan cache mode changes \
         nothing for it.\n\n\
         What the plans below show, form by form: under the generated (equality) policy \
         the library's statements get a `Result` node with a `One-Time Filter` comparing \
         the setting with `$1` above the scan, and every row the scan returns passes \
         through it, which is what a count of many rows pays for; under the \
         array-membership and range policies the setting is a second `Index Cond` on \
         `tenant_id` beside `tenant_id = $1`, the plan of RLS off. What remains of the \
         policies' cost on a small tenant is fixed per execution (the policy's \
         expression evaluated, RLS applied to the plan) and about the same for every \
         form. For raw SQL without a tenant predicate the equality policy makes the \
         tenant a constant the planner can order by, so the list reads \
         `(tenant_id, status, placed_at)` backwards and stops after 50 rows; under the \
         array-membership and range policies it cannot, and the list reads all of the \
         tenant's `open` rows and sorts them; the range policy's bounds also hide the \
         tenant's size from the planner, which then scans the whole table for the count.\n\n\
         Figures are per query, result decoding included; CPU time is this \
         process's thread plus the server backend. Note that sqlx prepares each \
         statement once per connection, and PostgreSQL then plans it again for every \
         execution when it expects a plan for the bound values to beat a generic one, \
         as it does here for tenants this different in size: the plans below show \
         what each execution plans.",
        large.rows,
        small.rows,
        array = array_predicate(),
    )
}

/// The generated array-membership predicate, as `RlsPolicy` writes it.
fn array_predicate() -> String {
    match Identifier::new("column", "tenant_id") {
        Ok(column) => {
            PolicyForm::ArrayMembership.predicate(&column, &SettingName::default(), "bigint")
        }
        Err(error) => format!("(unavailable: {error})"),
    }
}

/// Raw SQL without a tenant predicate: the list of the four workloads.
const RAW_LIST: &str =
    "SELECT * FROM orders WHERE status = 'open' ORDER BY placed_at DESC LIMIT 50";

/// Raw SQL without a tenant predicate: the count of the four workloads.
const RAW_COUNT: &str = "SELECT count(*) FROM orders WHERE status = 'open'";

/// `query` for `tenant` as raw SQL without a tenant predicate under every
/// policy form, against RLS off running the library's statement.
fn raw_section(
    runtime: &tokio::runtime::Runtime,
    sessions: &mut [Session],
    query: Query,
    size: &str,
    tenant: PickedTenant,
) -> Result<Section, BenchError> {
    let mut chosen: Vec<&mut Session> = sessions
        .iter_mut()
        .filter(|session| session.name() == RLS_OFF || RAW_CONTENDERS.contains(&session.name()))
        .collect();
    let library = Sql::from(&query.statement(tenant.id)?);
    let raw = Sql::raw(match query {
        Query::List => RAW_LIST,
        Query::Count => RAW_COUNT,
    });
    let sql: Vec<Sql> = chosen
        .iter()
        .map(|session| {
            if session.name() == RLS_OFF {
                library.clone()
            } else {
                raw.clone()
            }
        })
        .collect();
    runtime.block_on(async {
        for session in chosen.iter_mut() {
            session.begin_for(tenant.id).await?;
        }
        Ok::<_, BenchError>(())
    })?;
    let outcome = runtime.block_on(same_sql_outcome(&mut chosen, query, &sql))?;
    let samples = measure(
        Settings::QUERIES.for_this_run(),
        chosen
            .iter_mut()
            .zip(&sql)
            .map(|(session, sql)| session.sql_contender(runtime, query, sql.clone()))
            .collect(),
    )?;
    let mut section = Section {
        notes: vec![
            format!(
                "Tenant {} with {} rows. Every policy contender ran `{}`; {RLS_OFF} ran the \
                 library's statement with its tenant predicate.",
                tenant.id,
                tenant.rows,
                raw.text()
            ),
            format!(
                "Every contender returned the same result: {}.",
                outcome.describe()
            ),
        ],
        ..Section::new(
            format!(
                "raw SQL without a tenant predicate, {}, {size} tenant ({} rows)",
                query.describe(),
                tenant.rows
            ),
            Unit::Microseconds,
            &samples,
        )
    };
    for name in RAW_CONTENDERS {
        section.ratio(&samples, name, RLS_OFF, None)?;
    }
    section
        .ratio(&samples, ARRAY, GENERATED, None)?
        .ratio(&samples, RANGE, GENERATED, None)?;
    section.plans = runtime.block_on(async {
        let mut plans = Vec::new();
        for (session, sql) in chosen.iter_mut().zip(&sql) {
            plans.push(Plan {
                title: format!(
                    "Plan: raw SQL without a tenant predicate, {}, {size} tenant, {}",
                    query.describe(),
                    session.name()
                ),
                sql: sql.text().to_owned(),
                text: session.explain_sql(sql).await?,
            });
        }
        for session in chosen.iter_mut() {
            session.commit().await?;
        }
        Ok::<_, BenchError>(plans)
    })?;
    Ok(section)
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
    let array = database.reader_role("array", &[], &["orders"]).await?;
    let range = database.reader_role("range", &[], &["orders"]).await?;
    for (name, role, predicate) in [
        ("array_isolation", &array, array_predicate()),
        ("range_isolation", &range, RANGE_PREDICATE.to_owned()),
    ] {
        execute(
            owner.pool(),
            &format!(
                "CREATE POLICY {name} ON orders AS PERMISSIVE FOR ALL TO {role} \
                 USING ({predicate}) WITH CHECK ({predicate})",
                role = quoted("role", role.name())?
            ),
        )
        .await?;
    }
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
        Session::connect(ARRAY, array.url(), "bench-array-policy", &admin).await?,
        Session::connect(RANGE, range.url(), "bench-range-policy", &admin).await?,
        Session::in_pool(
            GENERATED_GENERIC,
            &app_url,
            "bench-generated-generic",
            TenantPoolOptions::new(&tables).transaction_settings(generic_plans()),
            &admin,
        )
        .await?,
        Session::in_pool(
            ARRAY_GENERIC,
            array.url(),
            "bench-array-generic",
            TenantPoolOptions::new(&tables).transaction_settings(generic_plans()),
            &admin,
        )
        .await?,
        Session::in_pool(
            RANGE_GENERIC,
            range.url(),
            "bench-range-generic",
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
