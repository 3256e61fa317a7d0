//! Drift in words: what is wrong, what it breaks, and the SQL that fixes it.

use super::{Change, Drift, quoted_list};
use crate::audit::{Finding, FindingKind};

/// Said of every change `apply_schema` cannot make, so the user knows the
/// way forward.
const MIGRATE: &str =
    "write it as a migration (`tenancy migrate draft` drafts one from this drift)";

pub(super) fn kind(change: &Change) -> FindingKind {
    match change {
        Change::TableMissing => FindingKind::TableMissing,
        Change::ColumnMissing { .. } => FindingKind::ColumnMissing,
        Change::ColumnExtra { .. } => FindingKind::ColumnExtra,
        Change::ColumnType { .. } => FindingKind::ColumnTypeMismatch,
        Change::ColumnNullability { .. } => FindingKind::ColumnNullabilityMismatch,
        Change::ColumnNotGenerated { .. } => FindingKind::ColumnNotGenerated,
        Change::PrimaryKey { .. } => FindingKind::PrimaryKeyMismatch,
        Change::UniqueMissing { .. } => FindingKind::UniqueMissing,
        Change::UniqueExtra { .. } => FindingKind::UniqueExtra,
        Change::ForeignKeyMissing { .. } => FindingKind::ForeignKeyMissing,
        Change::ForeignKeyExtra { .. } => FindingKind::ForeignKeyExtra,
        Change::IndexMissing { .. } => FindingKind::IndexMissing,
        Change::IndexMismatch { .. } => FindingKind::IndexMismatch,
        Change::IndexInvalid { .. } => FindingKind::IndexInvalid,
        Change::EnumTypeMissing { .. } => FindingKind::EnumTypeMissing,
        Change::EnumLabelMissing { .. } => FindingKind::EnumLabelMissing,
        Change::EnumLabelExtra { .. } => FindingKind::EnumLabelExtra,
        Change::EnumLabelOrder { .. } => FindingKind::EnumLabelOrder,
    }
}

