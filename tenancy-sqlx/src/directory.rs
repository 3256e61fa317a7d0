//! Where each tenant lives: the shared tables, a schema of its own, or a
//! database of its own, and whether it may be served now.
//!
//! A [`TenantRouter`](crate::TenantRouter) asks a [`TenantDirectory`] for a
//! tenant's [`TenantEntry`] and opens the tenant's transaction there. The
//! trait is small so that a directory can live anywhere (a configuration
//! file, the application's own table); [`TableDirectory`] keeps it in a
//! `tenancy_tenants` table and [`StaticDirectory`] in memory.

use core::fmt;
use core::future::Future;
use std::collections::HashMap;

use sqlx::postgres::PgConnectOptions;
use tenancy_core::KeyValue;
/// Whether a tenant may be served; the same status a job's verification
/// reads ([`TenantJob::verify`](crate::TenantJob::verify)).
pub use tenancy_core::TenantStatus;

use crate::Error;
use crate::ident::{Identifier, truncate_for_error};

mod table;

pub use table::TableDirectory;
pub(crate) use table::{placement_columns, placement_of};

/// A directory of tenants: where each lives and its status.
///
/// Implement it over your own configuration; it is read on every
/// [`TenantRouter::begin`](crate::TenantRouter::begin) whose tenant the
/// router has not looked up within its placement lifetime. Whatever a
/// directory returns is validated: schema names are [`Identifier`]s and
/// database URLs parsed [`DatabaseUrl`]s, so nothing from it reaches SQL
/// unchecked.
pub trait TenantDirectory: Send + Sync + 'static {
    /// The entry of `tenant`, or `None` when the directory does not know it
    /// (the router refuses it with [`Error::TenantNotFound`]).
    fn entry(
        &self,
        tenant: KeyValue,
    ) -> impl Future<Output = Result<Option<TenantEntry>, Error>> + Send;
}

/// One tenant's place and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantEntry {
    /// Where its rows are.
    pub placement: Placement,
    /// Whether its transactions may begin.
    pub status: TenantStatus,
}

impl TenantEntry {
    /// An active tenant at `placement`.
    #[must_use]
    pub fn active(placement: Placement) -> Self {
        TenantEntry {
            placement,
            status: TenantStatus::Active,
        }
    }
}

/// Where a tenant's rows are. In every placement the tables keep their
/// tenant column and row-level security, so the tenant predicate and the
/// policies confine a transaction wherever it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// In the shared tables of the router's pool, with every other shared
    /// tenant.
    Shared,
    /// In a schema of its own, in the router's database: statements name
    /// this schema, and the transaction's `search_path` is pinned to it.
    Schema(Identifier),
    /// In a database of its own, reached through the router's bounded
    /// cache of pools.
    Database(DatabaseUrl),
}

impl Placement {
    /// `shared`, `schema` or `database`: the placement's kind, as the
    /// [`TableDirectory`] stores it.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Placement::Shared => "shared",
            Placement::Schema(_) => "schema",
            Placement::Database(_) => "database",
        }
    }
}

/// A PostgreSQL connection URL, checked to parse, whose password never
/// shows in `Debug` or `Display` (it does in [`as_str`](Self::as_str), for
/// connecting).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL, if it is a `postgres://` (or `postgresql://`) URL sqlx can
    /// connect with.
    pub fn new(url: impl Into<String>) -> Result<Self, Error> {
        let url = url.into();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::InvalidDirectoryEntry {
                reason: format!(
                    "the database URL must start with `postgres://`, not {:?}",
                    truncate_for_error(url.split("://").next().unwrap_or_default())
                ),
            });
        }
        url.parse::<PgConnectOptions>()
            .map_err(|error| Error::InvalidDirectoryEntry {
                reason: format!("the database URL does not parse: {error}"),
            })?;
        Ok(DatabaseUrl(url))
    }

    /// The whole URL, password included.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The options to connect with.
    pub(crate) fn connect_options(&self) -> Result<PgConnectOptions, Error> {
        Ok(self.0.parse()?)
    }

    /// The URL with its password replaced by `***`.
    fn redacted(&self) -> String {
        match url_password_span(&self.0) {
            Some((start, end)) => format!("{}***{}", &self.0[..start], &self.0[end..]),
            None => self.0.clone(),
        }
    }
}

/// The database servers the owner's credentials may be sent to when a
/// directory entry places a tenant's database: the owner's own server, and
/// the servers added here. The directory's URL names the host, and the
/// owner's role and password go there, so a server nobody trusted cannot
/// collect them through a forged entry.
///
/// Hosts are compared as written (`localhost` and `127.0.0.1` are two
/// servers here): add each spelling the directory uses.
///
/// ```
/// use tenancy_sqlx::directory::TrustedServers;
///
/// // Tenant databases on the owner's own server and on db-2.internal.
/// let trusted = TrustedServers::new().with("db-2.internal", 5432);
/// # let _ = trusted;
/// ```
///
/// *Available with the `lifecycle` or `migrate` feature.*
#[cfg(any(feature = "lifecycle", feature = "migrate"))]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedServers {
    others: Vec<(String, u16)>,
}

