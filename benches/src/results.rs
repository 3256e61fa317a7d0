//! What a benchmark found, written as JSON for the report, and printed.
//!
//! Every benchmark binary saves one [`BenchResult`] to
//! `$TENANCY_BENCH_RESULTS/<id>.json` when that variable is set
//! (`scripts/bench` sets it), and prints the same figures either way. The
//! report is rendered from these files only: no figure is typed by hand.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{BenchError, Step};
use crate::harness::Samples;
use crate::machine::load_average;
use crate::stats::Summary;

/// The environment variable naming the directory results are saved to.
pub const RESULTS_DIR_ENV: &str = "TENANCY_BENCH_RESULTS";

/// Everything one benchmark binary measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchResult {
    /// The file name and the report's anchor: `transaction`, `builder`, ...
    pub id: String,
    /// The report's heading for it.
    pub title: String,
    /// What is measured and how, in Markdown.
    pub description: String,
    /// `SELECT version()` of the server measured against, if any.
    pub postgres: Option<String>,
    /// Wall time of the whole benchmark, set-up included, in seconds.
    pub elapsed_seconds: f64,
    /// How busy the shared machine was when the benchmark started and
    /// ended.
    pub load: Load,
    /// One table per workload.
    pub sections: Vec<Section>,
}

/// The machine's load averages over 1, 5 and 15 minutes, as
/// `/proc/loadavg` prints them, when a benchmark started and when it saved
/// its results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Load {
    /// When the benchmark started.
    pub start: Option<String>,
    /// When it ended: set by [`BenchResult::save`].
    pub end: Option<String>,
}

impl Load {
    /// The load now, as the start of a benchmark.
    pub fn at_start() -> Self {
        Load {
            start: load_average(),
            end: None,
        }
    }
}

/// One workload: its contenders side by side, the ratios between them, and
/// the query plans behind them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Section {
    /// The workload, e.g. "one statement per transaction".
    pub title: String,
    /// Measured rounds (each one sample per contender).
    pub rounds: usize,
    /// The unit the figures are shown in.
    pub unit: Unit,
    /// The contenders, in the order shown.
    pub contenders: Vec<ContenderResult>,
    /// Ratios between contenders; below 1 means the numerator is faster.
    pub ratios: Vec<RatioResult>,
    /// `EXPLAIN (ANALYZE, BUFFERS)` output behind the figures.
    pub plans: Vec<Plan>,
    /// Remarks generated from the run (row counts, plan changes, ...).
    pub notes: Vec<String>,
}

/// How to show times in a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    /// Nanoseconds.
    Nanoseconds,
    /// Microseconds.
    Microseconds,
    /// Milliseconds.
    Milliseconds,
    /// Seconds.
    Seconds,
}

impl Unit {
    /// The unit's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Nanoseconds => "ns",
            Unit::Microseconds => "µs",
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
        }
    }

    /// Nanoseconds expressed in this unit.
    pub fn from_nanos(self, nanos: f64) -> f64 {
        match self {
            Unit::Nanoseconds => nanos,
            Unit::Microseconds => nanos / 1e3,
            Unit::Milliseconds => nanos / 1e6,
            Unit::Seconds => nanos / 1e9,
        }
    }
}

/// One contender's time per iteration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContenderResult {
    /// The contender's name.
    pub name: String,
    /// Wall time per iteration in nanoseconds: median and quartiles over
    /// rounds.
    pub nanos: Summary,
    /// CPU time per iteration (client and server) in nanoseconds, if
    /// measured.
    pub cpu_nanos: Option<Summary>,
    /// Iterations per sample.
    pub iterations: u64,
}

/// `numerator / denominator`, paired round by round.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RatioResult {
    /// The contender divided.
    pub numerator: String,
    /// The contender divided by.
    pub denominator: String,
    /// Median and quartiles of the per-round ratios of wall time.
    pub ratio: Summary,
    /// The same for CPU time, if both contenders measured it.
    pub cpu_ratio: Option<Summary>,
    /// The ratio the project aims for, if any: met when the median is at or
    /// below it.
    pub goal: Option<f64>,
}

impl RatioResult {
    /// Whether the goal is met by wall time; `None` without a goal.
    pub fn goal_met(&self) -> Option<bool> {
        self.goal.map(|goal| self.ratio.median <= goal)
    }

    /// Whether the goal is met by CPU time; `None` without a goal or CPU
    /// figures.
    pub fn cpu_goal_met(&self) -> Option<bool> {
        self.goal
            .zip(self.cpu_ratio)
            .map(|(goal, ratio)| ratio.median <= goal)
    }
}

/// A query plan, as PostgreSQL printed it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// What the plan is of: contender, query and tenant.
    pub title: String,
    /// The SQL explained.
    pub sql: String,
    /// The `EXPLAIN` output.
    pub text: String,
}

