//! Contenders measured side by side, in interleaved rounds.
//!
//! A harness that measures one benchmark after another (criterion's way)
//! lets the machine's load change between contenders: on a shared two-core
//! machine a ratio of two medians taken a minute apart measures the load as
//! much as the code. Here every round takes one sample of every contender, in
//! an order that rotates from round to round, so the samples a ratio compares
//! were taken milliseconds apart. A contender's figure is the median of its
//! samples; a ratio is the median of the per-round ratios.
//!
//! A contender may also report the CPU time a sample cost (the client's
//! thread and the database server's backends): unlike wall time, it hardly
//! changes with the load of the machine, so it shows small differences in
//! cost that waiting for a CPU would hide.

use std::time::{Duration, Instant};

use crate::error::BenchError;
use crate::stats::{Summary, summarize};

/// What one sample cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Wall time of the iterations, set-up excluded.
    pub wall: Duration,
    /// CPU time they cost, if the contender measures it.
    pub cpu: Option<Duration>,
}

impl From<Duration> for Timing {
    fn from(wall: Duration) -> Self {
        Timing { wall, cpu: None }
    }
}

/// Runs `iterations` iterations of one contender and returns what they cost.
type RunBatch<'a> = Box<dyn FnMut(u64) -> Result<Timing, BenchError> + 'a>;

/// One of the things compared: a name and a way to run a batch of iterations.
pub struct Contender<'a> {
    name: String,
    run: RunBatch<'a>,
}

impl<'a> Contender<'a> {
    /// A contender whose `run(n)` performs `n` iterations and returns what
    /// they cost (measured by the contender, so that per-batch set-up, such
    /// as entering an async runtime, stays outside the measurement).
    pub fn new(
        name: impl Into<String>,
        run: impl FnMut(u64) -> Result<Timing, BenchError> + 'a,
    ) -> Self {
        Contender {
            name: name.into(),
            run: Box::new(run),
        }
    }

    /// A contender for cheap, synchronous work: `iteration` is timed `n`
    /// times in a tight loop, its output passed through
    /// [`std::hint::black_box`] so that it is not optimised away.
    pub fn sync<T>(name: impl Into<String>, mut iteration: impl FnMut() -> T + 'a) -> Self {
        Contender::new(name, move |iterations| {
            let start = Instant::now();
            for _ in 0..iterations {
                std::hint::black_box(iteration());
            }
            Ok(start.elapsed().into())
        })
    }

    /// The contender's name, as reported.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Rounds whose samples are thrown away: caches, connections and plans
    /// warm up, and the batch size is calibrated.
    pub warmup_rounds: usize,
    /// Rounds measured; each gives one sample per contender.
    pub rounds: usize,
    /// The time one sample should take; the number of iterations per sample
    /// is chosen per contender to come close to it. Zero: one iteration per
    /// sample.
    pub sample_time: Duration,
    /// Stop measuring after this long, once [`MIN_ROUNDS`] rounds are in:
    /// slow contenders get fewer rounds rather than an endless run.
    pub time_budget: Option<Duration>,
}

/// Rounds measured at least, whatever the time budget.
pub const MIN_ROUNDS: usize = 31;

/// Set (to anything) to run benchmarks that honour it in a short
/// configuration, which proves they work but measures little:
/// [`Settings::for_this_run`].
pub const SHORT_RUN_ENV: &str = "TENANCY_BENCH_SHORT";

/// Rounds of a short run.
const SHORT_ROUNDS: usize = 5;

impl Settings {
    /// These settings, or a few rounds of them when [`SHORT_RUN_ENV`] is
    /// set.
    #[must_use]
    pub fn for_this_run(self) -> Settings {
        if std::env::var_os(SHORT_RUN_ENV).is_some() {
            self.shortened()
        } else {
            self
        }
    }

    fn shortened(self) -> Settings {
        Settings {
            warmup_rounds: self.warmup_rounds.min(2),
            rounds: self.rounds.min(SHORT_ROUNDS),
            ..self
        }
    }

    /// For work that takes nanoseconds to microseconds.
    pub const MICRO: Settings = Settings {
        warmup_rounds: 5,
        rounds: 101,
        sample_time: Duration::from_millis(2),
        time_budget: None,
    };

    /// For whole transactions (a fraction of a millisecond each): one
    /// transaction per sample, so that contenders alternate transaction by
    /// transaction and share whatever load the machine has at that moment;
    /// many rounds make the medians steady despite the noise of single
    /// samples.
    pub const TRANSACTIONS: Settings = Settings {
        warmup_rounds: 30,
        rounds: 1001,
        sample_time: Duration::ZERO,
        time_budget: Some(Duration::from_secs(60)),
    };

