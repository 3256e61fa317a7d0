//! Stopping the throwaway cluster when the test process exits.
//!
//! The Rust test harness never runs destructors of statics, and a test binary
//! may die from a signal, so nothing inside the process can be trusted to stop
//! the server. A detached shell watches the test process instead and, once it
//! is gone, stops the server and deletes its directory.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use super::TestSupportError;
use super::binaries::PgBinaries;
use super::run_as::RunAs;

/// Waits for `$1` (the test process) to exit, runs the remaining arguments
/// (the stop command), then removes `$2` (the cluster directory). Paths
/// travel as arguments, never spliced into the script.
const REAPER_SCRIPT: &str = r#"
test_pid=$1
cluster_dir=$2
shift 2
while kill -0 "$test_pid" 2>/dev/null; do sleep 0.5; done
"$@"
rm -rf "$cluster_dir"
"#;

/// Starts the watcher for the cluster in `cluster_dir` with data in `data_dir`.
///
/// The watcher gets its own process group so that Ctrl-C in the terminal,
/// which signals the test's process group, does not take it down before it
/// has cleaned up; its standard streams are closed so that a pipe reading the
/// test output (`cargo test | tee`) is not held open.
pub(crate) fn spawn(
    binaries: &PgBinaries,
    run_as: &RunAs,
    cluster_dir: &Path,
    data_dir: &Path,
) -> Result<(), TestSupportError> {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(REAPER_SCRIPT)
        .arg("tenancy-pg-reaper")
        .arg(std::process::id().to_string())
        .arg(cluster_dir)
        .args(run_as.argv_prefix())
        .arg(&binaries.pg_ctl)
        .args([OsStr::new("stop"), OsStr::new("-D")])
        .arg(data_dir)
        .args(["-m", "immediate", "-w"])
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    // The child is deliberately never waited for: it outlives this process.
    command
        .spawn()
        .map(drop)
        .map_err(|error| TestSupportError::io("start the cluster reaper (`sh`)", error))
}
