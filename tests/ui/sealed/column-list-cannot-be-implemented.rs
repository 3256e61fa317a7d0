// Projections, conflict targets and upsert columns are tuples of generated
// columns: the list traits are sealed.
use tenancy_core::{ColumnList, ColumnRef};

pub struct Columns;

impl ColumnList for Columns {
    fn column_refs(&self) -> Vec<ColumnRef> {
        Vec::new()
    }
}

fn main() {}
