//! Who runs the PostgreSQL programs: PostgreSQL refuses to run as root, so a
//! root test process hands them to the `postgres` system user.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::TestSupportError;

/// The system user PostgreSQL's own packages create.
const POSTGRES_USER: &str = "postgres";

/// How to launch a PostgreSQL program.
#[derive(Debug, Clone)]
pub(crate) enum RunAs {
    /// As the user running the tests.
    CurrentUser,
    /// As the `postgres` system user, through `runuser`.
    PostgresUser {
        runuser: PathBuf,
        uid: u32,
        gid: u32,
    },
}

impl RunAs {
    /// The current user, unless that is root.
    pub(crate) fn detect() -> Result<Self, TestSupportError> {
        if !rustix::process::geteuid().is_root() {
            return Ok(Self::CurrentUser);
        }
        let uid = user_id("-u")?;
        let gid = user_id("-g")?;
        let runuser = find_runuser().ok_or_else(|| TestSupportError::CannotDropRoot {
            problem: "`runuser` (util-linux) was not found to start it as the `postgres` user"
                .to_owned(),
        })?;
        Ok(Self::PostgresUser { runuser, uid, gid })
    }

    /// A command that runs `program` as this user.
    pub(crate) fn command(&self, program: &Path) -> Command {
        let mut command = match self {
            Self::CurrentUser => Command::new(program),
            Self::PostgresUser { runuser, .. } => {
                let mut command = Command::new(runuser);
                command.args(["-u", POSTGRES_USER, "--"]).arg(program);
                command
            }
        };
        // The test's working directory may be unreadable for `postgres`.
        command.current_dir("/");
        command
    }

    /// The argument vector prefix that [`command`](Self::command) puts before
    /// the program, for commands run from a shell script.
    pub(crate) fn argv_prefix(&self) -> Vec<&OsStr> {
        match self {
            Self::CurrentUser => Vec::new(),
            Self::PostgresUser { runuser, .. } => vec![
                runuser.as_os_str(),
                OsStr::new("-u"),
                OsStr::new(POSTGRES_USER),
                OsStr::new("--"),
            ],
        }
    }

    /// Hands a directory we created to the user that runs PostgreSQL.
    pub(crate) fn give_directory(&self, dir: &Path) -> Result<(), TestSupportError> {
        match self {
            Self::CurrentUser => Ok(()),
            Self::PostgresUser { uid, gid, .. } => {
                std::os::unix::fs::chown(dir, Some(*uid), Some(*gid)).map_err(|error| {
                    TestSupportError::io(
                        format!("give {} to the `{POSTGRES_USER}` user", dir.display()),
                        error,
                    )
                })
            }
        }
    }
}

/// The `postgres` user's uid (`-u`) or primary gid (`-g`).
fn user_id(which: &str) -> Result<u32, TestSupportError> {
    let missing = || TestSupportError::CannotDropRoot {
        problem: format!("there is no `{POSTGRES_USER}` system user to run it as"),
    };
    let output = Command::new("id")
        .args([which, POSTGRES_USER])
        .output()
        .map_err(|error| {
            TestSupportError::io(format!("run `id {which} {POSTGRES_USER}`"), error)
        })?;
    if !output.status.success() {
        return Err(missing());
    }
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| missing())
}

fn find_runuser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join("runuser"))
        .find(|candidate| candidate.is_file())
}
