//! What can stop a migration run as a whole. A problem of one target (a
//! failing migration, an edited one) is not an error of the run: it is in
//! that target's [`TargetReport`](super::TargetReport).

use std::path::PathBuf;

/// Why a migration run, a status query or the generator could not do its
/// work at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// An error of the library: a database error on the runner's own
    /// connection, an invalid name.
    #[error(transparent)]
    Library(#[from] crate::Error),

    /// The migrations could not be read.
    #[error("cannot read the migrations: {reason}")]
    Source {
        /// What went wrong, with the path where there is one.
        reason: String,
    },

    /// Two up migrations with the same version.
    #[error(
        "two migrations have version {version} ({first:?} and {second:?}): give one of them a new version"
    )]
    DuplicateVersion {
        /// The version.
        version: i64,
        /// One migration's description.
        first: String,
        /// The other's.
        second: String,
    },

    /// A down migration without the up migration it reverts.
    #[error(
        "migration {version} ({description:?}) has a `.down.sql` script but no `.up.sql`: add the up script or remove the down script"
    )]
    DownWithoutUp {
        /// The version.
        version: i64,
        /// Its description.
        description: String,
    },

    /// The same target was given twice.
    #[error("target `{target}` is listed twice: each target is migrated once per run")]
    DuplicateTarget {
        /// The target.
        target: String,
    },

    /// A setting of the runner that cannot work.
    #[error("invalid runner setting: {reason}")]
    InvalidOption {
        /// What is wrong.
        reason: String,
    },

    /// A migration file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// A migration file that would overwrite an existing one.
    #[error(
        "{} exists already: migrations are never overwritten; pick another version or name",
        path.display()
    )]
    FileExists {
        /// The file.
        path: PathBuf,
    },

    /// The run was given no migrations or no targets where it needs some.
    #[error("nothing to do: {reason}")]
    Nothing {
        /// What is missing.
        reason: String,
    },
}

impl From<sqlx::Error> for MigrateError {
    fn from(error: sqlx::Error) -> Self {
        MigrateError::Library(error.into())
    }
}
