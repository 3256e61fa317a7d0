//! Error types of the core crate.

/// A tenant key that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TenantIdError {
    /// The text is not the canonical form of a key of the expected type.
    #[error("malformed tenant id {input:?}: expected {expected}")]
    Malformed {
        /// The offending input, truncated.
        input: String,
        /// What a valid key looks like.
        expected: &'static str,
    },
}

/// A statement that cannot be built. Nothing is ever built half-scoped: every
/// case that could lose the tenant predicate is an error instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// An INSERT with no rows.
    #[error("INSERT into `{table}` has no rows: add one with `.row(..)` or `.set(..)`")]
    EmptyInsert {
        /// The table.
        table: &'static str,
    },
    /// INSERT rows that do not set the same columns.
    #[error("INSERT into `{table}`: row {row} sets different columns than row 0; every row must set the same columns")]
    InconsistentRows {
        /// The table.
        table: &'static str,
        /// The index of the first row that differs.
        row: usize,
    },
    /// An UPDATE that sets nothing.
    #[error("UPDATE of `{table}` sets no column: add `.set(column, value)`")]
    EmptyUpdate {
        /// The table.
        table: &'static str,
    },
    /// A subquery or join on a tenant-scoped table inside a statement that has
    /// no tenant (a statement on a global table).
    #[error("`{table}` is tenant-scoped, but the statement on global table `{outer}` has no tenant to scope it with; build the statement from a tenant-scoped table with a `TenantId`")]
    ScopedTableWithoutTenant {
        /// The tenant-scoped table referenced.
        table: &'static str,
        /// The global table the statement is on.
        outer: &'static str,
    },
    /// A statement that refers to the same table twice without aliases.
    #[error("`{table}` is referenced twice in one statement; self-joins are not supported by the scoped builder")]
    DuplicateTable {
        /// The table.
        table: &'static str,
    },
    /// A column of a table the statement does not reference.
    #[error("column `{table}.{column}` is used, but `{table}` is not in the statement's FROM or JOIN list")]
    UnknownTable {
        /// The table of the column.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
}
