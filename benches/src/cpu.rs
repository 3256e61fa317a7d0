//! CPU time spent on a piece of work: by this thread (the client) and by the
//! PostgreSQL backends serving one contender's connections.
//!
//! Backends are found by the `application_name` each contender's pool
//! connects with; their CPU time is read from `/proc/<pid>/schedstat`, so it
//! is only available when the server runs on this machine (the throwaway
//! cluster does).

use std::path::PathBuf;
use std::time::Duration;

use sqlx::PgPool;

use crate::error::{BenchError, Step};

/// CPU time this thread has used so far.
pub fn client_thread() -> Duration {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    // The clock counts from thread start: both parts are non-negative.
    Duration::new(
        u64::try_from(time.tv_sec).unwrap_or_default(),
        u32::try_from(time.tv_nsec).unwrap_or_default(),
    )
}

/// CPU time (user and system) of this process's children that have ended
/// and been waited for, and of their own waited-for descendants: a
/// `cargo build` and the compilers it ran. Resolution: 10 ms.
pub fn finished_children() -> Result<Duration, BenchError> {
    let stat = std::fs::read_to_string("/proc/self/stat").step("read /proc/self/stat")?;
    children_ticks(&stat)
        // `/proc` counts in USER_HZ, which Linux fixes at 100 per second.
        .map(|ticks| Duration::from_millis(ticks * 10))
        .ok_or_else(|| BenchError::message(format!("unexpected /proc/self/stat: {stat}")))
}

/// `cutime + cstime` (fields 16 and 17) of `/proc/<pid>/stat`, in ticks.
fn children_ticks(stat: &str) -> Option<u64> {
    // The command name may contain spaces and parentheses: count fields
    // from its closing parenthesis, after which field 3 starts.
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |number: usize| fields.get(number - 3)?.parse::<u64>().ok();
    Some(field(16)? + field(17)?)
}

/// The server processes behind one contender's pool.
#[derive(Debug, Clone)]
pub struct Backends {
    application_name: String,
    pids: Vec<i32>,
    schedstat: Vec<PathBuf>,
}

impl Backends {
    /// The backends connected with `application_name`, looked up through
    /// `admin` (a superuser sees every session). `None` when the server's
    /// processes are not visible from here (a server on another machine).
    pub async fn of_application(
        admin: &PgPool,
        application_name: &str,
        expected: usize,
    ) -> Result<Option<Self>, BenchError> {
        let pids: Vec<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid",
        )
        .bind(application_name)
        .fetch_all(admin)
        .await
        .step(format!("find the backends of `{application_name}`"))?;
        if pids.len() != expected {
            return Err(BenchError::message(format!(
                "expected {expected} connections named `{application_name}`, found {}: \
                 a pool did not open all its connections",
                pids.len()
            )));
        }
        let schedstat: Vec<PathBuf> = pids
            .iter()
            .map(|pid| PathBuf::from(format!("/proc/{pid}/schedstat")))
            .collect();
        if !schedstat.iter().all(|path| path.exists()) {
            return Ok(None);
        }
        Ok(Some(Backends {
            application_name: application_name.to_owned(),
            pids,
            schedstat,
        }))
    }

    /// The backends' process ids.
    pub fn pids(&self) -> &[i32] {
        &self.pids
    }

    /// CPU time these backends have used so far. Read while they are idle,
    /// the figure is exact.
    pub fn cpu(&self) -> Result<Duration, BenchError> {
        let mut total = 0_u64;
        for path in &self.schedstat {
            let text = std::fs::read_to_string(path).step(format!(
                "read the CPU time of a backend of `{}` ({}); did its connection close?",
                self.application_name,
                path.display()
            ))?;
            total += parse_schedstat(&text).ok_or_else(|| {
                BenchError::message(format!("unexpected content of {}: {text}", path.display()))
            })?;
        }
        Ok(Duration::from_nanos(total))
    }
}

/// The first field of `schedstat`: nanoseconds spent on a CPU.
fn parse_schedstat(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedstat_starts_with_cpu_nanoseconds() {
        assert_eq!(
            parse_schedstat("101518182 231242069 265\n"),
            Some(101_518_182)
        );
        assert_eq!(parse_schedstat(""), None);
    }

    #[test]
    fn children_times_follow_the_command_name() {
        let stat = "4242 (cargo (x)) S 1 2 3 4 5 6 7 8 9 10 11 12 300 45 20 0 1";
        assert_eq!(children_ticks(stat), Some(345));
        assert_eq!(children_ticks("garbage"), None);
    }

    #[test]
    fn the_thread_clock_advances_with_work() {
        let before = client_thread();
        let sum: u64 = (0..2_000_000_u64).map(std::hint::black_box).sum();
        assert!(sum > 0);
        assert!(client_thread() > before);
    }
}