impl Section {
    /// A section of `samples` (from one [`measure`](crate::harness::measure)
    /// call), without ratios yet.
    pub fn new(title: impl Into<String>, unit: Unit, samples: &[Samples]) -> Self {
        Section {
            title: title.into(),
            rounds: samples
                .first()
                .map_or(0, |first| first.nanos_per_iteration.len()),
            unit,
            contenders: samples
                .iter()
                .map(|samples| ContenderResult {
                    name: samples.name.clone(),
                    nanos: samples.summary(),
                    cpu_nanos: samples.cpu().map(|cpu| cpu.summary()),
                    iterations: samples.iterations,
                })
                .collect(),
            ratios: Vec::new(),
            plans: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds the ratio `numerator / denominator` of two of `samples`, with an
    /// optional goal.
    pub fn ratio(
        &mut self,
        samples: &[Samples],
        numerator: &str,
        denominator: &str,
        goal: Option<f64>,
    ) -> Result<&mut Self, BenchError> {
        let find = |name: &str| {
            samples
                .iter()
                .find(|samples| samples.name == name)
                .ok_or_else(|| {
                    BenchError::message(format!(
                        "no contender named `{name}` in section `{}`",
                        self.title
                    ))
                })
        };
        let (numerator_samples, denominator_samples) = (find(numerator)?, find(denominator)?);
        let ratio = numerator_samples.ratio_to(denominator_samples)?;
        let cpu_ratio = match (numerator_samples.cpu(), denominator_samples.cpu()) {
            (Some(mine), Some(theirs)) => Some(mine.ratio_to(&theirs)?),
            _ => None,
        };
        self.ratios.push(RatioResult {
            numerator: numerator.to_owned(),
            denominator: denominator.to_owned(),
            ratio,
            cpu_ratio,
            goal,
        });
        Ok(self)
    }
}

impl BenchResult {
    /// Records the machine's load as the end of the benchmark (unless
    /// recorded already), prints the figures and, if [`RESULTS_DIR_ENV`] is
    /// set, saves them there as `<id>.json`.
    pub fn save(mut self) -> Result<(), BenchError> {
        if self.load.end.is_none() {
            self.load.end = load_average();
        }
        print!("{}", self.summary_text());
        let Some(dir) = std::env::var_os(RESULTS_DIR_ENV) else {
            return Ok(());
        };
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).step(format!("create {}", dir.display()))?;
        let path = dir.join(format!("{}.json", self.id));
        let json = serde_json::to_string_pretty(&self).step("serialise the results")?;
        std::fs::write(&path, json).step(format!("write {}", path.display()))?;
        println!("saved {}", path.display());
        Ok(())
    }

    /// Reads a result saved by [`save`](Self::save).
    pub fn load(path: &Path) -> Result<Self, BenchError> {
        let json = std::fs::read_to_string(path).step(format!("read {}", path.display()))?;
        serde_json::from_str(&json).step(format!("parse {}", path.display()))
    }

    /// The figures as plain text, for the terminal.
    pub fn summary_text(&self) -> String {
        let mut text = format!("\n== {} ==\n", self.title);
        for section in &self.sections {
            let unit = section.unit;
            text.push_str(&format!(
                "-- {} ({} rounds)\n",
                section.title, section.rounds
            ));
            for contender in &section.contenders {
                let cpu = contender
                    .cpu_nanos
                    .map(|cpu| format!("  cpu {:.3}", unit.from_nanos(cpu.median)))
                    .unwrap_or_default();
                text.push_str(&format!(
                    "  {:<58} {:>11.3} {}  [{:.3} .. {:.3}]{cpu}\n",
                    contender.name,
                    unit.from_nanos(contender.nanos.median),
                    unit.symbol(),
                    unit.from_nanos(contender.nanos.q1),
                    unit.from_nanos(contender.nanos.q3),
                ));
            }
            for ratio in &section.ratios {
                let verdict = match ratio.goal_met() {
                    Some(true) => format!("  goal <= {:.2}: met", ratio.goal.unwrap_or_default()),
                    Some(false) => {
                        format!("  goal <= {:.2}: MISSED", ratio.goal.unwrap_or_default())
                    }
                    None => String::new(),
                };
                let cpu = ratio
                    .cpu_ratio
                    .map(|cpu| format!("  cpu {:.3} [{:.3} .. {:.3}]", cpu.median, cpu.q1, cpu.q3))
                    .unwrap_or_default();
                text.push_str(&format!(
                    "  {} / {} = {:.3}  [{:.3} .. {:.3}]{cpu}{verdict}\n",
                    ratio.numerator,
                    ratio.denominator,
                    ratio.ratio.median,
                    ratio.ratio.q1,
                    ratio.ratio.q3
                ));
            }
            for note in &section.notes {
                text.push_str(&format!("  note: {note}\n"));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(name: &str, values: &[f64]) -> Samples {
        Samples {
            name: name.into(),
            iterations: 10,
            nanos_per_iteration: values.to_vec(),
            cpu_nanos_per_iteration: None,
        }
    }

    #[test]
    fn sections_pair_contenders_by_name() -> Result<(), BenchError> {
        let all = [samples("fast", &[1.0, 2.0]), samples("slow", &[2.0, 4.0])];
        let mut section = Section::new("work", Unit::Nanoseconds, &all);
        section.ratio(&all, "fast", "slow", Some(1.0))?;
        assert_eq!(section.rounds, 2);
        assert_eq!(section.ratios[0].ratio.median, 0.5);
        assert_eq!(section.ratios[0].goal_met(), Some(true));
        assert!(section.ratio(&all, "fast", "missing", None).is_err());
        Ok(())
    }

    #[test]
    fn units_convert_from_nanoseconds() {
        assert_eq!(Unit::Microseconds.from_nanos(1500.0), 1.5);
        assert_eq!(Unit::Seconds.symbol(), "s");
    }
}
