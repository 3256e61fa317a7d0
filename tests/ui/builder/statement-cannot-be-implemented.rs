// Executors run statements built by tenancy only: `BuildStatement` is
// sealed, so hand-written SQL cannot be dressed up as a scoped statement,
// nor can another builder be wrapped to report a scope it does not have.
use tenancy_core::{
    BuildError, BuildStatement, Dialect, Identifier, Statement, StatementScope, global_table,
};

#[global_table]
pub struct Plan {
    #[tenancy(primary_key)]
    pub id: i64,
}

pub struct Disguised;

impl BuildStatement for Disguised {
    fn scope(&self) -> StatementScope {
        StatementScope::Global
    }

    fn build_in(&self, dialect: Dialect, schema: &Identifier) -> Result<Statement, BuildError> {
        Plan::select().build_in(dialect, schema)
    }
}

fn main() {}
