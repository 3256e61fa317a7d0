//! The machine the benchmarks ran on, as the report states it.

use std::process::Command;

/// Processors, CPU model, memory, operating system and compiler.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Processors available to this process (what `nproc` prints).
    pub processors: usize,
    /// The CPU model, from `/proc/cpuinfo`.
    pub cpu: String,
    /// Total memory in GiB, from `/proc/meminfo`.
    pub memory_gib: f64,
    /// The kernel release.
    pub kernel: String,
    /// `rustc --version`.
    pub rustc: String,
}

impl Machine {
    /// Reads the machine's description; what cannot be read is "unknown".
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Machine {
            processors: std::thread::available_parallelism().map_or(0, usize::from),
            cpu: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".to_owned()),
            memory_gib: total_memory_kib(&meminfo).map_or(0.0, |kib| kib as f64 / 1_048_576.0),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|release| release.trim().to_owned())
                .unwrap_or_else(|_| "unknown".to_owned()),
            rustc: command_output("rustc", &["--version"]),
        }
    }
}

/// The load averages over 1, 5 and 15 minutes (`/proc/loadavg`), as
/// printed there: how busy the shared machine was.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let averages: Vec<&str> = text.split_whitespace().take(3).collect();
    (averages.len() == 3).then(|| averages.join(" "))
}

/// The first `model name` of `/proc/cpuinfo`.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.trim() == "model name")
        .map(|(_, value)| value.trim().to_owned())
}

/// `MemTotal` of `/proc/meminfo`, in KiB.
fn total_memory_kib(meminfo: &str) -> Option<u64> {
    meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cpu_model_and_memory() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        let meminfo = "MemTotal:       24576000 kB\nMemFree: 1 kB\n";
        assert_eq!(total_memory_kib(meminfo), Some(24_576_000));
        assert_eq!(cpu_model(""), None);
    }
}
