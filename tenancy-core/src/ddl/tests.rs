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
    type_name: "tests::State",
    schema: None,
    name: "ticket_state",
    labels: &["open", "closed"],
};

static SUPPORT_STATE: crate::meta::EnumType = crate::meta::EnumType {
    type_name: "tests::SupportState",
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

/// `STATE` again, from another Rust enum with other labels.
static OTHER_STATE: crate::meta::EnumType = crate::meta::EnumType {
    type_name: "tests::OtherState",
    schema: Some("public"),
    name: "Ticket_State",
    labels: &["open", "closed", "archived"],
};

static HOSTILE: crate::meta::EnumType = crate::meta::EnumType {
    type_name: "tests::Hostile",
    schema: None,
    name: "hostile",
    labels: &[
        "it's",
        "back\\slash",
        "semi;colon",
        "$tenancy$ END; DROP TABLE t; --",
    ],
};

static TICKET_COLUMNS: [ColumnMeta; 2] = [
    column("state", SqlType::Enum(&STATE), false),
    column("support", SqlType::Enum(&SUPPORT_STATE), true),
];
static TICKETS: TableMeta = table(None, "tickets", Some("tenant_id"), &TICKET_COLUMNS, &[]);
static HISTORY_COLUMNS: [ColumnMeta; 3] = [
    column("before", SqlType::Enum(&STATE), false),
    column("after", SqlType::Enum(&STATE), false),
    column("odd", SqlType::Enum(&HOSTILE), true),
];
static HISTORY: TableMeta = table(None, "history", Some("tenant_id"), &HISTORY_COLUMNS, &[]);
static OTHER_COLUMNS: [ColumnMeta; 1] = [column("state", SqlType::Enum(&OTHER_STATE), false)];
static OTHER: TableMeta = table(None, "others", Some("tenant_id"), &OTHER_COLUMNS, &[]);

#[test]
fn enum_types_are_created_once_before_the_first_table_that_uses_them() {
    let set = TableSet::new().with_meta(&TICKETS).with_meta(&HISTORY);
    let statements = set.create_statements(Dialect::Postgres).expect("valid set");
    let kinds: Vec<&str> = statements
        .iter()
        .map(|statement| {
            if statement.starts_with("DO ") {
                statement
                    .split("CREATE TYPE ")
                    .nth(1)
                    .and_then(|rest| rest.split(' ').next())
                    .unwrap_or("?")
            } else {
                statement.split(" (").next().unwrap_or("?")
            }
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "\"public\".\"ticket_state\"",
            "\"support\".\"ticket_state\"",
            "CREATE TABLE IF NOT EXISTS \"public\".\"tickets\"",
            "\"public\".\"hostile\"",
            "CREATE TABLE IF NOT EXISTS \"public\".\"history\"",
        ]
    );
    assert_eq!(
        statements[0],
        "DO $tenancy$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
         WHERE n.nspname = 'public' AND t.typname = 'ticket_state') \
         THEN CREATE TYPE \"public\".\"ticket_state\" AS ENUM ('open', 'closed'); END IF; END $tenancy$"
    );
    // In a tenant's schema, a type declared without one goes with the tables.
    let tenant = TableSet::new()
        .with_meta(&TICKETS)
        .in_schema(Identifier::new("schema", "tenant_7").expect("identifier"));
    let statements = tenant
        .create_statements(Dialect::Postgres)
        .expect("valid set");
    assert!(
        statements[0].contains("n.nspname = 'tenant_7'"),
        "{}",
        statements[0]
    );
    assert!(
        statements[0].contains("CREATE TYPE \"tenant_7\".\"ticket_state\""),
        "{}",
        statements[0]
    );
    assert!(
        statements[1].contains("CREATE TYPE \"support\".\"ticket_state\""),
        "{}",
        statements[1]
    );
    assert!(
        statements[2].contains("\"state\" \"tenant_7\".\"ticket_state\" NOT NULL"),
        "{}",
        statements[2]
    );
    // SQLite has no types to create.
    let sqlite = TableSet::new()
        .with_meta(&TICKETS)
        .create_statements(Dialect::Sqlite)
        .expect("valid set");
    assert!(sqlite[0].starts_with("CREATE TABLE"), "{sqlite:?}");
}

#[test]
fn hostile_labels_are_literals_that_cannot_leave_the_statement() {
    let sql = create_enum_type(None, HOSTILE.name, HOSTILE.labels).expect("valid labels");
    assert_eq!(
        sql,
        "DO $tenancy$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
         WHERE n.nspname = current_schema() AND t.typname = 'hostile') \
         THEN CREATE TYPE \"hostile\" AS ENUM (E'it''s', E'back\\\\slash', 'semi;colon', \
         E'\\x24tenancy\\x24 END; DROP TABLE t; --'); END IF; END $tenancy$"
    );
    // The dollar-quoted body holds no `$` but its own delimiters.
    assert_eq!(sql.matches('$').count(), 4, "{sql}");
    assert_eq!(
        add_enum_label(
            Some("public"),
            "hostile",
            "o'clock",
            LabelPosition::Before("it's")
        )
        .expect("valid labels"),
        "ALTER TYPE \"public\".\"hostile\" ADD VALUE IF NOT EXISTS E'o''clock' BEFORE E'it''s'"
    );
}

#[test]
fn enum_names_and_labels_postgres_cannot_hold_are_refused() {
    let long = "a".repeat(64);
    for (schema, name, labels) in [
        (None, "state\"; DROP TYPE x; --", &["a"][..]),
        (Some("my schema"), "state", &["a"][..]),
        (None, long.as_str(), &["a"][..]),
        (None, "state", &[""][..]),
        (None, "state", &[long.as_str()][..]),
        (None, "state", &["nul\0byte"][..]),
        (None, "state", &["a", "a"][..]),
        (None, "state", &[][..]),
    ] {
        let error = create_enum_type(schema, name, labels).expect_err("must be refused");
        assert!(
            matches!(error, DdlError::InvalidEnumType { .. }),
            "{error:?}"
        );
    }
    assert!(is_enum_label(&"é".repeat(31)));
    assert!(!is_enum_label(&"é".repeat(32)), "64 bytes");
    assert!(matches!(
        add_enum_label(None, "state", "", LabelPosition::After("a")),
        Err(DdlError::InvalidEnumType { .. })
    ));
}

#[test]
fn two_enums_declaring_one_type_with_other_labels_are_refused() {
    let set = TableSet::new().with_meta(&TICKETS).with_meta(&OTHER);
    let error = set
        .create_statements(Dialect::Postgres)
        .expect_err("a conflict");
    assert_eq!(
        error.to_string(),
        "`tests::State` and `tests::OtherState` both declare PostgreSQL enum type `public.ticket_state`, \
         with labels [\"open\", \"closed\"] and [\"open\", \"closed\", \"archived\"]; a type has one \
         list of labels: make the two declarations one, or give one its own type name"
    );
    assert_eq!(set.validate(), Err(error));
    // In another schema the two are different types.
    let apart = TableSet::new()
        .with_meta(&TICKETS)
        .with_meta(&OTHER)
        .in_schema(Identifier::new("schema", "tenant_7").expect("identifier"));
    assert_eq!(apart.validate(), Ok(()));
    assert_eq!(apart.enum_types().expect("no conflict").len(), 3);
}
