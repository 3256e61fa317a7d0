//! PostgreSQL enum types: `CREATE TYPE .. AS ENUM` when the type is
//! missing, and `ALTER TYPE .. ADD VALUE` for a label declared since.
//!
//! PostgreSQL has no `CREATE TYPE IF NOT EXISTS`, so the type is created
//! from a `DO` block that first looks for it in `pg_type`: a same-named
//! type that is not this enum (a table's row type, say) is left alone, and
//! the drift check reports it. Names are checked identifiers, written
//! double-quoted; labels are written as string literals by
//! [`quote_literal`], never formatted raw.

use crate::error::DdlError;
use crate::ident::{MAX_IDENTIFIER_BYTES, is_identifier};
use crate::meta::{EnumType, SqlType, TableMeta};

/// Where [`add_enum_label`] puts a new label among the existing ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelPosition<'a> {
    /// Just before this existing label.
    Before(&'a str),
    /// Just after this existing label.
    After(&'a str),
    /// After every existing label.
    Last,
}

/// Whether `label` can be a PostgreSQL enum label: 1 to 63 bytes (the
/// server's limit) without a NUL byte. Quotes, backslashes and semicolons
/// are fine: labels are written as literals.
#[must_use]
pub const fn is_enum_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_IDENTIFIER_BYTES {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == 0 {
            return false;
        }
        index += 1;
    }
    true
}

/// `text` as a PostgreSQL string literal that means the same whatever
/// `standard_conforming_strings` says: `'open'`, or in the escape form
/// `E'it''s \\ \x24'` when it holds a quote, a backslash or a `$` (written
/// as an escape, so a literal can never close a dollar-quoted `DO` body).
#[must_use]
pub fn quote_literal(text: &str) -> String {
    if !text.contains(['\'', '\\', '$']) {
        return format!("'{text}'");
    }
    let mut quoted = String::with_capacity(text.len() + 4);
    quoted.push_str("E'");
    for c in text.chars() {
        match c {
            '\'' => quoted.push_str("''"),
            '\\' => quoted.push_str("\\\\"),
            '$' => quoted.push_str("\\x24"),
            other => quoted.push(other),
        }
    }
    quoted.push('\'');
    quoted
}

/// The statement that creates the enum type `schema.name` with `labels`,
/// in that order, unless a type of that name exists there already. Without
/// a schema, the type is created in (and looked for in) the first schema
/// of `search_path`, as an unqualified `CREATE TYPE` is.
///
/// ```
/// use tenancy_core::ddl::create_enum_type;
///
/// let sql = create_enum_type(Some("public"), "ticket_state", &["open", "it's done"])?;
/// assert_eq!(
///     sql,
///     "DO $tenancy$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t \
///      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
///      WHERE n.nspname = 'public' AND t.typname = 'ticket_state') \
///      THEN CREATE TYPE \"public\".\"ticket_state\" AS ENUM ('open', E'it''s done'); \
///      END IF; END $tenancy$"
/// );
/// # Ok::<(), tenancy_core::DdlError>(())
/// ```
pub fn create_enum_type<L: AsRef<str>>(
    schema: Option<&str>,
    name: &str,
    labels: &[L],
) -> Result<String, DdlError> {
    let qualified = qualified_name(schema, name)?;
    if labels.is_empty() {
        return Err(invalid(schema, name, "it has no label".to_owned()));
    }
    for (index, label) in labels.iter().enumerate() {
        let label = label.as_ref();
        check_label(schema, name, label)?;
        if labels[..index]
            .iter()
            .any(|earlier| earlier.as_ref() == label)
        {
            return Err(invalid(
                schema,
                name,
                format!("label {label:?} appears twice"),
            ));
        }
    }
    let namespace = match schema {
        Some(schema) => quote_literal(schema),
        None => "current_schema()".to_owned(),
    };
    let labels: Vec<String> = labels
        .iter()
        .map(|label| quote_literal(label.as_ref()))
        .collect();
    Ok(format!(
        "DO $tenancy$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
         WHERE n.nspname = {namespace} AND t.typname = {}) \
         THEN CREATE TYPE {qualified} AS ENUM ({}); END IF; END $tenancy$",
        quote_literal(name),
        labels.join(", ")
    ))
}

/// `ALTER TYPE .. ADD VALUE IF NOT EXISTS`: `label` added to the enum type
/// `schema.name` at `position`.
///
/// PostgreSQL (12 and later) runs it inside a transaction, but a label
/// added there cannot be used (cast to, stored) until that transaction has
/// committed: add labels in a transaction that only changes the schema.
///
/// ```
/// use tenancy_core::ddl::{LabelPosition, add_enum_label};
///
/// assert_eq!(
///     add_enum_label(None, "ticket_state", "pending", LabelPosition::After("open"))?,
///     "ALTER TYPE \"ticket_state\" ADD VALUE IF NOT EXISTS 'pending' AFTER 'open'"
/// );
/// # Ok::<(), tenancy_core::DdlError>(())
/// ```
pub fn add_enum_label(
    schema: Option<&str>,
    name: &str,
    label: &str,
    position: LabelPosition<'_>,
) -> Result<String, DdlError> {
    let qualified = qualified_name(schema, name)?;
    check_label(schema, name, label)?;
    let mut sql = format!(
        "ALTER TYPE {qualified} ADD VALUE IF NOT EXISTS {}",
        quote_literal(label)
    );
    let (word, neighbour) = match position {
        LabelPosition::Before(neighbour) => ("BEFORE", neighbour),
        LabelPosition::After(neighbour) => ("AFTER", neighbour),
        LabelPosition::Last => return Ok(sql),
    };
    check_label(schema, name, neighbour)?;
    sql.push_str(&format!(" {word} {}", quote_literal(neighbour)));
    Ok(sql)
}

/// The enum types `table`'s columns use, each once, in column order.
#[must_use]
pub fn enum_types(table: &'static TableMeta) -> Vec<&'static EnumType> {
    let mut types: Vec<&'static EnumType> = Vec::new();
    for column in table.columns {
        if let SqlType::Enum(enum_type) = column.sql_type
            && !types.iter().any(|known| core::ptr::eq(*known, enum_type))
        {
            types.push(enum_type);
        }
    }
    types
}

/// `"schema"."name"` or `"name"`, both checked.
fn qualified_name(schema: Option<&str>, name: &str) -> Result<String, DdlError> {
    if !is_identifier(name) || !schema.is_none_or(is_identifier) {
        return Err(invalid(
            schema,
            name,
            "its name and schema must be identifiers: 1 to 63 bytes, an ASCII letter or `_`, then ASCII letters, digits or `_`".to_owned(),
        ));
    }
    Ok(match schema {
        Some(schema) => format!("\"{schema}\".\"{name}\""),
        None => format!("\"{name}\""),
    })
}

fn check_label(schema: Option<&str>, name: &str, label: &str) -> Result<(), DdlError> {
    if is_enum_label(label) {
        Ok(())
    } else {
        Err(invalid(
            schema,
            name,
            format!("label {label:?} is not 1 to 63 bytes without a NUL byte"),
        ))
    }
}

fn invalid(schema: Option<&str>, name: &str, reason: String) -> DdlError {
    DdlError::InvalidEnumType {
        type_name: match schema {
            Some(schema) => format!("{schema}.{name}"),
            None => name.to_owned(),
        },
        reason,
    }
}
