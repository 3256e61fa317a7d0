//! The `search_path` of the library's own DDL and catalog transactions.
//!
//! The generated DDL and migration files name tables declared without a
//! schema bare, so that one file serves the shared schema and every tenant
//! schema. Such a transaction therefore pins `search_path`, transaction-
//! locally, to exactly the schema it works on and `pg_temp` last:
//! `pg_catalog` is searched first (PostgreSQL puts it first unless it is
//! named), so a function or operator created in a schema the role may
//! write cannot stand in for a built-in one, and a temporary table, which
//! any role may create, cannot stand in for a table.

use sqlx::{AssertSqlSafe, Executor, PgConnection};

use crate::ident::Identifier;

/// `search_path TO "<schema>", pg_temp`: what `SET` or `SET LOCAL` takes.
pub(crate) fn only(schema: &Identifier) -> String {
    format!("search_path TO {}, pg_temp", schema.quoted())
}

/// Pins the search path of the open transaction on `connection` to
/// `schema` (see the module documentation); `COMMIT` or `ROLLBACK` ends it.
pub(crate) async fn pin(
    connection: &mut PgConnection,
    schema: &Identifier,
) -> Result<(), sqlx::Error> {
    connection
        .execute(AssertSqlSafe(format!("SET LOCAL {}", only(schema))))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_quoted_and_pg_temp_comes_last() {
        let schema = Identifier::new("schema", "tenant_42").unwrap();
        assert_eq!(only(&schema), r#"search_path TO "tenant_42", pg_temp"#);
    }
}
