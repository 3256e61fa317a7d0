// Column types come from tenancy only: `ColumnType` is sealed, so a type of
// the application's own cannot choose the value a filter binds (some value
// kinds would be written into the SQL text). Such a field takes
// `#[tenancy(sql_type = "..")]` and can be read, not filtered on.
use tenancy_core::sea_query::Value;
use tenancy_core::{ColumnType, SqlType};

pub struct Cents(pub i64);

impl ColumnType for Cents {
    const SQL_TYPE: SqlType = SqlType::BigInt;
    type Compare = i64;
    fn into_value(self) -> Value {
        self.0.into()
    }
}

fn main() {}
