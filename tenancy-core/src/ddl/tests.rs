//! The DDL's own checks of metadata the macros already refuse (bad names,
//! unsafe custom types, duplicate columns, unknown index columns): written
//! here as struct literals, since no public API can build such metadata.

use super::*;
use crate::meta::{ColumnMeta, SqlType, TableMeta, TenantColumnMeta};

const fn column(name: &'static str, sql_type: SqlType, nullable: bool) -> ColumnMeta {
    ColumnMeta {
        name,
        field: name,
        sql_type,
        nullable,
        primary_key: false,
        unique: false,
        indexed: false,
        generated: false,
        references: None,
        pii: None,
    }
}

const fn table(
    schema: Option<&'static str>,
    name: &'static str,
    tenant: Option<&'static str>,
    columns: &'static [ColumnMeta],
    indexes: &'static [&'static [&'static str]],
) -> TableMeta {
    TableMeta {
        type_name: "tests::Table",
        schema,
        name,
        tenant: match tenant {
            Some(name) => Some(TenantColumnMeta {
                name,
                sql_type: SqlType::BigInt,
            }),
            None => None,
        },
        columns,
        indexes,
    }
}

fn refused(table: &'static TableMeta, dialect: Dialect) -> DdlError {
    create_table(table, dialect).expect_err("metadata must be refused")
}

#[test]
fn every_sql_type_has_a_name_in_both_dialects() {
    static COLUMNS: [ColumnMeta; 13] = [
        column("a", SqlType::SmallInt, false),
        column("b", SqlType::Integer, false),
        column("c", SqlType::BigInt, false),
        column("d", SqlType::Real, false),
        column("e", SqlType::Double, false),
        column("f", SqlType::Boolean, false),
        column("g", SqlType::Text, false),
        column("h", SqlType::Bytes, false),
        column("i", SqlType::Uuid, false),
        column("j", SqlType::TimestampTz, false),
        column("k", SqlType::Timestamp, false),
        column("l", SqlType::Date, true),
        column("m", SqlType::Custom("NUMERIC(12, 2)"), true),
    ];
    static META: TableMeta = table(None, "types", None, &COLUMNS, &[]);
    let types = |dialect| column_lines(&META, dialect);
    assert_eq!(
        types(Dialect::Postgres),
        [
            "\"a\" SMALLINT NOT NULL,",
            "\"b\" INTEGER NOT NULL,",
            "\"c\" BIGINT NOT NULL,",
            "\"d\" REAL NOT NULL,",
            "\"e\" DOUBLE PRECISION NOT NULL,",
            "\"f\" BOOLEAN NOT NULL,",
            "\"g\" TEXT NOT NULL,",
            "\"h\" BYTEA NOT NULL,",
            "\"i\" UUID NOT NULL,",
            "\"j\" TIMESTAMPTZ NOT NULL,",
            "\"k\" TIMESTAMP NOT NULL,",
            "\"l\" DATE,",
            "\"m\" NUMERIC(12, 2)",
        ]
    );
    assert_eq!(
        types(Dialect::Sqlite),
        [
            "\"a\" INTEGER NOT NULL,",
            "\"b\" INTEGER NOT NULL,",
            "\"c\" INTEGER NOT NULL,",
            "\"d\" REAL NOT NULL,",
            "\"e\" REAL NOT NULL,",
            "\"f\" INTEGER NOT NULL,",
            "\"g\" TEXT NOT NULL,",
            "\"h\" BLOB NOT NULL,",
            "\"i\" BLOB NOT NULL,",
            "\"j\" TEXT NOT NULL,",
            "\"k\" TEXT NOT NULL,",
            "\"l\" TEXT,",
            "\"m\" NUMERIC(12, 2)",
        ]
    );
}

#[test]
fn names_that_are_not_identifiers_are_refused() {
    static COLUMNS: [ColumnMeta; 1] = [column("id\"; DROP TABLE x; --", SqlType::BigInt, false)];
    static BAD_COLUMN: TableMeta = table(None, "t", None, &COLUMNS, &[]);
    static BAD_SCHEMA: TableMeta = table(Some("my schema"), "t", None, &[], &[]);
    static BAD_TABLE: TableMeta = table(None, "1t", None, &[], &[]);
    static BAD_TENANT: TableMeta = table(None, "t", Some("tenant-id"), &[], &[]);
    static DOLLAR: TableMeta = table(None, "t$1", None, &[], &[]);

    let error = refused(&BAD_COLUMN, Dialect::Postgres);
    assert!(
        matches!(&error, DdlError::InvalidIdentifier { what: "column", .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("an ASCII letter or `_`, then ASCII letters, digits or `_`"),
        "{error}"
    );
    assert!(matches!(
        refused(&BAD_SCHEMA, Dialect::Sqlite),
        DdlError::InvalidIdentifier { what: "schema", .. }
    ));
    assert!(matches!(
        refused(&BAD_TABLE, Dialect::Postgres),
        DdlError::InvalidIdentifier { what: "table", .. }
    ));
    assert!(matches!(
        refused(&BAD_TENANT, Dialect::Postgres),
        DdlError::InvalidIdentifier {
            what: "tenant column",
            ..
        }
    ));
    assert!(matches!(
        refused(&DOLLAR, Dialect::Postgres),
        DdlError::InvalidIdentifier { what: "table", .. }
    ));
}

#[test]
fn custom_types_that_could_inject_sql_are_refused() {
    static COLUMNS: [ColumnMeta; 1] = [column(
        "a",
        SqlType::Custom("TEXT); DROP TABLE t; --"),
        false,
    )];
    static META: TableMeta = table(None, "t", None, &COLUMNS, &[]);
    assert_eq!(
        refused(&META, Dialect::Postgres),
        DdlError::InvalidSqlType {
            table: "t",
            column: "a",
            sql_type: "TEXT); DROP TABLE t; --",
        }
    );
}

#[test]
fn duplicate_columns_are_refused() {
    static COLUMNS: [ColumnMeta; 1] = [column("tenant_id", SqlType::BigInt, false)];
    static META: TableMeta = table(None, "t", Some("tenant_id"), &COLUMNS, &[]);
    assert_eq!(
        refused(&META, Dialect::Postgres),
        DdlError::DuplicateColumn {
            table: "t",
            column: "tenant_id",
        }
    );
}

#[test]
fn indexes_on_unknown_columns_are_refused() {
    static COLUMNS: [ColumnMeta; 1] = [column("a", SqlType::BigInt, false)];
    static META: TableMeta = table(None, "t", None, &COLUMNS, &[&["a", "b"]]);
    assert_eq!(
        refused(&META, Dialect::Sqlite),
        DdlError::UnknownIndexColumn {
            table: "t",
            column: "b"
        }
    );
}

static STATE: crate::meta::EnumType = crate::meta::EnumType {
    schema: None,
    name: "ticket_state",
    labels: &["open", "closed"],
};

static SUPPORT_STATE: crate::meta::EnumType = crate::meta::EnumType {
    schema: Some("support"),
    name: "ticket_state",
    labels: &["open"],
};

/// The column lines of `meta`'s `CREATE TABLE` in `dialect`.
fn column_lines(meta: &'static TableMeta, dialect: Dialect) -> Vec<String> {
    create_table(meta, dialect)
        .expect("valid metadata")
        .remove(0)
        .lines()
        .skip(1)
        .filter(|line| line.starts_with("    "))
        .map(|line| line.trim().to_owned())
        .collect()
}

#[test]
fn postgres_types_have_their_names_and_enums_are_qualified() {
    static COLUMNS: [ColumnMeta; 7] = [
        column("a", SqlType::Numeric, false),
        column("b", SqlType::Jsonb, false),
        column("c", SqlType::Inet, false),
        column("d", SqlType::TextArray, false),
        column("e", SqlType::BigIntArray, true),
        column("f", SqlType::Enum(&STATE), false),
        column("g", SqlType::Enum(&SUPPORT_STATE), true),
    ];
    static META: TableMeta = table(None, "types", None, &COLUMNS, &[]);
    assert_eq!(
        column_lines(&META, Dialect::Postgres),
        [
            "\"a\" NUMERIC NOT NULL,",
            "\"b\" JSONB NOT NULL,",
            "\"c\" INET NOT NULL,",
            "\"d\" TEXT[] NOT NULL,",
            "\"e\" BIGINT[],",
            "\"f\" \"public\".\"ticket_state\" NOT NULL,",
            "\"g\" \"support\".\"ticket_state\"",
        ]
    );
    // In a file for many schemas, an enum declared without one is
    // unqualified, like the table.
    let unqualified = create_table_unqualified(&META, Dialect::Postgres).expect("valid metadata");
    assert!(
        unqualified[0].contains("\"f\" \"ticket_state\" NOT NULL"),
        "{unqualified:?}"
    );
}

#[test]
fn sqlite_stores_json_and_enums_as_text_and_refuses_postgres_only_types() {
    static TEXT_LIKE: [ColumnMeta; 2] = [
        column("b", SqlType::Jsonb, false),
        column("f", SqlType::Enum(&STATE), false),
    ];
    static TEXT_META: TableMeta = table(None, "texts", None, &TEXT_LIKE, &[]);
    assert_eq!(
        column_lines(&TEXT_META, Dialect::Sqlite),
        ["\"b\" TEXT NOT NULL,", "\"f\" TEXT NOT NULL"]
    );
    static NUMERIC: [ColumnMeta; 1] = [column("amount", SqlType::Numeric, false)];
    static NUMERIC_META: TableMeta = table(None, "amounts", None, &NUMERIC, &[]);
    assert_eq!(
        refused(&NUMERIC_META, Dialect::Sqlite),
        DdlError::UnsupportedType {
            table: "amounts",
            column: "amount",
            sql_type: SqlType::Numeric,
            dialect: Dialect::Sqlite,
        }
    );
    for sql_type in [SqlType::Inet, SqlType::TextArray, SqlType::BigIntArray] {
        assert_eq!(crate::ddl::sql_type(sql_type, Dialect::Sqlite), None);
    }
}
