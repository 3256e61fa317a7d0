//! Where migrations run: a schema of the runner's database (the shared
//! schema, or one tenant's schema), or a database of its own.
//!
//! The runner takes its targets as a plain list, so they can come from
//! anywhere: a tenant directory, a query, a pattern over the catalog, a
//! file. This module has the usual ways of making that list.

use core::fmt;

use sqlx::PgConnection;
use sqlx::postgres::PgConnectOptions;

use super::MigrateError;
use crate::Error;
use crate::ident::Identifier;

/// One place a set of migrations is applied to, with its own ledger rows.
#[derive(Clone)]
pub struct Target {
    label: String,
    place: Place,
}

#[derive(Clone)]
pub(crate) enum Place {
    /// A schema of the runner's database: each migration runs with
    /// `SET LOCAL search_path` to it.
    Schema(Identifier),
    /// A database of its own, with its own ledger; optionally with a schema
    /// to run in, else `public`.
    Database {
        options: Box<PgConnectOptions>,
        schema: Option<Identifier>,
    },
}

impl Target {
    /// A schema of the runner's database, by name: the shared schema
    /// (`public`), or a tenant's. The name is validated: it is placed in
    /// `SET LOCAL search_path`.
    pub fn schema(name: &str) -> Result<Self, Error> {
        let schema = Identifier::new("schema", name)?;
        Ok(Target {
            label: schema.as_str().to_owned(),
            place: Place::Schema(schema),
        })
    }

    /// A database of its own, reached with `options` (the runner's
    /// application name and timeouts are added), labelled `label` in the
    /// ledger and the reports. Its migrations run with `search_path`
    /// pinned to `schema`, or to `public` if none is given.
    ///
    /// The label is the target's identity in its ledger: keep it stable
    /// (the database's name, or a tenant id), or the runner takes the
    /// database for a new target and starts again from the first migration.
    pub fn database(
        label: &str,
        options: PgConnectOptions,
        schema: Option<Identifier>,
    ) -> Result<Self, MigrateError> {
        let printable =
            !label.is_empty() && label.len() <= 200 && !label.chars().any(char::is_control);
        if !printable {
            return Err(MigrateError::InvalidOption {
                reason: format!(
                    "target label {label:?}: give 1 to 200 printable characters, such as the database's name"
                ),
            });
        }
        Ok(Target {
            label: label.to_owned(),
            place: Place::Database {
                options: Box::new(options),
                schema,
            },
        })
    }

    /// The target's name in the ledger and in reports: the schema's name,
    /// or the database's label.
    #[must_use]
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The schema migrations run in, if the target names one.
    #[must_use]
    pub fn schema_name(&self) -> Option<&Identifier> {
        match &self.place {
            Place::Schema(schema) => Some(schema),
            Place::Database { schema, .. } => schema.as_ref(),
        }
    }

    /// Whether it is a database of its own.
    #[must_use]
    pub fn is_database(&self) -> bool {
        matches!(self.place, Place::Database { .. })
    }

    pub(crate) fn place(&self) -> &Place {
        &self.place
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Connection options can hold a password: never print them.
        let kind = match self.place {
            Place::Schema(_) => "schema",
            Place::Database { .. } => "database",
        };
        f.debug_struct("Target")
            .field("label", &self.label)
            .field("kind", &kind)
            .finish()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

/// Every schema whose name matches the `LIKE` pattern (`tenant\_%`), by
/// name. A matching name that is not a valid identifier is an error, not
/// silently skipped.
pub async fn schemas_like(
    connection: &mut PgConnection,
    pattern: &str,
) -> Result<Vec<Target>, MigrateError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_catalog.pg_namespace WHERE nspname LIKE $1 ORDER BY 1",
    )
    .bind(pattern)
    .fetch_all(&mut *connection)
    .await?;
    schema_targets(&names)
}

/// The schemas named by the first column of each row of `query` (text),
/// in the order it returns them: a tenant directory's own table, say
/// `SELECT schema_name FROM tenants WHERE status = 'active' ORDER BY id`.
pub async fn schemas_from_query(
    connection: &mut PgConnection,
    query: &str,
) -> Result<Vec<Target>, MigrateError> {
    let names: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(query.to_owned()))
        .fetch_all(&mut *connection)
        .await?;
    schema_targets(&names)
}

/// Schema targets of `names`; a name that is not a valid identifier is an
/// error, not silently skipped.
fn schema_targets(names: &[String]) -> Result<Vec<Target>, MigrateError> {
    names
        .iter()
        .map(|name| Target::schema(name).map_err(MigrateError::from))
        .collect()
}

/// Every database whose name matches the `LIKE` pattern and accepts
/// connections (templates excluded), reached with `base` and that database
/// name, labelled by name.
pub async fn databases_like(
    connection: &mut PgConnection,
    pattern: &str,
    base: &PgConnectOptions,
) -> Result<Vec<Target>, MigrateError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_catalog.pg_database
         WHERE datname LIKE $1 AND datallowconn AND NOT datistemplate ORDER BY 1",
    )
    .bind(pattern)
    .fetch_all(&mut *connection)
    .await?;
    names
        .iter()
        .map(|name| Target::database(name, base.clone().database(name), None))
        .collect()
}

/// The schema or database of every tenant `directory` places in one of its
/// own, deleted tenants left out, each once, in key order. A database is
/// reached as `base`'s role (the migrations' owner, with its password) at
/// the host, port and database of the directory's URL, which is the
/// application role's, when that server is `base`'s own or one of
/// `trusted` (any other is refused with
/// [`Error::UntrustedDatabaseServer`](crate::Error::UntrustedDatabaseServer)
/// before anything is migrated); its label is its database's name. Tenants
/// of the shared tables have no target of their own: name the shared schema
/// too.
pub async fn directory_targets(
    directory: &crate::directory::TableDirectory,
    base: &PgConnectOptions,
    trusted: &crate::directory::TrustedServers,
) -> Result<Vec<Target>, MigrateError> {
    use crate::directory::{Placement, TenantStatus};
    let mut targets: Vec<Target> = Vec::new();
    for (_, entry) in directory.list().await? {
        if entry.status == TenantStatus::Deleted {
            continue;
        }
        let target = match &entry.placement {
            Placement::Shared => continue,
            Placement::Schema(schema) => Target::schema(schema.as_str())?,
            Placement::Database(url) => {
                let options = trusted.as_role_at(base, &url.connect_options()?)?;
                let label = options.get_database().unwrap_or_default().to_owned();
                Target::database(&label, options, None)?
            }
        };
        if !targets.iter().any(|known| known.label == target.label) {
            targets.push(target);
        }
    }
    Ok(targets)
}

/// Refuses a list that names a target twice.
pub(crate) fn check_unique(targets: &[Target]) -> Result<(), MigrateError> {
    let mut seen = std::collections::HashSet::new();
    for target in targets {
        if !seen.insert(target.label.as_str()) {
            return Err(MigrateError::DuplicateTarget {
                target: target.label.clone(),
            });
        }
    }
    Ok(())
}
