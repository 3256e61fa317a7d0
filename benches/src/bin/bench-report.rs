//! Writes `BENCHMARKS.md` from the results one run of `scripts/bench` saved.
//!
//! ```text
//! bench-report <results dir> <output file> <run start, Unix seconds> <command>
//! ```

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use tenancy_benches::machine::Machine;
use tenancy_benches::report::Report;
use tenancy_benches::results::BenchResult;
use tenancy_benches::{BenchError, Step};

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-report failed: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), BenchError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [results_dir, output, started, command] = args.as_slice() else {
        return Err(BenchError::message(
            "usage: bench-report <results dir> <output file> <run start, Unix seconds> <command>",
        ));
    };
    let started: i64 = started
        .parse()
        .step(format!("read the start time `{started}`"))?;
    let start = DateTime::<Utc>::from_timestamp(started, 0)
        .ok_or_else(|| BenchError::message(format!("{started} is not a valid time")))?;
    let results = load_all(&PathBuf::from(results_dir))?;
    if results.is_empty() {
        return Err(BenchError::message(format!(
            "no results in {results_dir}: did the benchmarks run with TENANCY_BENCH_RESULTS set?"
        )));
    }
    let total = Utc::now().signed_duration_since(start);
    let report = Report {
        machine: Machine::describe(),
        date: start.format("%Y-%m-%d %H:%M UTC").to_string(),
        total_seconds: total.num_milliseconds() as f64 / 1000.0,
        command: command.clone(),
        results,
    };
    std::fs::write(output, report.render()).step(format!("write {output}"))?;
    println!("wrote {output}");
    Ok(())
}

/// Every `*.json` result in `dir`.
fn load_all(dir: &PathBuf) -> Result<Vec<BenchResult>, BenchError> {
    let mut results = Vec::new();
    let entries = std::fs::read_dir(dir).step(format!("list {}", dir.display()))?;
    for entry in entries {
        let path = entry.step(format!("list {}", dir.display()))?.path();
        if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            results.push(BenchResult::load(&path)?);
        }
    }
    Ok(results)
}
