//! A real PgBouncer in transaction mode in front of a test database, started
//! like the throwaway cluster: a private temporary directory, a free port of
//! 127.0.0.1, and a watcher that stops it if the test process dies.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use url::Url;

use super::cluster::{free_port, private_temp_dir, tail};
use super::run_as::RunAs;
use super::{APP_ROLE, OWNER_ROLE, TestDatabase, TestSupportError};

/// Stops PgBouncer (pid in `$2`) once `$1`, the test process, has exited,
/// then removes `$3`. Paths travel as arguments, never spliced in.
const WATCHER_SCRIPT: &str = r#"
test_pid=$1
pid_file=$2
dir=$3
while kill -0 "$test_pid" 2>/dev/null; do sleep 0.5; done
[ -f "$pid_file" ] && kill "$(cat "$pid_file")" 2>/dev/null
sleep 0.5
rm -rf "$dir"
"#;

/// How long PgBouncer gets to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A PgBouncer (`pool_mode = transaction`) in front of one
/// [`TestDatabase`], with a small server pool, for the roles of the test
/// support.
///
/// Through it, consecutive transactions of one client connection may run
/// on different server connections, and a session-level `SET` by one
/// client is seen by another: what services behind a transaction-mode
/// pooler live with.
///
/// It routes every other database of the same server too, under its own
/// name and with a server pool of its own (PgBouncer's `*` fallback
/// entry): the databases of tenants placed in a database of their own,
/// whether other [`TestDatabase`]s ([`app_url_of`](Self::app_url_of)) or
/// databases the code under test creates, reached by the URL of
/// [`app_url`](Self::app_url) with the database replaced.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use tenancy_sqlx::testing::{PgBouncer, TestDatabase};
///
/// let db = TestDatabase::create().await?;
/// let bouncer = PgBouncer::start(&db, 1).await?;
/// let app = sqlx::PgPool::connect(&bouncer.app_url()).await?;
/// # let _ = app;
/// # Ok(()) }
/// ```
///
/// PgBouncer is found on `PATH` or in `/usr/sbin` (Debian's `pgbouncer`
/// package puts it there); without it, [`start`](Self::start) fails with
/// [`TestSupportError::NoPgBouncer`], which says how to install it. As root,
/// it runs as the `postgres` system user (PgBouncer refuses to run as
/// root). Dropping the value stops it.
#[derive(Debug)]
pub struct PgBouncer {
    port: u16,
    database: String,
    dir: PathBuf,
    child: Child,
}

impl PgBouncer {
    /// Starts PgBouncer for `db` (and the other databases of its server)
    /// with `server_pool_size` server connections per database and role
    /// (at least 1), and waits until it listens.
    pub async fn start(db: &TestDatabase, server_pool_size: u32) -> Result<Self, TestSupportError> {
        let server = Url::parse(&db.admin_url()).map_err(|error| TestSupportError::InvalidUrl {
            reason: error.to_string(),
        })?;
        let database = db.name().to_owned();
        tokio::task::spawn_blocking(move || {
            Self::start_blocking(&server, database, server_pool_size.max(1))
        })
        .await
        .map_err(|error| TestSupportError::io("start PgBouncer", std::io::Error::other(error)))?
    }