#[cfg(any(feature = "lifecycle", feature = "migrate"))]
impl TrustedServers {
    /// The owner's own server only.
    #[must_use]
    pub fn new() -> Self {
        TrustedServers::default()
    }

    /// Trusts `host:port` too.
    #[must_use]
    pub fn with(mut self, host: impl Into<String>, port: u16) -> Self {
        self.others.push((host.into(), port));
        self
    }

    /// `base` (its role, password and other options) at the host, port and
    /// database of `place`: how the owner reaches a tenant's database, whose
    /// directory URL is the application role's. Refused unless `place`'s
    /// server is `base`'s or one trusted here.
    pub(crate) fn as_role_at(
        &self,
        base: &PgConnectOptions,
        place: &PgConnectOptions,
    ) -> Result<PgConnectOptions, Error> {
        let server = (place.get_host(), place.get_port());
        let trusted = same_server(base, place)
            || self
                .others
                .iter()
                .any(|(host, port)| (host.as_str(), *port) == server);
        if !trusted {
            return Err(Error::UntrustedDatabaseServer {
                server: format!("{}:{}", truncate_for_error(server.0), server.1),
                owner_server: format!("{}:{}", base.get_host(), base.get_port()),
            });
        }
        let options = base.clone().host(place.get_host()).port(place.get_port());
        Ok(match place.get_database() {
            Some(database) => options.database(database),
            None => options,
        })
    }
}

/// Whether two connections reach the same server: the same host, as
/// written, and port.
#[cfg(any(feature = "lifecycle", feature = "migrate"))]
pub(crate) fn same_server(one: &PgConnectOptions, other: &PgConnectOptions) -> bool {
    one.get_host() == other.get_host() && one.get_port() == other.get_port()
}

/// Where the password of `postgres://user:password@host/..` is.
fn url_password_span(url: &str) -> Option<(usize, usize)> {
    let authority_start = url.find("://")? + 3;
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    let colon = rest[..at].find(':')?;
    Some((authority_start + colon + 1, authority_start + at))
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A directory fixed when it is made: tenants from a configuration file,
/// or a test's.
///
/// ```
/// use tenancy_sqlx::directory::{Placement, StaticDirectory, TenantEntry};
/// use tenancy_sqlx::{Identifier, KeyValue};
///
/// let directory = StaticDirectory::new()
///     .with(KeyValue::I64(1), TenantEntry::active(Placement::Shared))
///     .with(
///         KeyValue::I64(2),
///         TenantEntry::active(Placement::Schema(Identifier::new("schema", "tenant_2")?)),
///     );
/// assert_eq!(directory.len(), 2);
/// # Ok::<(), tenancy_sqlx::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticDirectory {
    entries: HashMap<KeyValue, TenantEntry>,
}

impl StaticDirectory {
    /// An empty directory.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the entry of `tenant`.
    #[must_use]
    pub fn with(mut self, tenant: KeyValue, entry: TenantEntry) -> Self {
        self.entries.insert(tenant, entry);
        self
    }

    /// The number of tenants.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no tenant.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl TenantDirectory for StaticDirectory {
    async fn entry(&self, tenant: KeyValue) -> Result<Option<TenantEntry>, Error> {
        Ok(self.entries.get(&tenant).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let url =
            DatabaseUrl::new("postgres://app:s3cret@db.example:5432/t1?sslmode=require").unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://app:***@db.example:5432/t1?sslmode=require"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        let bare = DatabaseUrl::new("postgres://db.example/t1").unwrap();
        assert_eq!(bare.to_string(), "postgres://db.example/t1");
    }

    #[test]
    fn a_url_that_does_not_parse_is_refused() {
        let error = DatabaseUrl::new("mysql://x").unwrap_err();
        assert!(
            matches!(error, Error::InvalidDirectoryEntry { .. }),
            "{error}"
        );
    }

    #[cfg(any(feature = "lifecycle", feature = "migrate"))]
    #[test]
    fn the_owner_s_credentials_go_only_to_trusted_servers() {
        let options = |url: &str| url.parse::<PgConnectOptions>().unwrap();
        let owner = options("postgres://owner:secret@db-1:5432/shared");
        let same = options("postgres://app:app@db-1:5432/tenant_7");
        let reached = TrustedServers::new().as_role_at(&owner, &same).unwrap();
        assert_eq!(reached.get_username(), "owner");
        assert_eq!(reached.get_database(), Some("tenant_7"));

        let other = options("postgres://app:app@db-2:6432/tenant_8");
        assert!(matches!(
            TrustedServers::new().as_role_at(&owner, &other),
            Err(Error::UntrustedDatabaseServer { server, owner_server })
                if server == "db-2:6432" && owner_server == "db-1:5432"
        ));
        // Another port of a trusted host is another server.
        let trusted = TrustedServers::new().with("db-2", 5432);
        assert!(trusted.as_role_at(&owner, &other).is_err());
        let reached = trusted
            .with("db-2", 6432)
            .as_role_at(&owner, &other)
            .unwrap();
        assert_eq!(reached.get_host(), "db-2");
        assert_eq!(reached.get_username(), "owner");
    }
}
