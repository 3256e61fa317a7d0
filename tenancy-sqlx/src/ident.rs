//! SQL identifiers that come from outside the program (role, schema and table
//! names): validated when they are made (by `tenancy-core`'s one rule),
//! quoted when they are rendered, never formatted into SQL as they are.

use crate::Error;

pub(crate) use tenancy_core::Identifier;

/// A table's name, schema-qualified when it has a schema, quoted.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))] // PostgreSQL only
pub(crate) fn quoted_table(schema: Option<&str>, table: &str) -> Result<String, Error> {
    let table = Identifier::new("table", table)?;
    Ok(match schema {
        Some(schema) => format!(
            "{}.{}",
            Identifier::new("schema", schema)?.quoted(),
            table.quoted()
        ),
        None => table.quoted(),
    })
}

/// A name read from the database's catalog, quoted for SQL: any text is a
/// valid quoted identifier once its double quotes are doubled. Only for
/// names the catalog returned, never for names a user typed (those go
/// through [`Identifier`]).
#[cfg(feature = "postgres")]
pub(crate) fn quote_catalog_name(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) use tenancy_core::__private_v0_1::truncate_for_error;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_schema_and_table() {
        assert_eq!(
            quoted_table(Some("crm"), "Orders").unwrap(),
            "\"crm\".\"Orders\""
        );
        assert_eq!(quoted_table(None, "orders").unwrap(), "\"orders\"");
        assert!(quoted_table(Some("c rm"), "orders").is_err());
        assert!(quoted_table(None, "app-orders").is_err());
    }
}
