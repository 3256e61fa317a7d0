//! What makes a command fail outright (exit code 2): bad input, an
//! unreachable database, unreadable files. Findings and failed targets are
//! results, not errors.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Library(#[from] tenancy_sqlx::Error),

    #[error(transparent)]
    Migrate(#[from] tenancy_sqlx::migrate::MigrateError),

    #[error("cannot connect to the database: {0}")]
    Connect(sqlx::Error),

    #[error("invalid database URL: {0}")]
    Url(sqlx::Error),

    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },

    #[error("{0}")]
    Usage(String),
}

impl From<sqlx::Error> for CliError {
    fn from(error: sqlx::Error) -> Self {
        CliError::Library(error.into())
    }
}

/// Reads a whole file, naming it in the error.
pub fn read(path: &std::path::Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })
}

impl From<tenancy_sqlx::IdentifierError> for CliError {
    fn from(error: tenancy_sqlx::IdentifierError) -> Self {
        CliError::Library(error.into())
    }
}

impl From<tenancy_sqlx::CrossTenantError> for CliError {
    fn from(error: tenancy_sqlx::CrossTenantError) -> Self {
        CliError::Library(error.into())
    }
}
