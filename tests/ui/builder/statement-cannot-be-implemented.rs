// Executors run statements built by tenancy only: `BuildStatement` is
// sealed, so hand-written SQL cannot be dressed up as a scoped statement.
use tenancy_core::{BuildError, BuildStatement, Dialect, Statement, StatementScope};

pub struct HandWritten;

impl BuildStatement for HandWritten {
    fn scope(&self) -> StatementScope {
        StatementScope::Global
    }

    fn build(&self, _: Dialect) -> Result<Statement, BuildError> {
        Ok(Statement {
            sql: "SELECT * FROM orders".to_owned(),
            values: tenancy_core::sea_query::Values(Vec::new()),
            scope: StatementScope::Global,
        })
    }
}

fn main() {}
