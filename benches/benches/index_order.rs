//! Why every index leads with the tenant column (invariant 5): a tenant's
//! status query with an index led by `tenant_id` vs the same columns led by
//! `status` vs an index on `status` alone, as a single-tenant schema has it.

use std::time::Instant;

use tenancy_benches::data::{
    ORDER_ROWS, PickedTenant, SKEW, TENANTS, largest_and_smallest, load_orders, settle,
    skewed_sizes,
};
use tenancy_benches::database::{BenchDatabase, execute};
use tenancy_benches::harness::{Settings, measure};
use tenancy_benches::results::{BenchResult, Load, Plan, Section, Unit};
use tenancy_benches::session::{Query, Session, same_outcome};
use tenancy_benches::{BenchError, Step, run_main};

/// A schema holding one copy of `orders` with one index, and the contender
/// that reads it (by setting its `search_path` to the schema, so that every
/// contender runs the very same statement).
struct Layout {
    contender: &'static str,
    schema: &'static str,
    index: &'static str,
}

const TENANT_FIRST: Layout = Layout {
    contender: "tenant first: `(tenant_id, status, placed_at)`",
    schema: "tenant_first",
    index: "tenant_id, status, placed_at",
};
const STATUS_FIRST: Layout = Layout {
    contender: "status first: `(status, tenant_id, placed_at)`",
    schema: "status_first",
    index: "status, tenant_id, placed_at",
};
const STATUS_ONLY: Layout = Layout {
    contender: "status only: `(status, placed_at)`",
    schema: "status_only",
    index: "status, placed_at",
};
const LAYOUTS: [Layout; 3] = [TENANT_FIRST, STATUS_FIRST, STATUS_ONLY];

const COLUMNS: &str = "tenant_id bigint NOT NULL, id bigint NOT NULL, customer_id bigint NOT NULL, \
     status text NOT NULL, total bigint NOT NULL, placed_at bigint NOT NULL";

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
                sections.push(workload(runtime, &mut sessions, query, size, tenant)?);
            }
        }
        BenchResult {
            id: "index_order".to_owned(),
            title: "Index column order".to_owned(),
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
        "The data of the policy benchmark ({ORDER_ROWS} rows, {TENANTS} tenants, the \
         largest with {} rows, the smallest with {}) in three copies of `orders` that \
         differ only in their one index: no primary key, so that the index under test \
         is the only one the planner can use. Row Level Security is off: this measures \
         the index alone. Every contender runs the same statement, built by the library \
         (`tenant_id = $1 AND status = $2`), with its `search_path` set to its copy; \
         they take turns query by query. \"Status only\" is the index a schema \
         written for one tenant would have; \"status first\" has the same columns as \
         \"tenant first\" in another order.",
        large.rows, small.rows
    )
}

async fn set_up(sizes: &[u64]) -> Result<(BenchDatabase, Vec<Session>), BenchError> {
    let database = BenchDatabase::create().await?;
    let owner = database.owner_pool().await?;
    let [first, ..] = &LAYOUTS;
    for layout in &LAYOUTS {
        execute(&owner, &format!("CREATE SCHEMA {}", layout.schema)).await?;
    }
    execute(
        &owner,
        &format!("CREATE TABLE {}.orders ({COLUMNS})", first.schema),
    )
    .await?;
    load_orders(&owner, Some(first.schema), "orders", sizes).await?;
    for layout in &LAYOUTS[1..] {
        // A copy in the same physical order.
        execute(
            &owner,
            &format!(
                "CREATE TABLE {}.orders AS TABLE {}.orders",
                layout.schema, first.schema
            ),
        )
        .await?;
    }
    for layout in &LAYOUTS {
        execute(
            &owner,
            &format!(
                "CREATE INDEX ON {}.orders ({})",
                layout.schema, layout.index
            ),
        )
        .await?;
        settle(&owner, &format!("{}.orders", layout.schema)).await?;
    }
    owner.close().await;
    database.checkpoint().await?;

    let admin = database
        .test_database()
        .admin_pool()
        .await
        .step("connect as the superuser")?;
    let owner_url = database.test_database().owner_url();
    let mut sessions = Vec::new();
    for layout in &LAYOUTS {
        let application_name = format!("bench-index-{}", layout.schema);
        let mut session =
            Session::connect(layout.contender, &owner_url, &application_name, &admin).await?;
        session
            .execute(&format!("SET search_path = {}", layout.schema))
            .await?;
        sessions.push(session);
    }
    admin.close().await;
    Ok((database, sessions))
}

/// Measures `query` for `tenant` on every layout. Synchronous: the
/// harness drives the runtime batch by batch.
fn workload(
    runtime: &tokio::runtime::Runtime,
    sessions: &mut [Session],
    query: Query,
    size: &str,
    tenant: PickedTenant,
) -> Result<Section, BenchError> {
    // Each layout's copy of `orders` is in its own schema.
    let statements = LAYOUTS
        .iter()
        .map(|layout| query.statement_in(tenant.id, layout.schema))
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = runtime.block_on(same_outcome(sessions, query, &statements))?;
    let samples = measure(
        Settings::QUERIES,
        sessions
            .iter_mut()
            .zip(&statements)
            .map(|(session, statement)| session.contender(runtime, query, statement))
            .collect(),
    )?;
    let mut section = Section::new(
        format!("{}, {size} tenant ({} rows)", query.describe(), tenant.rows),
        Unit::Microseconds,
        &samples,
    );
    section
        .ratio(
            &samples,
            STATUS_FIRST.contender,
            TENANT_FIRST.contender,
            None,
        )?
        .ratio(
            &samples,
            STATUS_ONLY.contender,
            TENANT_FIRST.contender,
            None,
        )?;
    section.notes.push(format!(
        "Tenant {}; every contender returned the same result: {}.",
        tenant.id,
        outcome.describe()
    ));
    for (session, statement) in sessions.iter_mut().zip(&statements) {
        let counts = runtime.block_on(session.plan_counts(statement))?;
        section.notes.push(counts);
        section.plans.push(Plan {
            title: format!(
                "Plan: {}, {size} tenant, {}",
                query.describe(),
                session.name()
            ),
            sql: statement.sql().to_owned(),
            text: runtime.block_on(session.explain(statement))?,
        });
    }
    Ok(section)
}
