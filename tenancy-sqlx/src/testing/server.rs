//! The one PostgreSQL server of a test process: the one named by
//! `TENANCY_TEST_DATABASE_URL`, or a throwaway cluster started on first use.
//!
//! Each `#[tokio::test]` runs on its own runtime, so the process-wide state
//! is a URL only; connections are opened per use, on the caller's runtime.

use sqlx::{Connection, PgConnection};
use tokio::sync::OnceCell;
use url::Url;

use super::TestSupportError;
use super::cluster::{self, Cluster};
use super::roles;

/// The environment variable that points the tests at an existing server.
pub const DATABASE_URL_ENV: &str = "TENANCY_TEST_DATABASE_URL";

/// A server the test support can create roles and databases on.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    /// A superuser URL of the server's maintenance database.
    admin: Url,
}

/// Set once per process; a failure is kept too, so that a missing server
/// fails every test quickly with the same message.
static SHARED: OnceCell<Result<Server, TestSupportError>> = OnceCell::const_new();

impl Server {
    /// The server of this process, set up on first use.
    pub(crate) async fn shared() -> Result<Self, TestSupportError> {
        SHARED.get_or_init(Self::set_up).await.clone()
    }

    async fn set_up() -> Result<Self, TestSupportError> {
        let server = match url_from_env()? {
            Some(admin) => {
                let server = Self { admin };
                server.require_superuser().await?;
                server
            }
            None => Self::start_cluster(&[]).await?,
        };
        server.ensure_standard_roles().await?;
        Ok(server)
    }

    /// A throwaway cluster of its own with `extra` settings in
    /// `postgresql.conf` and the standard roles: one node of a Citus cluster.
    #[cfg(feature = "citus")]
    pub(crate) async fn start_node(
        extra: &'static [(&'static str, &'static str)],
    ) -> Result<Self, TestSupportError> {
        let server = Self::start_cluster(extra).await?;
        server.ensure_standard_roles().await?;
        Ok(server)
    }

    async fn ensure_standard_roles(&self) -> Result<(), TestSupportError> {
        let mut admin = self.connect_admin().await?;
        let ensured = roles::ensure_standard_roles(&mut admin).await;
        close(admin).await;
        ensured
    }

    /// The port the server listens on (5432 if the URL names none).
    #[cfg(feature = "citus")]
    pub(crate) fn port(&self) -> u16 {
        self.admin.port().unwrap_or(5432)
    }

    async fn start_cluster(
        extra: &'static [(&'static str, &'static str)],
    ) -> Result<Self, TestSupportError> {
        // initdb and pg_ctl block for a second or two: keep them off the runtime.
        let cluster = tokio::task::spawn_blocking(move || Cluster::start_with(extra))
            .await
            .map_err(|error| {
                TestSupportError::io("start the throwaway cluster", std::io::Error::other(error))
            })??;
        let url = format!(
            "postgres://{}@127.0.0.1:{}/postgres",
            cluster::SUPERUSER,
            cluster.port
        );
        let admin = Url::parse(&url).map_err(|error| TestSupportError::InvalidUrl {
            reason: format!("{url}: {error}"),
        })?;
        Ok(Self { admin })
    }

    /// A fresh superuser connection to the maintenance database.
    pub(crate) async fn connect_admin(&self) -> Result<PgConnection, TestSupportError> {
        PgConnection::connect(self.admin.as_str())
            .await
            .map_err(|error| {
                TestSupportError::database(
                    format!("connect to the test server as `{}`", self.admin_user()),
                    error,
                )
            })
    }

    /// The URL that logs in to `database` as the server's superuser.
    pub(crate) fn admin_url(&self, database: &str) -> String {
        self.url(None, database)
    }

    /// The URL that logs in to `database` as a role the test support created.
    pub(crate) fn role_url(&self, role: &str, database: &str) -> String {
        self.url(Some(role), database)
    }

