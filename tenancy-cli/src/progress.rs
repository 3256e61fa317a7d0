//! What a run shows while it runs, on stderr: a progress bar redrawn in
//! place on a terminal, one plain line per event otherwise (CI logs).

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tenancy_sqlx::migrate::Event;

/// The run's progress, shared with the runner's observer.
pub struct Progress {
    terminal: bool,
    total: usize,
    state: Mutex<State>,
}

struct State {
    done: usize,
    failed: usize,
    steps: usize,
    phase: &'static str,
    drawn: Option<Instant>,
}

/// How often the bar is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);

impl Progress {
    /// Progress over `total` targets: a bar if stderr is a terminal.
    pub fn new(total: usize) -> Arc<Self> {
        Arc::new(Progress {
            terminal: std::io::stderr().is_terminal(),
            total,
            state: Mutex::new(State {
                done: 0,
                failed: 0,
                steps: 0,
                phase: "",
                drawn: None,
            }),
        })
    }

    /// The observer to give the runner.
    pub fn observer(self: &Arc<Self>) -> impl Fn(&Event) + Send + Sync + 'static {
        let progress = Arc::clone(self);
        move |event: &Event| progress.on(event)
    }

    fn on(&self, event: &Event) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let line = match event {
            Event::Phase { name, targets } => {
                state.phase = name;
                Some(format!("{name}: {targets} targets"))
            }
            Event::TargetBusy { target } => {
                Some(format!("{target}: another runner is migrating it; waiting"))
            }
            Event::Applied { .. } | Event::Reverted { .. } => {
                state.steps += 1;
                None
            }
            Event::Retrying {
                target,
                version,
                attempt,
                wait,
                reason,
            } => Some(format!(
                "{target}: version {version}, attempt {attempt} gave up ({reason}); retrying in {} ms",
                wait.as_millis()
            )),
            Event::LockWait(wait) => Some(format!("lock wait: {wait}")),
            Event::TargetDone {
                target,
                version,
                failed,
            } => {
                state.done += 1;
                if *failed {
                    state.failed += 1;
                }
                let version =
                    version.map_or_else(|| "no version".to_owned(), |v| format!("version {v}"));
                match (*failed, self.terminal) {
                    (true, _) => Some(format!("{target}: FAILED, left at {version}")),
                    (false, false) => Some(format!("{target}: at {version}")),
                    (false, true) => None,
                }
            }
            Event::Stopping(reason) => Some(format!("stopping: {reason}")),
            _ => None,
        };
        let mut stderr = std::io::stderr().lock();
        if self.terminal {
            let now = Instant::now();
            let due = line.is_some() || state.drawn.is_none_or(|drawn| now - drawn >= REDRAW);
            if !due {
                return;
            }
            // Clear the bar, print the line above it, draw the bar again.
            let _ = write!(stderr, "\r\x1b[2K");
            if let Some(line) = line {
                let _ = writeln!(stderr, "{line}");
            }
            let _ = write!(stderr, "{}", self.bar(&state));
            state.drawn = Some(now);
        } else if let Some(line) = line {
            let _ = writeln!(stderr, "{line}");
        }
        let _ = stderr.flush();
    }

    fn bar(&self, state: &State) -> String {
        const WIDTH: usize = 30;
        let filled = (state.done * WIDTH)
            .checked_div(self.total)
            .unwrap_or(WIDTH)
            .min(WIDTH);
        format!(
            "[{}{}] {}/{} targets, {} failed, {} migrations{}",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled),
            state.done,
            self.total,
            state.failed,
            state.steps,
            if state.phase.is_empty() {
                String::new()
            } else {
                format!(" ({})", state.phase)
            }
        )
    }

    /// Clears the bar at the end of the run.
    pub fn finish(&self) {
        if self.terminal {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }
}