    fn start_blocking(
        server: &Url,
        database: String,
        pool_size: u32,
    ) -> Result<Self, TestSupportError> {
        let program = locate()?;
        let run_as = RunAs::detect()?;
        let dir = private_temp_dir("tenancy-pgbouncer")?;
        run_as.give_directory(&dir)?;
        let port = free_port()?;
        let ini = dir.join("pgbouncer.ini");
        write_file(&run_as, &dir.join("users.txt"), &users())?;
        write_file(
            &run_as,
            &ini,
            &settings(server, &database, &dir, port, pool_size),
        )?;
        spawn_watcher(&dir)?;
        let log = dir.join("pgbouncer.log");
        let child = run_as
            .command(&program)
            .arg(&ini)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| TestSupportError::io(format!("run {}", program.display()), error))?;
        let mut bouncer = PgBouncer {
            port,
            database,
            dir,
            child,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            let exited = matches!(bouncer.child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() > deadline {
                return Err(TestSupportError::CommandFailed {
                    step: "starting PgBouncer",
                    command: format!("{} {}", program.display(), ini.display()),
                    status: if exited { "exited" } else { "not listening" }.to_owned(),
                    stderr: String::new(),
                    log_tail: tail(&std::fs::read_to_string(&log).unwrap_or_default(), 30),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(bouncer)
    }

    /// The port PgBouncer listens on, on 127.0.0.1.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL that logs in to the database through PgBouncer as the
    /// application role.
    #[must_use]
    pub fn app_url(&self) -> String {
        self.role_url(APP_ROLE)
    }

    /// The URL that logs in to the database through PgBouncer as the owner
    /// role.
    #[must_use]
    pub fn owner_url(&self) -> String {
        self.role_url(OWNER_ROLE)
    }

    /// The URL that logs in to `other`, another database of the same
    /// server, through PgBouncer as the application role: a tenant's own
    /// database behind the same pooler.
    #[must_use]
    pub fn app_url_of(&self, other: &TestDatabase) -> String {
        self.url(APP_ROLE, other.name())
    }

    fn role_url(&self, role: &str) -> String {
        self.url(role, &self.database)
    }

    fn url(&self, role: &str, database: &str) -> String {
        format!(
            "postgres://{role}:{password}@127.0.0.1:{port}/{database}",
            password = super::roles::ROLE_PASSWORD,
            port = self.port,
        )
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // As root the child is `runuser`, which passes the signal on.
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("pgbouncer.pid"))
            && let Some(pid) = pid
                .trim()
                .parse::<i32>()
                .ok()
                .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The PgBouncer program.
fn locate() -> Result<PathBuf, TestSupportError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let candidates: Vec<PathBuf> = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join("pgbouncer"))
        .collect();
    candidates
        .iter()
        .find(|candidate| candidate.is_file())
        .cloned()
        .ok_or_else(|| TestSupportError::NoPgBouncer {
            searched: candidates
                .iter()
                .map(|candidate| candidate.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The test roles and their password: PgBouncer checks clients against it
/// and logs in to the server with it.
fn users() -> String {
    let mut users = String::new();
    for role in [APP_ROLE, OWNER_ROLE] {
        let _ = writeln!(users, "\"{role}\" \"{}\"", super::roles::ROLE_PASSWORD);
    }
    users
}

fn settings(server: &Url, database: &str, dir: &Path, port: u16, pool_size: u32) -> String {
    let host = server.host_str().unwrap_or("127.0.0.1");
    let server_port = server.port().unwrap_or(5432);
    // `*`: any other database of the server, by the name the client asks
    // for (a tenant's own database).
    format!(
        "[databases]\n\
         {database} = host={host} port={server_port} dbname={database}\n\
         * = host={host} port={server_port}\n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = md5\n\
         auth_file = {dir}/users.txt\n\
         pidfile = {dir}/pgbouncer.pid\n\
         logfile = {dir}/pgbouncer.log\n\
         pool_mode = transaction\n\
         default_pool_size = {pool_size}\n\
         min_pool_size = 0\n\
         reserve_pool_size = 0\n\
         max_client_conn = 500\n\
         server_reset_query =\n\
         ignore_startup_parameters = extra_float_digits\n",
        dir = dir.display()
    )
}

fn write_file(run_as: &RunAs, path: &Path, text: &str) -> Result<(), TestSupportError> {
    std::fs::write(path, text)
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)))
        .map_err(|error| TestSupportError::io(format!("write {}", path.display()), error))?;
    run_as.give_directory(path)
}

/// Stops PgBouncer and removes its directory once the test process is
/// gone, even if it was killed (see the cluster's reaper).
fn spawn_watcher(dir: &Path) -> Result<(), TestSupportError> {
    Command::new("sh")
        .arg("-c")
        .arg(WATCHER_SCRIPT)
        .arg("tenancy-pgbouncer-watcher")
        .arg(std::process::id().to_string())
        .arg(dir.join("pgbouncer.pid"))
        .arg(dir)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(drop)
        .map_err(|error| TestSupportError::io("start the PgBouncer watcher (`sh`)", error))
}
