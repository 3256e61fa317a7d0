//! Reading what the commands are given: the database to connect to, the
//! manifest of the application's tables.

use std::path::Path;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, PgConnection};
use tenancy_sqlx::manifest::Manifest;

use crate::cli::Connection;
use crate::error::{CliError, read};

impl Connection {
    /// The connection options of `--database-url`.
    pub fn options(&self) -> Result<PgConnectOptions, CliError> {
        self.database_url.parse().map_err(CliError::Url)
    }

    /// Its options and a connection to it.
    pub async fn connect(&self) -> Result<(PgConnectOptions, PgConnection), CliError> {
        let options = self.options()?;
        let connection = connect(&options).await?;
        Ok((options, connection))
    }
}

/// One connection, with a connection failure worded for the operator.
pub async fn connect(options: &PgConnectOptions) -> Result<PgConnection, CliError> {
    PgConnection::connect_with(options)
        .await
        .map_err(CliError::Connect)
}

/// Reads a manifest written by `Manifest::to_json`.
pub fn manifest(path: &Path) -> Result<Manifest, CliError> {
    Manifest::from_json(&read(path)?).map_err(|error| CliError::Invalid {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })
}
