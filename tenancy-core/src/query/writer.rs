//! The SQL writer: the one place statement text is written.
//!
//! Statements are written in one walk over the builder's own tree, the way
//! diesel's `AstPass` does it. Text enters a statement in four ways only:
//!
//! - [`keyword`](SqlWriter::keyword): the library's own SQL, `&'static`
//!   text written in this crate;
//! - [`checked_sql`](SqlWriter::checked_sql): the text of a `tenant_sql!`
//!   statement, `&'static` text that the macro checked when the program
//!   was compiled (its tables and parameters are written the two ways
//!   below);
//! - [`identifier`](SqlWriter::identifier) and its callers: names from table
//!   metadata (checked to be identifiers when the program was compiled) or
//!   from an [`Identifier`], always double-quoted;
//! - [`bind`](SqlWriter::bind): a placeholder, with its value recorded in
//!   the same call, so a placeholder and its value cannot drift apart.
//!
//! Values are `sea_query::Value`s (the adapter binds them with
//! `sea-query-sqlx`), but only the kinds in [`admit`] are accepted: the
//! ones the library constructs itself from its column types and tenant
//! keys. Any other kind is refused with a [`BuildError`] rather than
//! bound, in case one is ever built by a path that escaped the types.
//!
//! Casts (for PostgreSQL enums, `numeric`, `inet`, ...) belong here too
//! when the builder needs them: written after a placeholder from a
//! validated type name, never from a value.

use sea_query::{Value, Values};

use crate::BuildError;
use crate::ident::Identifier;
use crate::meta::TableMeta;
use crate::statement::{Dialect, Statement, StatementScope};

/// Writes one statement.
pub(crate) struct SqlWriter<'s> {
    dialect: Dialect,
    /// Where tables declared without a schema are.
    schema: &'s Identifier,
    sql: String,
    values: Vec<Value>,
    /// The positions in `values` of the JSON member keys bound so far.
    #[cfg(feature = "json")]
    json_keys: Vec<usize>,
    tables: Vec<&'static TableMeta>,
}