pub(super) fn finding(drift: &Drift) -> Finding {
    let table = &drift.quoted;
    let columns = |columns: &[String]| Change::columns_text(columns);
    let (message, fix) = match &drift.change {
        Change::TableMissing => (
            "the table is registered but does not exist".to_owned(),
            "run the migrations (`OwnerPool::apply_schema`, or `tenancy migrate up`)".to_owned(),
        ),
        Change::ColumnMissing { column } => {
            let not_null = !column.nullable() && !column.generated();
            (
                format!(
                    "column `{}` ({}{}) is declared on the struct but missing from the table: \
                     every statement that names it fails with `column \"{}\" does not exist`",
                    column.name(),
                    column.sql_type(),
                    if not_null { " NOT NULL" } else { "" },
                    column.name()
                ),
                format!(
                    "{MIGRATE}: ALTER TABLE {table} ADD COLUMN {}{}",
                    column
                        .definition()
                        .unwrap_or_else(|_| column.name().to_owned()),
                    if not_null {
                        " (a table with rows needs it added nullable, backfilled, then SET NOT NULL)"
                    } else {
                        ""
                    }
                ),
            )
        }
        Change::ColumnExtra {
            column,
            sql_type,
            nullable,
            has_default,
        } => {
            let breaks = !nullable && !has_default;
            (
                format!(
                    "column `{column}` ({sql_type}{}) is not declared on the struct: {}",
                    if *nullable { "" } else { ", NOT NULL" },
                    if breaks {
                        "it has no default, so every insert from the struct fails"
                    } else {
                        "the application never reads or writes it"
                    }
                ),
                format!(
                    "declare it on the struct, or {MIGRATE}: ALTER TABLE {table} DROP COLUMN \"{column}\" \
                     once no deployed version uses it"
                ),
            )
        }
        Change::ColumnType {
            column,
            expected,
            found,
        } => (
            format!(
                "column `{column}` is `{found}` in the table but declared {expected}: values are \
                 decoded as the declared type, and fail or lose precision"
            ),
            format!(
                "{MIGRATE}: ALTER TABLE {table} ALTER COLUMN \"{column}\" TYPE {expected} USING \"{column}\"::{expected}"
            ),
        ),
        Change::ColumnNullability { column, nullable } => {
            if *nullable {
                (
                    format!(
                        "column `{column}` is NOT NULL in the table but declared nullable (an `Option` field): \
                         inserting `None` fails"
                    ),
                    format!(
                        "{MIGRATE}: ALTER TABLE {table} ALTER COLUMN \"{column}\" DROP NOT NULL"
                    ),
                )
            } else {
                (
                    format!(
                        "column `{column}` accepts NULL in the table but is declared NOT NULL (not an \
                         `Option` field): reading a NULL fails"
                    ),
                    format!(
                        "{MIGRATE}: fill its NULLs, then ALTER TABLE {table} ALTER COLUMN \"{column}\" SET NOT NULL"
                    ),
                )
            }
        }
        Change::ColumnNotGenerated { column } => (
            format!(
                "column `{column}` is declared generated, but the table neither generates it nor has a \
                 default: inserts from the struct leave it out and fail"
            ),
            format!(
                "{MIGRATE}: ALTER TABLE {table} ALTER COLUMN \"{column}\" ADD GENERATED BY DEFAULT AS IDENTITY"
            ),
        ),
        Change::PrimaryKey { expected, found } => {
            let add = format!("ADD PRIMARY KEY {}", quoted_list(expected));
            match found {
                None => (
                    format!(
                        "the table has no primary key; the struct declares ({})",
                        columns(expected)
                    ),
                    format!("{MIGRATE}: ALTER TABLE {table} {add}"),
                ),
                Some((name, found)) if expected.is_empty() => (
                    format!(
                        "primary key `{name}` on ({}) is not declared on the struct",
                        columns(found)
                    ),
                    format!(
                        "declare it (`#[tenancy(primary_key)]`), or {MIGRATE}: ALTER TABLE {table} DROP CONSTRAINT \"{name}\""
                    ),
                ),
                Some((name, found)) => (
                    format!(
                        "the primary key `{name}` is on ({}), but the struct declares ({}): lookups and \
                         upserts by the declared key are not unique",
                        columns(found),
                        columns(expected)
                    ),
                    format!("{MIGRATE}: ALTER TABLE {table} DROP CONSTRAINT \"{name}\", {add}"),
                ),
            }
        }
        Change::UniqueMissing { columns: key } => (
            format!(
                "no unique key on ({}), which the struct declares: duplicates are accepted, and \
                 `ON CONFLICT` on those columns fails",
                columns(key)
            ),
            format!(
                "{MIGRATE}: ALTER TABLE {table} ADD UNIQUE {}",
                quoted_list(key)
            ),
        ),
        Change::UniqueExtra {
            name,
            columns: key,
            constraint,
        } => (
            format!(
                "unique {} `{name}` on ({}) is not declared on the struct: writes the application \
                 expects to succeed can fail",
                if *constraint { "key" } else { "index" },
                columns(key)
            ),
            if *constraint {
                format!(
                    "declare it (`#[tenancy(unique)]`), or ALTER TABLE {table} DROP CONSTRAINT \"{name}\""
                )
            } else {
                format!("declare it (`#[tenancy(unique)]`), or DROP INDEX {name}")
            },
        ),
        Change::ForeignKeyMissing { key } => {
            let target = match key.target_schema() {
                Some(schema) => format!("\"{schema}\".\"{}\"", key.target()),
                None => format!("\"{}\"", key.target()),
            };
            (
                format!(
                    "no foreign key ({}) referencing `{}` ({}), which the struct declares: rows can \
                     reference rows that do not exist",
                    columns(key.columns()),
                    key.target(),
                    columns(key.target_columns())
                ),
                format!(
                    "{MIGRATE}: ALTER TABLE {table} ADD FOREIGN KEY {} REFERENCES {target} {}",
                    quoted_list(key.columns()),
                    quoted_list(key.target_columns())
                ),
            )
        }
        Change::ForeignKeyExtra {
            name,
            columns: key,
            target,
            target_columns,
        } => (
            format!(
                "foreign key `{name}` ({}) referencing `{target}` ({}) is not declared on the struct",
                columns(key),
                columns(target_columns)
            ),
            format!(
                "declare it (`#[tenancy(references = ..)]`), or ALTER TABLE {table} DROP CONSTRAINT \"{name}\""
            ),
        ),
        Change::IndexMissing { index } => (
            format!(
                "index `{}` on ({}) is missing: the tenant's lookups by these columns scan the table",
                index.name(),
                columns(index.columns())
            ),
            format!(
                "`OwnerPool::apply_schema` creates it ({}); on a large table, create it CONCURRENTLY in a \
                 `-- no-transaction` migration instead",
                index.create_statement()
            ),
        ),
        Change::IndexMismatch {
            index,
            found,
            qualified,
        } => (
            format!(
                "index `{}` is on ({}), but the generated one of that name is on ({}): \
                 `CREATE INDEX IF NOT EXISTS` keeps the wrong one",
                index.name(),
                columns(found),
                columns(index.columns())
            ),
            format!(
                "{MIGRATE}: DROP INDEX {qualified}; {}",
                index.create_statement()
            ),
        ),
        Change::IndexInvalid {
            name, qualified, ..
        } => (
            format!(
                "index `{name}` is invalid (left by an interrupted `CREATE INDEX CONCURRENTLY` or \
                 `REINDEX CONCURRENTLY`): queries do not use it, but every write still maintains it"
            ),
            format!("DROP INDEX CONCURRENTLY {qualified}, then create it again"),
        ),
        Change::EnumTypeMissing {
            enum_type,
            type_name,
            other_kind,
        } => {
            if *other_kind {
                (
                    format!(
                        "`{type_name}` is not an enum type, but the columns of enum type `{}` name it: values of the enum cannot be stored",
                        enum_type.qualified_name()
                    ),
                    format!(
                        "rename or drop the other type, or declare the enum under another name; then `OwnerPool::apply_schema` creates it ({})",
                        enum_type.create_statement()
                    ),
                )
            } else {
                (
                    format!(
                        "enum type `{type_name}` does not exist: the table's columns of that type cannot be created"
                    ),
                    format!(
                        "`OwnerPool::apply_schema` creates it ({})",
                        enum_type.create_statement()
                    ),
                )
            }
        }
        Change::EnumLabelMissing {
            type_name,
            label,
            ..
        } => (
            format!(
                "enum type `{type_name}` has no label {label:?}, which the Rust enum declares: storing that variant fails"
            ),
            match super::add_label_statement(&drift.change) {
                Some(Ok(sql)) => format!(
                    "`OwnerPool::apply_schema` adds it ({sql}); the label is usable once that transaction has committed"
                ),
                _ => "`OwnerPool::apply_schema` adds it".to_owned(),
            },
        ),
        Change::EnumLabelExtra { type_name, label } => (
            format!(
                "enum type `{type_name}` has label {label:?}, which the Rust enum does not declare: reading a row that holds it fails"
            ),
            "declare the label on the enum; PostgreSQL cannot drop a label: to remove it, write a migration that moves the rows off it, creates the type again without it and converts the columns (`ALTER COLUMN .. TYPE .. USING`)".to_owned(),
        ),
        Change::EnumLabelOrder {
            type_name,
            expected,
            found,
        } => (
            format!(
                "enum type `{type_name}` orders its labels {found:?}, but the Rust enum declares {expected:?}: `ORDER BY` and comparisons on the column follow the type's order"
            ),
            "declare the labels in the type's order; PostgreSQL cannot reorder labels: to change the order, write a migration that creates the type again and converts the columns (`ALTER COLUMN .. TYPE .. USING`)".to_owned(),
        ),
    };
    Finding {
        table: Some(drift.table.clone()),
        kind: kind(&drift.change),
        message,
        fix,
    }
}
