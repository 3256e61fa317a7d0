// Projections, conflict targets and upsert columns are tuples of generated
// columns and expressions: the list traits are sealed.
use tenancy_core::ColumnList;

pub struct Columns;

impl ColumnList for Columns {}

fn main() {}
