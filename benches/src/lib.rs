//! Benchmarks of tenancy against what its users would otherwise write.
//!
//! `scripts/bench` runs them all and writes `BENCHMARKS.md` from the run:
//!
//! | benchmark | compares |
//! |---|---|
//! | `transaction` | a tenant transaction through the library vs raw sqlx without and with a tenant setting, and vs `tenaxum` |
//! | `builder` | building a scoped statement vs hand-written sea-query vs a static SQL string |
//! | `rls_policy` | the generated RLS policy vs a naive one vs no RLS, on a million rows |
//! | `index_order` | a tenant's status query with an index led by `tenant_id` vs by `status` |
//! | `migrate` | the migration runner on 1,000 tenant schemas × 3 migrations at concurrency 1, 4 and 20 vs "one migration × batches" |
//! | `erasure` | erasing a tenant of 1,000,000 rows across 6 tables with `erase_tenant` vs a hand-written `DELETE` per table, by wall time and longest transaction |
//! | `neighbours` | 20 small tenants' latency while one tenant floods a pool of 8, with and without per-tenant limits, vs no flood |
//! | `compile-cost` (binary) | building 100 `#[tenant_scoped]` structs vs 100 plain `FromRow` structs, and with `--baseline <revision>` vs the same structs built against the tenancy crates of that revision |
//!
//! Each benchmark binary measures its contenders in interleaved rounds
//! ([`harness`]), so that ratios compare samples taken moments apart, and
//! saves its figures as JSON ([`results`]); the `bench-report` binary turns
//! them into the report ([`report`]). This library holds what they share.
//!
//! The transaction benchmark places its client and the server's backends on
//! chosen vCPUs ([`placement`]) and honours [`harness::SHORT_RUN_ENV`], which
//! shortens it to a few rounds to check that it works.

pub mod cpu;
pub mod data;
pub mod database;
pub mod error;
pub mod harness;
pub mod machine;
pub mod placement;
pub mod report;
pub mod results;
pub mod schema;
pub mod session;
pub mod stats;

pub use error::{BenchError, Step};

/// Runs a benchmark's `main` body with a single-threaded async runtime (one
/// client; the server gets the other core) and turns an error into a
/// message and exit code 1.
///
/// The body is synchronous: it calls `runtime.block_on` for set-up and, in
/// each contender, for a batch of iterations, so that the harness itself
/// never runs inside the runtime.
pub fn run_main(
    body: impl FnOnce(&tokio::runtime::Runtime) -> Result<(), BenchError>,
) -> std::process::ExitCode {
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .step("start the async runtime")
        .and_then(|runtime| body(&runtime));
    exit_code(outcome)
}

/// Runs an asynchronous benchmark body on two worker threads, for the
/// benchmarks whose contender runs beside tasks of its own (a sampler,
/// concurrent clients, a runner's workers), and turns an error into a
/// message and exit code 1.
pub fn run_async_main(
    body: impl std::future::Future<Output = Result<(), BenchError>>,
) -> std::process::ExitCode {
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .step("start the async runtime")
        .and_then(|runtime| runtime.block_on(body));
    exit_code(outcome)
}

fn exit_code(outcome: Result<(), BenchError>) -> std::process::ExitCode {
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("benchmark failed: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
