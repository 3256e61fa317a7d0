//! Where the client and its server backends run.
//!
//! On a small VM the placement of the two processes of a round trip weighs
//! more than anything a contender does: a prepared point select costs a
//! fraction on a shared vCPU of what it costs across two, where every
//! round trip wakes the other vCPU. Left to the scheduler, a contender's
//! figure depends on where its connections happened to land. The
//! benchmarks therefore pin this process's thread and the contenders'
//! backends (`sched_setaffinity`, what `taskset` does) and report each
//! placement separately.

use rustix::thread::{CpuSet, Pid, sched_getaffinity, sched_setaffinity};

use crate::error::{BenchError, Step};

/// Where the client thread and the server backends run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Client and backends share one vCPU: a round trip is a context
    /// switch.
    SameCpu,
    /// The client on one vCPU, the backends on another: a round trip
    /// crosses between them.
    SeparateCpus,
}

impl Placement {
    /// Both placements, in the order reported.
    pub const ALL: [Placement; 2] = [Placement::SameCpu, Placement::SeparateCpus];

    /// How the report names it.
    pub fn describe(self) -> &'static str {
        match self {
            Placement::SameCpu => "client and server on the same vCPU",
            Placement::SeparateCpus => "client and server on different vCPUs",
        }
    }
}

/// The vCPUs this process may run on, as the placements use them.
#[derive(Debug, Clone, Copy)]
pub struct Cpus {
    client: usize,
    other: Option<usize>,
}

impl Cpus {
    /// The first two vCPUs this process may run on (its affinity when it
    /// started, which `taskset` around the benchmark narrows).
    pub fn available() -> Result<Self, BenchError> {
        let allowed = sched_getaffinity(None).step("read this process's CPU affinity")?;
        let mut cpus = (0..CpuSet::MAX_CPU).filter(|&cpu| allowed.is_set(cpu));
        let client = cpus
            .next()
            .ok_or_else(|| BenchError::message("this process may run on no CPU"))?;
        Ok(Cpus {
            client,
            other: cpus.next(),
        })
    }

    /// Whether `placement` can be arranged: separate vCPUs need two.
    pub fn supports(self, placement: Placement) -> bool {
        placement == Placement::SameCpu || self.other.is_some()
    }

    /// Pins the calling thread (the benchmark's client: its async runtime
    /// runs on this one thread) and the processes `backends` as
    /// `placement` says.
    pub fn place(
        self,
        placement: Placement,
        backends: impl IntoIterator<Item = i32>,
    ) -> Result<(), BenchError> {
        let server = match placement {
            Placement::SameCpu => self.client,
            Placement::SeparateCpus => self.other.ok_or_else(|| {
                BenchError::message("separate vCPUs need two; this process may use one")
            })?,
        };
        sched_setaffinity(None, &only(self.client)).step("pin the client thread")?;
        for pid in backends {
            let process = Pid::from_raw(pid)
                .ok_or_else(|| BenchError::message(format!("{pid} is not a process id")))?;
            sched_setaffinity(Some(process), &only(server)).step(format!(
                "pin server backend {pid} (run as root or as its user)"
            ))?;
        }
        Ok(())
    }
}

fn only(cpu: usize) -> CpuSet {
    let mut set = CpuSet::new();
    set.set(cpu);
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separate_cpus_need_a_second_one() {
        let one = Cpus {
            client: 0,
            other: None,
        };
        assert!(one.supports(Placement::SameCpu));
        assert!(!one.supports(Placement::SeparateCpus));
        assert!(one.place(Placement::SeparateCpus, []).is_err());
    }

    #[test]
    fn the_client_thread_is_pinned_where_the_placement_says() -> Result<(), BenchError> {
        let cpus = Cpus::available()?;
        // On a thread of its own, so that the test runner's threads keep
        // their affinity.
        let pinned = std::thread::spawn(move || {
            cpus.place(Placement::SameCpu, [])?;
            sched_getaffinity(None).step("read the affinity")
        })
        .join()
        .map_err(|_| BenchError::message("the pinning thread panicked"))??;
        assert_eq!(pinned.count(), 1);
        assert!(pinned.is_set(cpus.client));
        Ok(())
    }
}