impl<'s> SqlWriter<'s> {
    pub(crate) fn new(dialect: Dialect, schema: &'s Identifier) -> Self {
        SqlWriter {
            dialect,
            schema,
            sql: String::with_capacity(256),
            values: Vec::with_capacity(8),
            #[cfg(feature = "json")]
            json_keys: Vec::new(),
            tables: Vec::with_capacity(2),
        }
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The library's own SQL text.
    pub(crate) fn keyword(&mut self, text: &'static str) {
        self.sql.push_str(text);
    }

    /// SQL text of a `tenant_sql!` statement, as the macro checked it.
    pub(crate) fn checked_sql(&mut self, text: &'static str) {
        self.sql.push_str(text);
    }

    /// `"name"`. Names come from metadata or an [`Identifier`], both of
    /// which hold identifiers only, so nothing needs escaping.
    pub(crate) fn identifier(&mut self, name: &str) {
        debug_assert!(crate::ident::is_identifier(name), "{name:?}");
        self.sql.push('"');
        self.sql.push_str(name);
        self.sql.push('"');
    }

    /// `"table"."column"`: columns are qualified by the bare table name,
    /// which is how SQL refers to a table in `FROM` whatever its schema.
    pub(crate) fn column(&mut self, table: &str, column: &str) {
        self.identifier(table);
        self.sql.push('.');
        self.identifier(column);
    }

    /// `"schema"."table"`: the table's declared schema, else the schema the
    /// statement is built for, so that no same-named table earlier in
    /// `search_path` (or a SQLite `TEMP` table) can capture the statement.
    /// Records the table among those the statement touches.
    pub(crate) fn table(&mut self, table: &'static TableMeta) {
        match table.schema {
            Some(schema) => self.identifier(schema),
            None => {
                let schema = self.schema;
                self.identifier(schema.as_str());
            }
        }
        self.sql.push('.');
        self.identifier(table.name);
        if !self.tables.iter().any(|known| core::ptr::eq(*known, table)) {
            self.tables.push(table);
        }
    }

    /// `"schema"."name"` of an enum type: its declared schema, else the
    /// statement's, as for tables.
    pub(crate) fn enum_type(&mut self, enum_type: &'static crate::meta::EnumType) {
        let schema = enum_type.schema.unwrap_or(self.schema.as_str());
        self.identifier(schema);
        self.sql.push('.');
        self.identifier(enum_type.name);
    }

    /// A placeholder for `value`, and `value` as its binding.
    pub(crate) fn bind(&mut self, value: &Value) -> Result<(), BuildError> {
        admit(value, self.dialect)?;
        self.values.push(value.clone());
        match self.dialect {
            Dialect::Postgres => {
                self.sql.push('$');
                push_decimal(&mut self.sql, self.values.len());
            }
            Dialect::Sqlite => self.sql.push('?'),
        }
        Ok(())
    }

    /// A placeholder for the key of a JSON member (`doc ->> key`). A key
    /// stays a bound value, never SQL text, whatever it holds.
    ///
    /// On PostgreSQL each distinct key is bound once, however often the
    /// statement reads it: PostgreSQL matches the projection's `doc ->> $2`
    /// with the `GROUP BY`'s `doc ->> $5` only when both read the same
    /// parameter, so a member could not be grouped by and selected in one
    /// statement otherwise.
    ///
    /// SQLite reads the right operand of `->` and `->>` as a path when it
    /// starts with `$`, and a label with a backslash or a quote as escaped
    /// or cut short: the key is bound as the path `$."<key>"` that names the
    /// member of exactly that name. (SQLite needs no shared parameter: it
    /// does not match grouped expressions.)
    #[cfg(feature = "json")]
    pub(crate) fn bind_json_key(&mut self, key: &Value) -> Result<(), BuildError> {
        match (self.dialect, key) {
            (Dialect::Postgres, _) => {
                if let Some(&position) = self
                    .json_keys
                    .iter()
                    .find(|&&position| self.values.get(position) == Some(key))
                {
                    self.sql.push('$');
                    push_decimal(&mut self.sql, position + 1);
                    return Ok(());
                }
                self.bind(key)?;
                self.json_keys.push(self.values.len() - 1);
                Ok(())
            }
            (Dialect::Sqlite, Value::String(Some(key))) => {
                self.bind(&Value::String(Some(sqlite_member_path(key))))
            }
            (Dialect::Sqlite, _) => self.bind(key),
        }
    }

    /// The statement written.
    pub(crate) fn finish(self, scope: StatementScope) -> Statement {
        Statement::new(self.sql, Values(self.values), scope, self.tables)
    }
}

/// The kinds of value the library binds: those its column types and tenant
/// keys convert into. sea-query writes a few other kinds (enums among them)
/// with text taken from the value, so anything else is refused. Values of
/// PostgreSQL-only types are refused for SQLite, whose driver has no
/// binding for them (and would fail at run time, or worse, store a decimal
/// as a float).
fn admit(value: &Value, dialect: Dialect) -> Result<(), BuildError> {
    if dialect == Dialect::Sqlite {
        let postgres_only = match value {
            #[cfg(feature = "decimal")]
            Value::Decimal(_) => Some("a `numeric` value (`rust_decimal::Decimal`)"),
            #[cfg(feature = "ipnetwork")]
            Value::IpNetwork(_) => Some("an `inet` value (`ipnetwork::IpNetwork`)"),
            #[cfg(feature = "array")]
            Value::Array(..) => Some("an array value"),
            _ => None,
        };
        if let Some(construct) = postgres_only {
            return Err(BuildError::UnsupportedInDialect {
                construct,
                dialect,
                hint: "SQLite has no such type; keep this table on PostgreSQL",
            });
        }
    }
    match value {
        Value::Bool(_)
        | Value::SmallInt(_)
        | Value::Int(_)
        | Value::BigInt(_)
        | Value::BigUnsigned(_)
        | Value::Float(_)
        | Value::Double(_)
        | Value::String(_)
        | Value::Bytes(_) => Ok(()),
        #[cfg(feature = "uuid")]
        Value::Uuid(_) => Ok(()),
        #[cfg(feature = "chrono")]
        Value::ChronoDate(_) | Value::ChronoDateTime(_) | Value::ChronoDateTimeUtc(_) => Ok(()),
        #[cfg(feature = "decimal")]
        Value::Decimal(_) => Ok(()),
        #[cfg(feature = "json")]
        Value::Json(_) => Ok(()),
        #[cfg(feature = "ipnetwork")]
        Value::IpNetwork(_) => Ok(()),
        // Only the element kinds of the library's array types.
        #[cfg(feature = "array")]
        Value::Array(sea_query::ArrayType::String | sea_query::ArrayType::BigInt, _) => Ok(()),
        // Other variants exist when other crates enable sea-query features.
        other => Err(BuildError::UnsupportedValue {
            kind: kind_of(other),
        }),
    }
}

/// The variant's name, without its contents (which may be hostile text).
fn kind_of(value: &Value) -> String {
    let debug = format!("{value:?}");
    let name = debug.split(['(', ' ', '{']).next().unwrap_or_default();
    name.chars().take(40).collect()
}

/// The SQLite JSON path `$."<key>"` of the member named `key`. SQLite ends
/// a quoted label at the first `"` and reads the label as JSON string text
/// when it holds a backslash, so `"`, `\` and control characters are
/// written as JSON escapes (a quote as `\u0022`), which SQLite compares
/// with the document's labels decoded.
#[cfg(feature = "json")]
fn sqlite_member_path(key: &str) -> String {
    use core::fmt::Write;

    let mut path = String::with_capacity(key.len() + 4);
    path.push_str("$.\"");
    for c in key.chars() {
        match c {
            '\\' => path.push_str("\\\\"),
            '"' => path.push_str("\\u0022"),
            c if c.is_control() => {
                // Writing to a `String` cannot fail.
                let _ = write!(path, "\\u{:04x}", u32::from(c));
            }
            c => path.push(c),
        }
    }
    path.push('"');
    path
}

/// Appends `n` in decimal, without the formatting machinery.
fn push_decimal(sql: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // `n % 10` is a digit: the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (n % 10) as u8;
        digits[at] = b'0' + digit;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        sql.push(char::from(digit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        for n in [0usize, 1, 9, 10, 99, 100, 12345, usize::MAX] {
            let mut text = String::new();
            push_decimal(&mut text, n);
            assert_eq!(text, n.to_string());
        }
    }

    #[cfg(feature = "json")]
    #[test]
    fn a_json_key_is_one_parameter_on_postgres_and_an_exact_path_on_sqlite() {
        let schema = Identifier::PUBLIC;
        let mut pg = SqlWriter::new(Dialect::Postgres, &schema);
        for key in ["kind", "other", "kind"] {
            pg.bind_json_key(&Value::from(key)).unwrap();
            pg.keyword(" ");
        }
        // A value equal to a key is not a key: it keeps its own parameter.
        pg.bind(&Value::from("kind")).unwrap();
        pg.keyword(" ");
        pg.bind_json_key(&Value::from("kind")).unwrap();
        let pg = pg.finish(StatementScope::Global);
        assert_eq!(pg.sql(), "$1 $2 $1 $3 $1");
        assert_eq!(
            pg.values().0,
            [
                Value::from("kind"),
                Value::from("other"),
                Value::from("kind")
            ]
        );

        let mut sqlite = SqlWriter::new(Dialect::Sqlite, &schema);
        for key in ["kind", "kind"] {
            sqlite.bind_json_key(&Value::from(key)).unwrap();
        }
        assert_eq!(sqlite.finish(StatementScope::Global).sql(), "??");
        for (key, path) in [
            ("kind", r#"$."kind""#),
            ("a.b", r#"$."a.b""#),
            ("$", r#"$."$""#),
            (r#"say "hi""#, r#"$."say \u0022hi\u0022""#),
            (r"back\slash", r#"$."back\\slash""#),
            ("tab\t", r#"$."tab\u0009""#),
        ] {
            assert_eq!(sqlite_member_path(key), path, "{key:?}");
        }
    }

    #[test]
    fn placeholders_and_values_are_written_together() {
        let schema = Identifier::PUBLIC;
        let mut pg = SqlWriter::new(Dialect::Postgres, &schema);
        let mut sqlite = SqlWriter::new(Dialect::Sqlite, &schema);
        for writer in [&mut pg, &mut sqlite] {
            writer.keyword("SELECT ");
            writer.bind(&Value::from(1i64)).unwrap();
            writer.keyword(", ");
            writer.bind(&Value::from("x")).unwrap();
        }
        let pg = pg.finish(StatementScope::Global);
        assert_eq!(pg.sql(), "SELECT $1, $2");
        assert_eq!(pg.values().0, [Value::from(1i64), Value::from("x")]);
        assert_eq!(sqlite.finish(StatementScope::Global).sql(), "SELECT ?, ?");
    }

    #[test]
    fn values_outside_the_library_s_kinds_are_refused() {
        use sea_query::{Enum, OptionEnum};
        let hostile = Value::Enum(OptionEnum::Some(Box::new(Enum {
            type_name: "mood\" OR TRUE --".into(),
            value: "happy".into(),
        })));
        let schema = Identifier::PUBLIC;
        let mut writer = SqlWriter::new(Dialect::Postgres, &schema);
        let refused = writer.bind(&hostile);
        assert_eq!(
            refused,
            Err(BuildError::UnsupportedValue {
                kind: "Enum".into()
            })
        );
        for value in [Value::TinyInt(Some(1)), Value::Char(Some('x'))] {
            assert!(writer.bind(&value).is_err(), "{value:?} accepted");
        }
        let written = writer.finish(StatementScope::Global);
        assert_eq!(written.sql(), "");
        assert!(written.values().0.is_empty());
    }
}