    /// For single queries, from a tenth of a millisecond to tens of
    /// milliseconds: one query per sample, like [`Settings::TRANSACTIONS`].
    pub const QUERIES: Settings = Settings {
        warmup_rounds: 20,
        rounds: 1001,
        sample_time: Duration::ZERO,
        time_budget: Some(Duration::from_secs(15)),
    };
}

/// The samples of one contender: time per iteration, one value per round.
#[derive(Debug, Clone)]
pub struct Samples {
    /// The contender's name.
    pub name: String,
    /// Iterations per sample, after calibration.
    pub iterations: u64,
    /// Nanoseconds per iteration, one value per round, in round order.
    pub nanos_per_iteration: Vec<f64>,
    /// CPU nanoseconds per iteration, one value per round, if the contender
    /// measured them.
    pub cpu_nanos_per_iteration: Option<Vec<f64>>,
}

impl Samples {
    /// The CPU-time samples in place of the wall-time ones, if measured.
    pub fn cpu(&self) -> Option<Samples> {
        self.cpu_nanos_per_iteration.as_ref().map(|cpu| Samples {
            name: self.name.clone(),
            iterations: self.iterations,
            nanos_per_iteration: cpu.clone(),
            cpu_nanos_per_iteration: None,
        })
    }

    /// Median and quartiles of the time per iteration, in nanoseconds.
    pub fn summary(&self) -> Summary {
        summarize(&self.nanos_per_iteration)
    }

    /// Median and quartiles of `self / other`, round by round: the samples
    /// compared were taken within the same round.
    ///
    /// Fails if the two were not measured in the same run.
    pub fn ratio_to(&self, other: &Samples) -> Result<Summary, BenchError> {
        if self.nanos_per_iteration.len() != other.nanos_per_iteration.len() {
            return Err(BenchError::message(format!(
                "cannot pair the samples of `{}` ({} rounds) with those of `{}` ({} rounds): \
                 measure them in one call of `measure`",
                self.name,
                self.nanos_per_iteration.len(),
                other.name,
                other.nanos_per_iteration.len()
            )));
        }
        let ratios: Vec<f64> = self
            .nanos_per_iteration
            .iter()
            .zip(&other.nanos_per_iteration)
            .map(|(mine, theirs)| mine / theirs)
            .collect();
        Ok(summarize(&ratios))
    }
}

/// Measures every contender in interleaved rounds (see the module docs) and
/// returns their samples in the order given.
pub fn measure(
    settings: Settings,
    contenders: Vec<Contender<'_>>,
) -> Result<Vec<Samples>, BenchError> {
    let mut contenders = contenders;
    let count = contenders.len();
    let mut iterations = vec![1_u64; count];
    for round in 0..settings.warmup_rounds {
        for index in rotation(round, count) {
            let contender = &mut contenders[index];
            let timing = run(contender, iterations[index])?;
            iterations[index] = calibrate(iterations[index], timing.wall, settings.sample_time);
        }
    }
    let mut samples: Vec<Samples> = contenders
        .iter()
        .zip(&iterations)
        .map(|(contender, &iterations)| Samples {
            name: contender.name.clone(),
            iterations,
            nanos_per_iteration: Vec::with_capacity(settings.rounds),
            cpu_nanos_per_iteration: Some(Vec::with_capacity(settings.rounds)),
        })
        .collect();
    let started = Instant::now();
    for round in 0..settings.rounds {
        let over_budget = settings
            .time_budget
            .is_some_and(|budget| started.elapsed() > budget);
        if over_budget && round >= MIN_ROUNDS {
            break;
        }
        for index in rotation(round, count) {
            let timing = run(&mut contenders[index], iterations[index])?;
            let per_iteration = |time: Duration| time.as_nanos() as f64 / iterations[index] as f64;
            let samples = &mut samples[index];
            samples.nanos_per_iteration.push(per_iteration(timing.wall));
            // A contender measures CPU time in every sample or in none.
            match (timing.cpu, &mut samples.cpu_nanos_per_iteration) {
                (Some(cpu), Some(series)) => series.push(per_iteration(cpu)),
                _ => samples.cpu_nanos_per_iteration = None,
            }
        }
    }
    Ok(samples)
}

fn run(contender: &mut Contender<'_>, iterations: u64) -> Result<Timing, BenchError> {
    (contender.run)(iterations).map_err(|error| error.context(format!("run `{}`", contender.name)))
}

/// The order of the contenders in `round`: every round starts with the next
/// one, so none is always first (after an idle moment) or last.
fn rotation(round: usize, count: usize) -> impl Iterator<Item = usize> {
    (0..count).map(move |offset| (round + offset) % count)
}

