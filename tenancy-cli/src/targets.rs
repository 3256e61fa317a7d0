//! Turning the target options into the runner's list of targets.

use std::collections::HashSet;

use sqlx::PgConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tenancy_sqlx::directory::{TableDirectory, TrustedServers};
use tenancy_sqlx::migrate::{self, Target};

use crate::cli::TargetArgs;
use crate::error::{CliError, read};

/// Every target the options name, in the order given, each once; the
/// `public` schema when none is named.
pub async fn resolve(
    args: &TargetArgs,
    home: &PgConnectOptions,
    connection: &mut PgConnection,
) -> Result<Vec<Target>, CliError> {
    let mut targets = Vec::new();
    for schema in &args.schemas {
        targets.push(Target::schema(schema)?);
    }
    if let Some(pattern) = &args.schemas_like {
        targets.extend(migrate::schemas_like(connection, pattern).await?);
    }
    if let Some(query) = &args.schemas_query {
        targets.extend(migrate::schemas_from_query(connection, query).await?);
    }
    if let Some(path) = &args.targets_file {
        for (number, line) in read(path)?.lines().enumerate() {
            let name = line.split('#').next().unwrap_or_default().trim();
            if name.is_empty() {
                continue;
            }
            let target = Target::schema(name).map_err(|error| CliError::Invalid {
                path: path.clone(),
                reason: format!("line {}: {error}", number + 1),
            })?;
            targets.push(target);
        }
    }
    for url in &args.databases {
        let options: PgConnectOptions = url.parse().map_err(CliError::Url)?;
        let label = options
            .get_database()
            .map_or_else(|| options.get_username().to_owned(), str::to_owned);
        targets.push(Target::database(&label, options, None)?);
    }
    if let Some(pattern) = &args.databases_like {
        targets.extend(migrate::databases_like(connection, pattern, home).await?);
    }
    if args.directory {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(home.clone())
            .await
            .map_err(tenancy_sqlx::Error::from)?;
        let trusted = args
            .trusted_servers
            .iter()
            .fold(TrustedServers::new(), |trusted, (host, port)| {
                trusted.with(host.as_str(), *port)
            });
        let found =
            migrate::directory_targets(&TableDirectory::new(pool.clone()), home, &trusted).await;
        pool.close().await;
        targets.extend(found?);
    }
    let named = !(args.schemas.is_empty()
        && args.schemas_like.is_none()
        && args.schemas_query.is_none()
        && args.targets_file.is_none()
        && args.databases.is_empty()
        && args.databases_like.is_none()
        && !args.directory);
    if !named {
        targets.push(Target::schema("public")?);
    }
    // A schema named by two selectors is migrated once; two databases with
    // one label would share ledger rows, so that is an error.
    let mut seen = HashSet::new();
    let mut unique = Vec::with_capacity(targets.len());
    for target in targets {
        if seen.insert(target.label().to_owned()) {
            unique.push(target);
        } else if target.is_database() {
            return Err(CliError::Usage(format!(
                "two database targets are both named `{}`: a database target is known by its \
                 database's name in its ledger, so two databases of that name cannot be migrated \
                 in one run",
                target.label()
            )));
        }
    }
    Ok(unique)
}