    /// The admin URL with another database and, if given, another role,
    /// keeping every other parameter (TLS settings, socket host, ...).
    fn url(&self, role: Option<&str>, database: &str) -> String {
        let mut url = self.admin.clone();
        let replaced: &[&str] = match role {
            Some(_) => &["dbname", "user", "password"],
            None => &["dbname"],
        };
        let params: Vec<(String, String)> = url
            .query_pairs()
            .into_owned()
            .filter(|(key, _)| !replaced.contains(&key.as_str()))
            .collect();
        url.set_query(None);
        // A Unix-socket URL has no authority; its login goes in parameters.
        let mut login_in_query = None;
        if let Some(role) = role {
            let in_authority = url.set_username(role).is_ok()
                && url.set_password(Some(roles::ROLE_PASSWORD)).is_ok();
            if !in_authority {
                login_in_query = Some(role);
            }
        }
        if !params.is_empty() || login_in_query.is_some() {
            let mut query = url.query_pairs_mut();
            query.extend_pairs(params);
            if let Some(role) = login_in_query {
                query.append_pair("user", role);
                query.append_pair("password", roles::ROLE_PASSWORD);
            }
        }
        url.set_path(database);
        url.into()
    }

    fn admin_user(&self) -> &str {
        match self.admin.username() {
            "" => "(default user)",
            user => user,
        }
    }

    async fn require_superuser(&self) -> Result<(), TestSupportError> {
        let mut admin = self.connect_admin().await?;
        let (user, is_superuser): (String, bool) = sqlx::query_as(
            "SELECT current_user::text, rolsuper FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(&mut admin)
        .await
        .map_err(|error| {
            TestSupportError::database("check that the test role is a superuser", error)
        })?;
        close(admin).await;
        if is_superuser {
            Ok(())
        } else {
            Err(TestSupportError::NotSuperuser { user })
        }
    }
}

/// The superuser URL from [`DATABASE_URL_ENV`], if set and not empty.
fn url_from_env() -> Result<Option<Url>, TestSupportError> {
    let value = match std::env::var(DATABASE_URL_ENV) {
        Ok(value) if value.trim().is_empty() => return Ok(None),
        Ok(value) => value,
        Err(std::env::VarError::NotPresent) => return Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(TestSupportError::InvalidUrl {
                reason: "it is not valid UTF-8".to_owned(),
            });
        }
    };
    let url = Url::parse(value.trim()).map_err(|error| TestSupportError::InvalidUrl {
        reason: error.to_string(),
    })?;
    if matches!(url.scheme(), "postgres" | "postgresql") {
        Ok(Some(url))
    } else {
        Err(TestSupportError::InvalidUrl {
            reason: format!("scheme `{}` is not `postgres`", url.scheme()),
        })
    }
}

/// Closes a short-lived connection. A failed goodbye leaves nothing behind
/// that matters: the server ends the session either way.
pub(crate) async fn close(connection: PgConnection) {
    if let Err(error) = connection.close().await {
        tracing::debug!(%error, "closing a test-support connection failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> Server {
        Server {
            admin: Url::parse(url).expect("test URL parses"),
        }
    }

    #[test]
    fn role_urls_replace_the_login_and_the_database() {
        let server = server("postgres://admin:secret@db.example:5433/postgres?sslmode=require");
        assert_eq!(
            server.role_url("tenancy_app", "tenancy_test_1_0"),
            "postgres://tenancy_app:tenancy@db.example:5433/tenancy_test_1_0?sslmode=require"
        );
        assert_eq!(
            server.admin_url("tenancy_test_1_0"),
            "postgres://admin:secret@db.example:5433/tenancy_test_1_0?sslmode=require"
        );
    }

    #[test]
    fn unix_socket_urls_carry_the_login_as_parameters() {
        let server = server("postgres:///postgres?host=/run/postgresql&user=postgres&dbname=x");
        assert_eq!(
            server.role_url("tenancy_app", "db"),
            "postgres:///db?host=%2Frun%2Fpostgresql&user=tenancy_app&password=tenancy"
        );
        assert_eq!(
            server.admin_url("db"),
            "postgres:///db?host=%2Frun%2Fpostgresql&user=postgres"
        );
    }
}
