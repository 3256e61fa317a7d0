//! Why a lifecycle job (erasure, export, import) refused or stopped.

/// A table the erasure plan cannot cover, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanProblem {
    /// The table, `schema.name`.
    pub table: String,
    /// What is wrong, and how to fix it.
    pub reason: String,
}

impl core::fmt::Display for PlanProblem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.table, self.reason)
    }
}

/// What went wrong in erasure, export or import, beyond a database error.
///
/// *Available with the `lifecycle` feature.*
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LifecycleError {
    /// The plan cannot cover every table that holds the tenant's rows;
    /// nothing was deleted or changed.
    #[error(
        "erasure refused before anything was deleted: {}",
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    PlanRefused {
        /// Every table the plan cannot cover.
        problems: Vec<PlanProblem>,
    },
    /// Another erasure of the same tenant holds the job's lock.
    #[error("an erasure of tenant {tenant} is already running (its session holds the job's lock)")]
    AlreadyRunning {
        /// The tenant key, as text.
        tenant: String,
    },
    /// Rows of the tenant remained after every step was done: something
    /// wrote them while the job ran. The ledger marks those tables pending,
    /// so running the erasure again (once writes for the tenant stop)
    /// finishes it.
    #[error(
        "tenant {tenant} still has rows after erasure (written while it ran?): {}; stop writes for the tenant and run the erasure again",
        remaining.iter().map(|(table, rows)| format!("{table}: {rows}")).collect::<Vec<_>>().join(", ")
    )]
    RowsRemain {
        /// The tenant key, as text.
        tenant: String,
        /// The tables and their remaining (or still identifiable) rows.
        remaining: Vec<(String, i64)>,
    },
    /// An export file or stream could not be written or read.
    #[error("export data: {0}")]
    Io(#[from] std::io::Error),
    /// An export is not in the expected form, or does not match its
    /// manifest.
    #[error("export data: {0}")]
    InvalidExport(String),
    /// The certificate could not be serialised (it holds only strings and
    /// numbers, so this points at a bug).
    #[error("certificate: {0}")]
    Json(#[from] serde_json::Error),
}