/// The number of iterations that makes a sample take about `target`, given
/// that `iterations` took `elapsed`. It changes by at most a factor of 100
/// per step, so one odd sample cannot throw it far off.
fn calibrate(iterations: u64, elapsed: Duration, target: Duration) -> u64 {
    let per_iteration = elapsed.as_secs_f64() / iterations as f64;
    if per_iteration <= 0.0 {
        return iterations.saturating_mul(100);
    }
    let wanted = (target.as_secs_f64() / per_iteration).round();
    let wanted = wanted.clamp(iterations as f64 / 100.0, iterations as f64 * 100.0);
    // Saturating casts: the clamp keeps the value in range anyway.
    (wanted as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_rotate_the_starting_contender() {
        let orders: Vec<Vec<usize>> = (0..3).map(|round| rotation(round, 3).collect()).collect();
        assert_eq!(orders, [[0, 1, 2], [1, 2, 0], [2, 0, 1]]);
    }

    #[test]
    fn calibration_aims_at_the_sample_time() {
        let target = Duration::from_millis(2);
        assert_eq!(calibrate(10, Duration::from_micros(200), target), 100);
        assert_eq!(calibrate(1, Duration::from_millis(10), target), 1);
        // Never more than a factor of 100 at once.
        assert_eq!(calibrate(1, Duration::from_nanos(1), target), 100);
    }

    #[test]
    fn every_contender_gets_one_sample_per_round() -> Result<(), BenchError> {
        let settings = Settings {
            warmup_rounds: 2,
            rounds: 7,
            sample_time: Duration::from_micros(50),
            time_budget: None,
        };
        let mut calls = 0;
        let samples = measure(
            settings,
            vec![
                Contender::sync("sum", || (0..100_u64).sum::<u64>()),
                Contender::new("fixed", |iterations| {
                    calls += 1;
                    Ok(Timing {
                        wall: Duration::from_nanos(500 * iterations),
                        cpu: Some(Duration::from_nanos(200 * iterations)),
                    })
                }),
            ],
        )?;
        assert_eq!(calls, 9);
        assert_eq!(samples.len(), 2);
        assert!(samples.iter().all(|s| s.nanos_per_iteration.len() == 7));
        assert_eq!(samples[1].summary().median, 500.0);
        assert_eq!(samples[1].name, "fixed");
        let cpu = samples[1].cpu().map(|cpu| cpu.summary().median);
        assert_eq!(cpu, Some(200.0));
        assert!(samples[0].cpu().is_none());
        Ok(())
    }

    #[test]
    fn a_time_budget_cuts_rounds_short_but_not_below_the_minimum() -> Result<(), BenchError> {
        let settings = Settings {
            warmup_rounds: 0,
            rounds: 1000,
            sample_time: Duration::ZERO,
            time_budget: Some(Duration::ZERO),
        };
        let samples = measure(settings, vec![Contender::sync("noop", || 1)])?;
        assert_eq!(samples[0].nanos_per_iteration.len(), MIN_ROUNDS);
        Ok(())
    }

    #[test]
    fn a_short_run_keeps_a_few_rounds() {
        let short = Settings::TRANSACTIONS.shortened();
        assert_eq!((short.warmup_rounds, short.rounds), (2, SHORT_ROUNDS));
        assert_eq!(short.time_budget, Settings::TRANSACTIONS.time_budget);
        let tiny = Settings {
            warmup_rounds: 0,
            rounds: 3,
            ..Settings::MICRO
        }
        .shortened();
        assert_eq!((tiny.warmup_rounds, tiny.rounds), (0, 3));
    }

    #[test]
    fn ratios_pair_samples_round_by_round() -> Result<(), BenchError> {
        let a = Samples {
            name: "a".into(),
            iterations: 1,
            nanos_per_iteration: vec![10.0, 20.0, 40.0],
            cpu_nanos_per_iteration: None,
        };
        let b = Samples {
            name: "b".into(),
            iterations: 1,
            nanos_per_iteration: vec![5.0, 20.0, 10.0],
            cpu_nanos_per_iteration: None,
        };
        assert_eq!(a.ratio_to(&b)?.median, 2.0);
        let short = Samples {
            nanos_per_iteration: vec![1.0],
            ..b
        };
        assert!(a.ratio_to(&short).is_err());
        Ok(())
    }

    #[test]
    fn a_failing_contender_is_named_in_the_error() {
        let failing = Contender::new("broken", |_| Err(BenchError::message("no server")));
        let error = measure(Settings::MICRO, vec![failing]).err();
        let text = error.map(|error| error.to_string()).unwrap_or_default();
        assert!(text.contains("`broken`"), "{text}");
        assert!(text.contains("no server"), "{text}");
    }
}
