//! The one error type of the test support.

use std::fmt;
use std::sync::Arc;

/// Why a test database could not be provided.
///
/// Every message says what went wrong and how to fix it. The type is `Clone`
/// because a failure to start the shared server is remembered and returned to
/// every test of the process, instead of retrying a slow start per test.
#[derive(Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TestSupportError {
    /// Neither `TENANCY_TEST_DATABASE_URL` nor PostgreSQL's server binaries
    /// were found.
    #[error(
        "no PostgreSQL server for the tests: TENANCY_TEST_DATABASE_URL is not set and no \
         PostgreSQL server binaries (initdb, pg_ctl) were found (looked in: {searched}). \
         Install them (Debian/Ubuntu: `apt-get install postgresql`; Fedora: \
         `dnf install postgresql-server`; macOS: `brew install postgresql`), or set \
         TENANCY_TEST_DATABASE_URL to a superuser URL such as \
         postgres://postgres:password@localhost:5432/postgres"
    )]
    NoServer {
        /// The directories that were searched for the binaries.
        searched: String,
    },

    /// A test asked for PgBouncer, and it is not installed.
    #[error(
        "no PgBouncer for the tests (looked for: {searched}). Install it (Debian/Ubuntu: \
         `apt-get install pgbouncer`; Fedora: `dnf install pgbouncer`; macOS: \
         `brew install pgbouncer`)"
    )]
    NoPgBouncer {
        /// Where it was looked for.
        searched: String,
    },

    /// `TENANCY_TEST_DATABASE_URL` is not a PostgreSQL URL.
    #[error(
        "TENANCY_TEST_DATABASE_URL is not a valid PostgreSQL URL ({reason}); expected a \
         superuser URL such as postgres://postgres:password@localhost:5432/postgres"
    )]
    InvalidUrl {
        /// What is wrong with it.
        reason: String,
    },

    /// The role in `TENANCY_TEST_DATABASE_URL` is not a superuser.
    #[error(
        "role `{user}` from TENANCY_TEST_DATABASE_URL is not a superuser; the test support \
         creates roles and databases, so point TENANCY_TEST_DATABASE_URL at a superuser \
         (e.g. `postgres`)"
    )]
    NotSuperuser {
        /// The role the URL connects as.
        user: String,
    },

    /// The tests run as root, and PostgreSQL refuses to run as root, but there
    /// is no way to run it as the `postgres` system user.
    #[error(
        "the tests run as root and PostgreSQL refuses to run as root, but {problem}; \
         create the user (`useradd --system postgres`), run the tests as a non-root user, \
         or set TENANCY_TEST_DATABASE_URL to a superuser URL of a running server"
    )]
    CannotDropRoot {
        /// What is missing.
        problem: String,
    },

    /// A PostgreSQL command (`initdb`, `pg_ctl`) failed.
    #[error(
        "`{command}` failed ({status}) while {step}\n--- stderr ---\n{stderr}\n\
         --- server log (last lines) ---\n{log_tail}"
    )]
    CommandFailed {
        /// What the test support was doing ("starting the cluster").
        step: &'static str,
        /// The command line.
        command: String,
        /// The exit status.
        status: String,
        /// The command's standard error.
        stderr: String,
        /// The last lines of the server log, if there is one.
        log_tail: String,
    },

    /// A file system or process operation failed.
    #[error("could not {action}: {source}")]
    Io {
        /// What the test support was doing.
        action: String,
        /// The underlying error.
        #[source]
        source: Arc<std::io::Error>,
    },

    /// A statement or connection failed.
    #[error("could not {action}: {source}")]
    Database {
        /// What the test support was doing, naming the database or role.
        action: String,
        /// The underlying error.
        #[source]
        source: Arc<sqlx::Error>,
    },

    /// A role name given to [`TestDatabase::create_role`](super::TestDatabase::create_role)
    /// is not a plain identifier.
    #[error(
        "invalid role name {name:?}: use 1 to {max_len} characters from a-z, 0-9 and `_`, \
         starting with a letter"
    )]
    InvalidRoleName {
        /// The rejected name.
        name: String,
        /// The longest accepted name.
        max_len: usize,
    },

    /// The temporary directory's path cannot be handed to PostgreSQL safely.
    #[error(
        "the temporary directory {path:?} contains characters that cannot be passed to \
         PostgreSQL safely (quotes, backslashes, `$`, backticks or control characters); \
         point TMPDIR at a plain path such as /tmp"
    )]
    UnsafeTempDir {
        /// The rejected path.
        path: String,
    },
}

/// Tests report errors through `Debug` (a test returning `Err`, `unwrap`,
/// `expect`), so `Debug` shows the message: it is the part that says how to
/// fix the problem.
impl fmt::Debug for TestSupportError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, formatter)
    }
}

impl TestSupportError {
    pub(crate) fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            action: action.into(),
            source: Arc::new(source),
        }
    }

    pub(crate) fn database(action: impl Into<String>, source: sqlx::Error) -> Self {
        Self::Database {
            action: action.into(),
            source: Arc::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_server_says_how_to_get_one() {
        let message = TestSupportError::NoServer {
            searched: "/usr/lib/postgresql/15/bin".to_owned(),
        }
        .to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("TENANCY_TEST_DATABASE_URL"), "{message}");
        assert!(message.contains("/usr/lib/postgresql/15/bin"), "{message}");
    }

    #[test]
    fn debug_shows_the_message() {
        let error = TestSupportError::NotSuperuser {
            user: "reporting".to_owned(),
        };
        assert_eq!(format!("{error:?}"), error.to_string());
    }

    #[test]
    fn a_failed_command_shows_its_stderr_and_the_server_log() {
        let message = TestSupportError::CommandFailed {
            step: "starting the cluster",
            command: "pg_ctl start".to_owned(),
            status: "exit status: 1".to_owned(),
            stderr: "pg_ctl: could not start server".to_owned(),
            log_tail: "FATAL:  could not create any TCP/IP sockets".to_owned(),
        }
        .to_string();
        assert!(message.contains("could not start server"), "{message}");
        assert!(
            message.contains("could not create any TCP/IP sockets"),
            "{message}"
        );
    }
}
