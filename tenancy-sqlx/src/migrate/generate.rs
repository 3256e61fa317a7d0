//! Migration files written by the library for the user to review and
//! commit: the first one from the registered tables, and drafts of the
//! next from drift.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType};

use super::MigrateError;
use crate::audit::{Finding, FindingKind};
use crate::drift::{Change, Drift, quoted_list};
use crate::ident::{Identifier, quoted_table};
use crate::manifest::{Manifest, TableSpec};

/// A reversible migration: `<version>_<name>.up.sql` and `.down.sql`, as
/// sqlx lays them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFiles {
    version: i64,
    name: String,
    up: String,
    down: String,
}

impl MigrationFiles {
    /// The version.
    #[must_use]
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The name (the file names' part after the version).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The up script.
    #[must_use]
    pub fn up(&self) -> &str {
        &self.up
    }

    /// The down script.
    #[must_use]
    pub fn down(&self) -> &str {
        &self.down
    }

    /// `<version>_<name>.up.sql` and `<version>_<name>.down.sql`.
    #[must_use]
    pub fn file_names(&self) -> [String; 2] {
        [
            format!("{}_{}.up.sql", self.version, self.name),
            format!("{}_{}.down.sql", self.version, self.name),
        ]
    }

    /// Writes both files into `dir` (created if missing); never overwrites
    /// a file.
    pub fn write_to(&self, dir: &Path) -> Result<[PathBuf; 2], MigrateError> {
        std::fs::create_dir_all(dir).map_err(|source| MigrateError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let [up_name, down_name] = self.file_names();
        let (up_path, down_path) = (dir.join(up_name), dir.join(down_name));
        for path in [&up_path, &down_path] {
            if path.exists() {
                return Err(MigrateError::FileExists { path: path.clone() });
            }
        }
        for (path, text) in [(&up_path, &self.up), (&down_path, &self.down)] {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|source| match source.kind() {
                    std::io::ErrorKind::AlreadyExists => {
                        MigrateError::FileExists { path: path.clone() }
                    }
                    _ => MigrateError::Write {
                        path: path.clone(),
                        source,
                    },
                })?;
            file.write_all(text.as_bytes())
                .map_err(|source| MigrateError::Write {
                    path: path.clone(),
                    source,
                })?;
        }
        Ok([up_path, down_path])
    }

    /// The two scripts as sqlx migrations, as `sqlx::migrate!` would read
    /// the files (same checksums).
    #[must_use]
    pub fn migrations(&self) -> Vec<Migration> {
        let description = self.name.replace('_', " ");
        [
            (MigrationType::ReversibleUp, &self.up),
            (MigrationType::ReversibleDown, &self.down),
        ]
        .into_iter()
        .map(|(kind, sql)| {
            Migration::new(
                self.version,
                description.clone().into(),
                kind,
                sqlx::AssertSqlSafe(sql.clone()).into_sql_str(),
                sql.starts_with("-- no-transaction"),
            )
        })
        .collect()
    }
}

/// Refuses a name sqlx's file layout cannot carry or a shell would mangle.
fn check_name(name: &str) -> Result<(), MigrateError> {
    let plain = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        Ok(())
    } else {
        Err(MigrateError::InvalidOption {
            reason: format!(
                "migration name {name:?}: use 1 to 100 lower-case letters, digits and `_`, such as `add_priority`"
            ),
        })
    }
}

fn check_version(version: i64) -> Result<(), MigrateError> {
    if version > 0 {
        Ok(())
    } else {
        Err(MigrateError::InvalidOption {
            reason: format!("migration version {version}: versions are positive integers"),
        })
    }
}

