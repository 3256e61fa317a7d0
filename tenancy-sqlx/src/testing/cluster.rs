//! A throwaway PostgreSQL cluster: `initdb` into a temporary directory and
//! `pg_ctl start` on a free port of 127.0.0.1, tuned for speed over
//! durability. The [reaper](super::reaper) stops it when the process exits.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::TestSupportError;
use super::binaries::PgBinaries;
use super::reaper;
use super::run_as::RunAs;

/// The superuser `initdb` creates.
pub(crate) const SUPERUSER: &str = "postgres";

/// Enough for many parallel tests, each with a few small pools.
const MAX_CONNECTIONS: u32 = 300;

/// Another process may take the port between our probe and the server's
/// bind; then we try another one.
const START_ATTEMPTS: usize = 5;

/// How many lines of the server log an error shows.
const LOG_TAIL_LINES: usize = 30;

/// A started cluster.
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub(crate) port: u16,
}

impl Cluster {
    /// Creates and starts a cluster; blocks for the second or two that takes.
    pub(crate) fn start() -> Result<Self, TestSupportError> {
        let started = Instant::now();
        let binaries = PgBinaries::locate()?;
        let run_as = RunAs::detect()?;
        let dir = private_temp_dir("tenancy-pg")?;
        run_as.give_directory(&dir)?;
        let data_dir = dir.join("data");
        let log_file = dir.join("postgres.log");
        // Before anything can fail half-way: whatever exists gets cleaned up.
        reaper::spawn(&binaries, &run_as, &dir, &data_dir)?;

        init_data_dir(&binaries, &run_as, &data_dir)?;
        write_settings(&data_dir, &dir)?;
        let port = start_server(&binaries, &run_as, &data_dir, &log_file)?;
        tracing::info!(
            port,
            dir = %dir.display(),
            elapsed_ms = started.elapsed().as_millis(),
            "started a throwaway PostgreSQL cluster for the tests"
        );
        Ok(Self { port })
    }
}

/// A new, private directory under the system's temporary directory, named
/// `<prefix>-<pid>-<sequence>-<nanos>`.
pub(crate) fn private_temp_dir(prefix: &str) -> Result<PathBuf, TestSupportError> {
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    let temp = std::env::temp_dir();
    let temp_text = temp.to_string_lossy();
    if temp_text.chars().any(is_unsafe_path_char) {
        return Err(TestSupportError::UnsafeTempDir {
            path: temp_text.into_owned(),
        });
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    let dir = temp.join(format!(
        "{prefix}-{}-{}-{nanos:x}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|error| TestSupportError::io(format!("create {}", dir.display()), error))?;
    Ok(dir)
}

/// Characters that a PostgreSQL setting string or `pg_ctl`'s shell command
/// line would interpret.
fn is_unsafe_path_char(c: char) -> bool {
    matches!(c, '\'' | '"' | '\\' | '$' | '`') || c.is_control()
}

fn init_data_dir(
    binaries: &PgBinaries,
    run_as: &RunAs,
    data_dir: &Path,
) -> Result<(), TestSupportError> {
    const STEP: &str = "initialising the cluster's data directory";
    let mut command = run_as.command(&binaries.initdb);
    command
        .arg("-D")
        .arg(data_dir)
        .args(["-U", SUPERUSER, "--auth=trust", "--no-locale", "-E", "UTF8"])
        // A throwaway cluster needs no durability.
        .arg("--no-sync");
    let output = run(&mut command, STEP)?;
    check(&command, &output, STEP, None)
}

/// Appends the test settings to `postgresql.conf` (later lines win).
fn write_settings(data_dir: &Path, socket_dir: &Path) -> Result<(), TestSupportError> {
    let mut settings = String::from("\n# tenancy test support: throwaway, fast, local only\n");
    let lines = [
        ("listen_addresses", "'127.0.0.1'".to_owned()),
        (
            "unix_socket_directories",
            format!("'{}'", socket_dir.display()),
        ),
        ("max_connections", MAX_CONNECTIONS.to_string()),
        ("fsync", "off".to_owned()),
        ("synchronous_commit", "off".to_owned()),
        ("full_page_writes", "off".to_owned()),
    ];
    for (name, value) in lines {
        // Writing to a String cannot fail.
        let _ = writeln!(settings, "{name} = {value}");
    }
    let path = data_dir.join("postgresql.conf");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(settings.as_bytes()))
        .map_err(|error| TestSupportError::io(format!("write {}", path.display()), error))
}

/// Starts the server on a free port and returns the port.
fn start_server(
    binaries: &PgBinaries,
    run_as: &RunAs,
    data_dir: &Path,
    log_file: &Path,
) -> Result<u16, TestSupportError> {
    const STEP: &str = "starting the cluster";
    let mut attempt = 1;
    loop {
        let log_before = read_log(log_file).len();
        let port = free_port()?;
        let mut command = run_as.command(&binaries.pg_ctl);
        command
            .arg("start")
            .arg("-D")
            .arg(data_dir)
            .arg("-l")
            .arg(log_file)
            .args(["-w", "-t", "60", "-o"])
            // pg_ctl hands `-o` to a shell: a number is all that goes in.
            .arg(format!("-p {port}"));
        let output = run(&mut command, STEP)?;
        if output.status.success() {
            return Ok(port);
        }
        let log = read_log(log_file);
        let this_attempt = log.get(log_before..).unwrap_or_default();
        if attempt < START_ATTEMPTS && this_attempt.contains("could not bind") {
            tracing::debug!(port, attempt, "port taken, starting the cluster on another");
            attempt += 1;
            continue;
        }
        return check(&command, &output, STEP, Some(log_file)).map(|()| port);
    }
}

/// The server log so far; empty before the server first wrote to it.
fn read_log(log_file: &Path) -> String {
    std::fs::read_to_string(log_file).unwrap_or_default()
}

/// A port on 127.0.0.1 that was free a moment ago.
pub(crate) fn free_port() -> Result<u16, TestSupportError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|error| TestSupportError::io("find a free TCP port on 127.0.0.1", error))
}

fn run(command: &mut Command, step: &'static str) -> Result<Output, TestSupportError> {
    command.output().map_err(|error| {
        TestSupportError::io(format!("run `{}` while {step}", describe(command)), error)
    })
}

/// Turns a failed command into an error with its stderr and the log's tail.
fn check(
    command: &Command,
    output: &Output,
    step: &'static str,
    log_file: Option<&Path>,
) -> Result<(), TestSupportError> {
    if output.status.success() {
        return Ok(());
    }
    let log_tail = log_file
        .map(read_log)
        .filter(|log| !log.is_empty())
        .map(|log| tail(&log, LOG_TAIL_LINES))
        .unwrap_or_else(|| "(no server log)".to_owned());
    Err(TestSupportError::CommandFailed {
        step,
        command: describe(command),
        status: output.status.to_string(),
        stderr: String::from_utf8_lossy(&output.stderr)
            .trim_end()
            .to_owned(),
        log_tail,
    })
}

fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }

    #[test]
    fn quotes_and_shell_characters_are_unsafe_in_paths() {
        assert!("/tmp/it's".chars().any(is_unsafe_path_char));
        assert!("/tmp/$HOME".chars().any(is_unsafe_path_char));
        assert!(!"/tmp/tenancy-pg-1-0".chars().any(is_unsafe_path_char));
    }
}