/// The version for a new migration in `dir`: one more than the highest if
/// the existing ones are numbered 1, 2, 3…, else (and for an empty or
/// missing directory) the current UTC time as `YYYYMMDDHHMMSS`, as
/// `sqlx migrate add` does.
pub fn next_version(dir: &Path) -> Result<i64, MigrateError> {
    let mut highest = None;
    if dir.exists() {
        let entries = std::fs::read_dir(dir).map_err(|error| MigrateError::Source {
            reason: format!("{}: {error}", dir.display()),
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(version) = name.split('_').next().and_then(|v| v.parse::<i64>().ok())
                && name.ends_with(".sql")
            {
                highest = highest.max(Some(version));
            }
        }
    }
    let now: i64 = chrono::Utc::now()
        .format("%Y%m%d%H%M%S")
        .to_string()
        .parse()
        .unwrap_or(1);
    Ok(match highest {
        // Sequential numbering continues.
        Some(highest) if highest < 10_000_000_000 => highest + 1,
        Some(highest) => now.max(highest + 1),
        None => now,
    })
}

const REVIEW: &str = "-- Review every statement before you commit this file: it says what the\n\
                      -- registered structs declare, not what your data needs.\n";

/// The first migration: every statement
/// [`OwnerPool::apply_schema`](crate::OwnerPool::apply_schema) runs for the
/// manifest's tables (the tables with their tenant-led keys and indexes,
/// row-level security, the policy and the grants), and a down script that
/// drops the tables.
///
/// Tables declared without a schema are created unqualified, so the same
/// file serves the shared schema and every tenant schema (the runner sets
/// `search_path` per target); when the manifest names the application role,
/// it is also granted `USAGE` on the schema the migration runs in.
pub fn initial(
    manifest: &Manifest,
    version: i64,
    name: &str,
) -> Result<MigrationFiles, MigrateError> {
    check_version(version)?;
    check_name(name)?;
    let mut up = format!(
        "-- The registered tables, generated by tenancy: the tables with their tenant-led keys\n\
         -- and indexes, row-level security, the tenant policy and the grants (the statements\n\
         -- OwnerPool::apply_schema runs).\n{REVIEW}\n"
    );
    for enum_type in manifest.enum_types() {
        up.push_str(&format!(
            "-- Enum type {}, unless it exists\n{};\n\n",
            enum_type.qualified_name(),
            enum_type.create_statement()
        ));
    }
    for table in manifest.tables() {
        up.push_str(&format!("-- {}\n", table.qualified_name()));
        for statement in table.create_statements() {
            up.push_str(&format!("{statement};\n\n"));
        }
    }
    if let Some(role) = manifest.role()
        && manifest
            .tables()
            .iter()
            .any(|table| table.schema().is_none())
    {
        up.push_str(&schema_usage(role));
    }
    for table in manifest.tables() {
        if table.rls_statements().is_empty() {
            continue;
        }
        up.push_str(&format!(
            "-- {}: row-level security and grants\n",
            table.qualified_name()
        ));
        for statement in table.rls_statements() {
            up.push_str(&format!("{statement};\n"));
        }
        up.push('\n');
    }
    let mut down =
        "-- Reverts the first migration: drops every registered table, and its rows.\n".to_owned();
    for table in manifest.tables().iter().rev() {
        down.push_str(&format!("DROP TABLE IF EXISTS {};\n", quoted(table)?));
    }
    for enum_type in manifest.enum_types().iter().rev() {
        down.push_str(&format!(
            "DROP TYPE IF EXISTS {};\n",
            enum_type.column_type()
        ));
    }
    Ok(MigrationFiles {
        version,
        name: name.to_owned(),
        up,
        down,
    })
}

/// `GRANT USAGE` on whatever schema the migration runs in: each tenant
/// schema needs it, and it cannot be named in a file shared by all.
fn schema_usage(role: &Identifier) -> String {
    format!(
        "-- The application role uses the tables of the schema this migration runs in.\n\
         DO $tenancy$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), '{role}'); END $tenancy$;\n\n"
    )
}

fn quoted(table: &TableSpec) -> Result<String, MigrateError> {
    Ok(quoted_table(table.schema(), table.name())?)
}

/// The findings after which a table's RLS statements and grants are
/// applied again.
const RLS_KINDS: [FindingKind; 5] = [
    FindingKind::RlsDisabled,
    FindingKind::RlsNotForced,
    FindingKind::PolicyMissing,
    FindingKind::PolicyRoleMismatch,
    FindingKind::PrivilegeMissing,
];

/// The draft of the next migration from `drift` (of the tables of
/// `manifest`, found in `placement`) and the audit's `findings` there: `ALTER
/// TABLE .. ADD COLUMN` for a new field, the other column, key and index
/// changes, the DDL of new tables, and the RLS statements of tables whose
/// row-level security or policy the audit found wanting. Destructive
/// changes (dropping a column the struct no longer declares) are written
/// as comments, for the user to decide. `None` if there is nothing to do.
pub fn draft(
    manifest: &Manifest,
    placement: Option<&Identifier>,
    drift: &[Drift],
    findings: &[Finding],
    version: i64,
    name: &str,
) -> Result<Option<MigrationFiles>, MigrateError> {
    check_version(version)?;
    check_name(name)?;
    let mut up: Vec<String> = Vec::new();
    let mut down: Vec<String> = Vec::new();
    for drift in drift {
        if enum_change(manifest, drift.change(), &mut up, &mut down)? {
            continue;
        }
        let Some(table) = drift.spec(manifest) else {
            continue;
        };
        change(table, drift.change(), &mut up, &mut down)?;
    }
    for table in manifest.tables() {
        let name = table.display_in(placement);
        let wanting = findings.iter().any(|finding| {
            finding.table.as_deref() == Some(name.as_str()) && RLS_KINDS.contains(&finding.kind)
        });
        let created_above = drift.iter().any(|drift| {
            matches!(drift.change(), Change::TableMissing) && drift.spec(manifest) == Some(table)
        });
        if wanting && !created_above && !table.rls_statements().is_empty() {
            let mut statements = format!(
                "-- {}: row-level security, the tenant policy and grants, as generated\n",
                table.qualified_name()
            );
            for statement in table.rls_statements() {
                statements.push_str(&format!("{statement};\n"));
            }
            up.push(statements);
        }
    }
    if up.is_empty() {
        return Ok(None);
    }
    down.reverse();
    let up = format!(
        "-- Draft of the next migration, from the differences between the registered tables\n\
         -- and the database.\n{REVIEW}\n{}",
        up.join("\n")
    );
    let down = format!(
        "-- Reverts the draft beside it. Review it as carefully: dropping a column drops its data.\n\n{}",
        down.join("\n")
    );
    Ok(Some(MigrationFiles {
        version,
        name: name.to_owned(),
        up,
        down,
    }))
}

/// The up and down SQL of a change to an enum type; `false` for a change
/// of a table. The type is named as the tables' DDL names it (unqualified
/// when declared without a schema), so the file serves every schema.
fn enum_change(
    manifest: &Manifest,
    change: &Change,
    up: &mut Vec<String>,
    down: &mut Vec<String>,
) -> Result<bool, MigrateError> {
    let declared = |type_name: &str| {
        let (schema, name) = type_name.split_once('.').unwrap_or(("", type_name));
        manifest.enum_types().iter().find(|spec| {
            spec.name() == name && spec.schema().is_none_or(|declared| declared == schema)
        })
    };
    match change {
        Change::EnumTypeMissing { enum_type, .. } => {
            up.push(format!(
                "-- Enum type {}, unless it exists\n{};\n",
                enum_type.qualified_name(),
                enum_type.create_statement()
            ));
            down.push(format!("DROP TYPE IF EXISTS {};\n", enum_type.column_type()));
        }
        Change::EnumLabelMissing {
            type_name,
            label,
            position,
            ..
        } => {
            let Some(spec) = declared(type_name) else {
                return Ok(true);
            };
            let sql = tenancy_core::ddl::add_enum_label(
                spec.schema(),
                spec.name(),
                label,
                position.position(),
            )
            .map_err(crate::Error::from)?;
            up.push(format!(
                "-- A label added in a transaction is usable once it commits: statements that\n                 -- store {label:?} belong in the next migration.\n{sql};\n"
            ));
            down.push(format!(
                "-- PostgreSQL cannot drop an enum label: {label:?} stays in {}.\n",
                spec.qualified_name()
            ));
        }
        Change::EnumLabelExtra { type_name, label } => up.push(format!(
            "-- Enum type {type_name} has label {label:?}, which the Rust enum does not declare.\n\
             -- PostgreSQL cannot drop a label: declare it, or move the rows off it, create the\n\
             -- type again without it and convert the columns (ALTER COLUMN .. TYPE .. USING).\n"
        )),
        Change::EnumLabelOrder {
            type_name,
            expected,
            found,
        } => up.push(format!(
            "-- Enum type {type_name} orders its labels {found:?}; the Rust enum declares {expected:?}.\n\
             -- PostgreSQL cannot reorder labels: declare them in the type's order, or create the\n\
             -- type again and convert the columns (ALTER COLUMN .. TYPE .. USING).\n"
        )),
        _ => return Ok(false),
    }
    Ok(true)
}

/// The up and down SQL of one change.
fn change(
    table: &TableSpec,
    change: &Change,
    up: &mut Vec<String>,
    down: &mut Vec<String>,
) -> Result<(), MigrateError> {
    let t = quoted(table)?;
    let q = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    match change {
        Change::TableMissing => {
            let mut statements = format!("-- {}: a new table\n", table.qualified_name());
            for statement in table.create_statements().iter().chain(table.rls_statements()) {
                statements.push_str(&format!("{statement};\n"));
            }
            up.push(statements);
            down.push(format!("DROP TABLE IF EXISTS {t};\n"));
        }
        Change::ColumnMissing { column } => {
            let c = q(column.name());
            if column.nullable() || column.generated() {
                up.push(format!("ALTER TABLE {t} ADD COLUMN {};\n", column.definition()?));
            } else {
                up.push(format!(
                    "-- {c} is NOT NULL: rows that exist need a value before the constraint holds.\n\
                     ALTER TABLE {t} ADD COLUMN {c} {};\n{}\
                     ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n",
                    column.sql_type(),
                    every_row(table, &t, &format!("-- UPDATE {t} SET {c} = <value> WHERE {c} IS NULL;\n"))
                ));
            }
            down.push(format!("ALTER TABLE {t} DROP COLUMN IF EXISTS {c};\n"));
        }
        Change::ColumnExtra {
            column,
            nullable,
            has_default,
            ..
        } => {
            let c = q(column);
            let mut text = format!(
                "-- {c} is not declared on the struct. Drop it once no deployed version uses it:\n\
                 -- ALTER TABLE {t} DROP COLUMN {c};\n"
            );
            if !nullable && !has_default {
                text.push_str(&format!(
                    "-- Until then, inserts from the struct need it to accept NULL:\n\
                     ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;\n"
                ));
                down.push(format!("ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n"));
            }
            up.push(text);
        }
        Change::ColumnType {
            column,
            expected,
            found,
        } => {
            let c = q(column);
            up.push(format!(
                "-- Rewrites the table under an ACCESS EXCLUSIVE lock; check that every value converts.\n\
                 ALTER TABLE {t} ALTER COLUMN {c} TYPE {expected} USING {c}::{expected};\n"
            ));
            down.push(format!("ALTER TABLE {t} ALTER COLUMN {c} TYPE {found} USING {c}::{found};\n"));
        }
        Change::ColumnNullability { column, nullable } => {
            let c = q(column);
            if *nullable {
                up.push(format!("ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;\n"));
                down.push(format!("ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n"));
            } else {
                up.push(format!(
                    "{}ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n",
                    every_row(table, &t, &format!("-- UPDATE {t} SET {c} = <value> WHERE {c} IS NULL;\n"))
                ));
                down.push(format!("ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;\n"));
            }
        }
        Change::ColumnNotGenerated { column } => {
            let c = q(column);
            let setval = format!(
                "SELECT setval(pg_get_serial_sequence('{literal}', '{column}'), coalesce(max({c}), 0) + 1, false) FROM {t};\n",
                literal = t.replace('\'', "''"),
                column = column.replace('\'', "''")
            );
            up.push(format!(
                "ALTER TABLE {t} ALTER COLUMN {c} ADD GENERATED BY DEFAULT AS IDENTITY;\n\
                 -- New values start above the existing ones.\n{}",
                every_row(table, &t, &setval)
            ));
            down.push(format!("ALTER TABLE {t} ALTER COLUMN {c} DROP IDENTITY IF EXISTS;\n"));
        }
        Change::PrimaryKey { expected, found } => {
            let restore = found
                .as_ref()
                .map(|(name, columns)| format!(", ADD CONSTRAINT {} PRIMARY KEY {}", q(name), quoted_list(columns)))
                .unwrap_or_default();
            let key_name = found
                .as_ref()
                .map_or_else(|| format!("{}_pkey", table.name()), |(name, _)| name.clone());
            match (expected.is_empty(), found) {
                (true, Some((name, _))) => up.push(format!(
                    "-- The primary key {} is not declared on the struct. To drop it:\n\
                     -- ALTER TABLE {t} DROP CONSTRAINT {};\n",
                    q(name),
                    q(name)
                )),
                (_, Some((name, _))) => {
                    up.push(format!(
                        "ALTER TABLE {t} DROP CONSTRAINT {}, ADD CONSTRAINT {} PRIMARY KEY {};\n",
                        q(name),
                        q(&key_name),
                        quoted_list(expected)
                    ));
                    down.push(format!("ALTER TABLE {t} DROP CONSTRAINT {}{restore};\n", q(&key_name)));
                }
                (_, None) => {
                    up.push(format!(
                        "ALTER TABLE {t} ADD CONSTRAINT {} PRIMARY KEY {};\n",
                        q(&key_name),
                        quoted_list(expected)
                    ));
                    down.push(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {};\n", q(&key_name)));
                }
            }
        }
        Change::UniqueMissing { columns } => {
            let name = format!("{}_{}_key", table.name(), columns.join("_"));
            up.push(format!(
                "ALTER TABLE {t} ADD CONSTRAINT {} UNIQUE {};\n",
                q(&name),
                quoted_list(columns)
            ));
            down.push(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {};\n", q(&name)));
        }
        Change::UniqueExtra {
            name, constraint, ..
        } => up.push(if *constraint {
            format!(
                "-- Unique key {} is not declared on the struct. To drop it:\n\
                 -- ALTER TABLE {t} DROP CONSTRAINT {};\n",
                q(name),
                q(name)
            )
        } else {
            format!("-- Unique index {name} is not declared on the struct. To drop it:\n-- DROP INDEX {name};\n")
        }),
        Change::ForeignKeyMissing { key } => {
            let name = format!("{}_{}_fkey", table.name(), key.columns().join("_"));
            let target = quoted_table(key.target_schema(), key.target())?;
            up.push(format!(
                "ALTER TABLE {t} ADD CONSTRAINT {} FOREIGN KEY {} REFERENCES {target} {};\n",
                q(&name),
                quoted_list(key.columns()),
                quoted_list(key.target_columns())
            ));
            down.push(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {};\n", q(&name)));
        }
        Change::ForeignKeyExtra { name, .. } => up.push(format!(
            "-- Foreign key {} is not declared on the struct. To drop it:\n\
             -- ALTER TABLE {t} DROP CONSTRAINT {};\n",
            q(name),
            q(name)
        )),
        Change::IndexMissing { index } => {
            up.push(format!(
                "-- On a large table, build it with CREATE INDEX CONCURRENTLY in a migration of its own\n\
                 -- whose first line is `-- no-transaction`.\n{};\n",
                index.create_statement()
            ));
            down.push(format!("DROP INDEX IF EXISTS {};\n", index_name(table, index.name())?));
        }
        Change::IndexMismatch { index, .. } => {
            let name = index_name(table, index.name())?;
            up.push(format!("DROP INDEX IF EXISTS {name};\n{};\n", index.create_statement()));
            down.push(format!("DROP INDEX IF EXISTS {name};\n"));
        }
        Change::IndexInvalid { name, expected, .. } => {
            let qualified = index_name(table, name)?;
            let mut text = format!("-- {qualified} is invalid (an interrupted concurrent build).\nDROP INDEX IF EXISTS {qualified};\n");
            if *expected
                && let Some(index) = table.indexes().iter().find(|index| index.name() == name)
            {
                text.push_str(&format!("{};\n", index.create_statement()));
            }
            up.push(text);
        }
        // Written by `enum_change`.
        Change::EnumTypeMissing { .. }
        | Change::EnumLabelMissing { .. }
        | Change::EnumLabelExtra { .. }
        | Change::EnumLabelOrder { .. } => {}
    }
    Ok(())
}

/// `sql` (a backfill, a scan) as the table's owner sees every tenant's
/// rows: row-level security is forced on a tenant table, for its owner too,
/// so without this a backfill run by the migration would see no row at all.
/// `NO FORCE` lasts only until the migration's transaction commits, and the
/// table's `ACCESS EXCLUSIVE` lock keeps every other session from seeing it.
fn every_row(table: &TableSpec, quoted: &str, sql: &str) -> String {
    if !table.is_scoped() {
        return sql.to_owned();
    }
    format!(
        "-- Row-level security is forced on the table, for its owner too: lifted for this\n\
         -- transaction only, so that the statement sees every tenant's rows.\n\
         ALTER TABLE {quoted} NO FORCE ROW LEVEL SECURITY;\n{sql}\
         ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY;\n"
    )
}

/// An index's name as `DROP INDEX` needs it: in its table's schema.
fn index_name(table: &TableSpec, index: &str) -> Result<String, MigrateError> {
    let index = format!("\"{}\"", index.replace('"', "\"\""));
    Ok(match table.schema() {
        Some(schema) => format!(
            "{}.{index}",
            Identifier::new("schema", schema)
                .map_err(crate::Error::from)?
                .quoted()
        ),
        None => index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_are_checked() {
        assert!(check_name("add_priority").is_ok());
        for bad in ["", "Add", "a b", "../x", "a-b", "ü"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_version(0).is_err());
    }

    #[test]
    fn the_next_version_continues_the_numbering() {
        let dir = std::env::temp_dir().join(format!("tenancy-next-version-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(next_version(&dir).unwrap() > 20_240_000_000_000);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("1_first.up.sql"), "").unwrap();
        std::fs::write(dir.join("2_second.sql"), "").unwrap();
        std::fs::write(dir.join("README.md"), "").unwrap();
        assert_eq!(next_version(&dir).unwrap(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
