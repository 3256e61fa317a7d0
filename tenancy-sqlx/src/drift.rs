//! Schema drift: where the live database no longer matches the registered
//! tables.
//!
//! Add a field to a `#[tenant_scoped]` struct and the database does not
//! follow by itself: `CREATE TABLE IF NOT EXISTS` leaves an existing table
//! as it is, and the first insert fails with `column "priority" of relation
//! "comments" does not exist`. This module compares every registered table
//! with the catalog and lists each difference as a [`Drift`]:
//!
//! | drift | what it breaks |
//! |---|---|
//! | a declared column is missing | every statement that names it |
//! | a column the struct does not declare | inserts, when it is `NOT NULL` without a default |
//! | another type, or modifier (`numeric(10,2)` for `NUMERIC(12, 2)`) | decoding, precision |
//! | `NULL` accepted where the field is not an `Option`, or refused where it is | reads, inserts |
//! | a generated column the database does not generate | inserts from the struct |
//! | another primary key, a missing or extra unique key | upserts, inserts |
//! | a missing or extra foreign key | integrity |
//! | a missing index, or another under the generated name | tenant lookups |
//! | an invalid index (an interrupted `CREATE INDEX CONCURRENTLY`) | writes, which still maintain it |
//! | a missing enum type ([`pg_enum!`](crate::pg_enum)), or its name taken by another kind of type | creating the table, storing the enum |
//! | a declared label missing from the type | storing that variant |
//! | a label the enum does not declare, or labels in another order | decoding rows that hold it, `ORDER BY` the column |
//!
//! Keys, foreign keys and indexes that do not lead with the tenant column,
//! row-level security and the policy are checked by [`audit`](crate::audit),
//! which reports drift too: [`OwnerPool::verify`](crate::OwnerPool::verify)
//! and [`audit::verify_tables`](crate::audit::verify_tables) list both.
//! [`OwnerPool::apply_schema`](crate::OwnerPool::apply_schema) refuses to
//! run over drift it cannot repair ([`Drift::blocks_apply`]) and says what
//! to do; the migration generator ([`migrate::draft`](crate::migrate),
//! feature `migrate`) turns drift into the draft of the next migration.
//!
//! ```no_run
//! # async fn run(owner: tenancy_sqlx::OwnerPool, tables: tenancy_sqlx::ddl::TableSet) -> Result<(), tenancy_sqlx::Error> {
//! use tenancy_sqlx::{drift, manifest::Manifest, rls::RlsPolicy};
//!
//! let manifest = Manifest::new(&tables, &RlsPolicy::for_role("app")?)?;
//! let mut connection = owner.pool().acquire().await?;
//! for drift in drift::detect(&mut connection, &manifest, None).await? {
//!     println!("{}: {}", drift.table(), drift.finding().message);
//! }
//! # Ok(()) }
//! ```
//!
//! Only the catalog is read (`pg_attribute`, `pg_constraint`, `pg_index`,
//! `pg_type`, `pg_enum`), which every role may read; nothing is changed.

mod catalog;
mod compare;
mod describe;
mod enums;

use std::collections::{BTreeSet, HashMap};

use sqlx::postgres::types::Oid;
use sqlx::{Connection, PgConnection};

pub(crate) use catalog::table_oid;
pub use enums::LabelAt;
pub(crate) use enums::{add_label_statement, drift as enum_type_drift};

use crate::Error;
use crate::audit::{Finding, FindingKind};
use crate::ident::Identifier;
use crate::manifest::{ColumnSpec, EnumTypeSpec, ForeignKeySpec, IndexSpec, Manifest, TableSpec};
use crate::search_path;

/// One difference between a registered table and the live database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    table: String,
    quoted: String,
    /// The registered table's declared schema and name.
    declared: (Option<String>, String),
    change: Change,
}

/// What differs (see the [module documentation](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The registered table does not exist.
    TableMissing,
    /// A declared column is missing.
    ColumnMissing {
        /// The column, as the DDL declares it.
        column: ColumnSpec,
    },
    /// The table has a column the struct does not declare.
    ColumnExtra {
        /// Its name.
        column: String,
        /// Its type, as the catalog names it.
        sql_type: String,
        /// Whether it accepts NULL.
        nullable: bool,
        /// Whether it has a default (or is an identity column).
        has_default: bool,
    },
    /// A column's type (or its modifier) differs.
    ColumnType {
        /// The column.
        column: String,
        /// The declared type, as the DDL writes it.
        expected: String,
        /// The type in the table, as the catalog names it.
        found: String,
    },
    /// A column accepts NULL where it is declared NOT NULL, or the reverse.
    ColumnNullability {
        /// The column.
        column: String,
        /// Whether it is declared nullable.
        nullable: bool,
    },
    /// A column declared generated is neither an identity column nor has a
    /// default.
    ColumnNotGenerated {
        /// The column.
        column: String,
    },
    /// The primary key is missing or has other columns.
    PrimaryKey {
        /// The declared key's columns (empty: none declared).
        expected: Vec<String>,
        /// The constraint's name and columns, if there is one.
        found: Option<(String, Vec<String>)>,
    },
    /// A declared unique key is missing.
    UniqueMissing {
        /// Its columns.
        columns: Vec<String>,
    },
    /// A unique key the struct does not declare.
    UniqueExtra {
        /// The constraint's name, or the unique index's qualified name.
        name: String,
        /// Its columns.
        columns: Vec<String>,
        /// A constraint (`true`) or a unique index (`false`).
        constraint: bool,
    },
    /// A declared foreign key is missing.
    ForeignKeyMissing {
        /// The key, as the DDL declares it.
        key: ForeignKeySpec,
    },
    /// A foreign key the struct does not declare.
    ForeignKeyExtra {
        /// The constraint's name.
        name: String,
        /// Its columns.
        columns: Vec<String>,
        /// The referenced table, as `regclass` names it.
        target: String,
        /// The referenced columns.
        target_columns: Vec<String>,
    },
    /// A generated index is missing (and its name is free).
    IndexMissing {
        /// The index, as the DDL creates it.
        index: IndexSpec,
    },
    /// An index has the generated name but other columns, so
    /// `CREATE INDEX IF NOT EXISTS` keeps it.
    IndexMismatch {
        /// The index, as the DDL creates it.
        index: IndexSpec,
        /// The columns of the index of that name.
        found: Vec<String>,
        /// Its qualified name.
        qualified: String,
    },
    /// An invalid index: what an interrupted `CREATE INDEX CONCURRENTLY`
    /// leaves behind.
    IndexInvalid {
        /// Its name.
        name: String,
        /// Its qualified name.
        qualified: String,
        /// Whether it has the name of a generated index.
        expected: bool,
    },
    /// A declared PostgreSQL enum type does not exist, or its name is taken
    /// by a type that is not an enum. Reported on the first table that
    /// uses it.
    EnumTypeMissing {
        /// The type, as declared.
        enum_type: EnumTypeSpec,
        /// Where it was looked for: `schema.name`.
        type_name: String,
        /// The name is another kind of type (a table's row type, a domain).
        other_kind: bool,
    },
    /// A label declared on the enum is missing from the type.
    EnumLabelMissing {
        /// The type: `schema.name`.
        type_name: String,
        /// The type as SQL writes it.
        quoted: String,
        /// The label.
        label: String,
        /// Where it goes, by its declared neighbours.
        position: LabelAt,
    },
    /// The type has a label the enum does not declare: reading a row that
    /// holds it fails. PostgreSQL cannot drop a label.
    EnumLabelExtra {
        /// The type: `schema.name`.
        type_name: String,
        /// The label.
        label: String,
    },
    /// The type's labels are in another order than declared, so ordering
    /// and comparing by the column disagree with the enum's order.
    EnumLabelOrder {
        /// The type: `schema.name`.
        type_name: String,
        /// The declared labels, in order.
        expected: Vec<String>,
        /// The type's labels, in their sort order.
        found: Vec<String>,
    },
}

impl Drift {
    /// The table, schema-qualified where it has or was placed in a schema.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The table's name as SQL writes it (quoted).
    #[must_use]
    pub fn quoted_table(&self) -> &str {
        &self.quoted
    }

    /// What differs.
    #[must_use]
    pub fn change(&self) -> &Change {
        &self.change
    }

    /// The registered table it is about, in `manifest`.
    #[must_use]
    pub fn spec<'m>(&self, manifest: &'m Manifest) -> Option<&'m TableSpec> {
        manifest.table(self.declared.0.as_deref(), &self.declared.1)
    }

    /// Whether [`OwnerPool::apply_schema`](crate::OwnerPool::apply_schema)
    /// refuses to run over it: it would break the application's statements
    /// and the generated DDL cannot repair it (`CREATE .. IF NOT EXISTS`
    /// never alters what exists). A missing table or index is created by
    /// it, an extra nullable column, unique key or foreign key is left
    /// alone and reported.
    #[must_use]
    pub fn blocks_apply(&self) -> bool {
        match &self.change {
            Change::TableMissing
            | Change::IndexMissing { .. }
            | Change::UniqueExtra { .. }
            | Change::ForeignKeyExtra { .. }
            | Change::EnumLabelMissing { .. } => false,
            Change::EnumTypeMissing { other_kind, .. } => *other_kind,
            Change::ColumnExtra {
                nullable,
                has_default,
                ..
            } => !nullable && !has_default,
            Change::IndexInvalid { expected, .. } => *expected,
            Change::PrimaryKey { expected, .. } => !expected.is_empty(),
            Change::ColumnMissing { .. }
            | Change::ColumnType { .. }
            | Change::ColumnNullability { .. }
            | Change::ColumnNotGenerated { .. }
            | Change::UniqueMissing { .. }
            | Change::ForeignKeyMissing { .. }
            | Change::IndexMismatch { .. }
            | Change::EnumLabelExtra { .. }
            | Change::EnumLabelOrder { .. } => true,
        }
    }

    /// The finding the audit reports for it: its kind, what is wrong and
    /// the SQL that fixes it.
    #[must_use]
    pub fn finding(&self) -> Finding {
        describe::finding(self)
    }

    /// The kind of finding it is.
    #[must_use]
    pub fn kind(&self) -> FindingKind {
        describe::kind(&self.change)
    }
}

/// Compares every table of `manifest` with the live database and returns
/// every difference, table by table in the manifest's order.
///
/// `placement` is the schema that tables declared without one are looked up
/// in: a tenant's schema in a schema-per-tenant deployment, or `None` for
/// the manifest's schema. Names resolve there and nowhere else: the
/// comparison runs with `search_path` pinned to that schema. Missing tables
/// are reported as [`Change::TableMissing`]. The enum types the tables use
/// are compared first (a type declared without a schema is looked for where
/// the tables are), each difference reported on the first table that uses
/// the type.
pub async fn detect(
    connection: &mut PgConnection,
    manifest: &Manifest,
    placement: Option<&Identifier>,
) -> Result<Vec<Drift>, Error> {
    let mut tx = connection.begin().await?;
    search_path::pin(&mut tx, placement.unwrap_or(manifest.schema())).await?;
    let mut drift = enum_type_drift(&mut tx, manifest, placement).await?;
    let mut resolved = Vec::with_capacity(manifest.tables().len());
    for table in manifest.tables() {
        let quoted = table.quoted_in(placement)?;
        let oid = table_oid(&mut tx, &quoted).await?;
        resolved.push((table, oid));
    }
    let scoped = scoped_tables(&resolved);
    let mut checker = Checker::new(&mut tx, manifest).await?;
    for (table, oid) in &resolved {
        match oid {
            Some(oid) => {
                drift.extend(
                    checker
                        .table(&mut tx, table, *oid, placement, &scoped)
                        .await?,
                );
            }
            None => drift.push(Drift {
                table: table.display_in(placement),
                quoted: table.quoted_in(placement)?,
                declared: declared(table),
                change: Change::TableMissing,
            }),
        }
    }
    tx.rollback().await?;
    Ok(drift)
}

fn declared(table: &TableSpec) -> (Option<String>, String) {
    (table.schema().map(str::to_owned), table.name().to_owned())
}

/// The registered tenant-scoped tables that exist, with their tenant column.
pub(crate) fn scoped_tables(resolved: &[(&TableSpec, Option<Oid>)]) -> Vec<(Oid, String)> {
    resolved
        .iter()
        .filter_map(|(table, oid)| Some(((*oid)?, table.tenant()?.column().to_owned())))
        .collect()
}

/// Compares tables one by one, with the declared types resolved once.
pub(crate) struct Checker {
    types: HashMap<String, Option<Oid>>,
}

impl Checker {
    /// Resolves every type `manifest` declares. `connection` must be inside
    /// a transaction (type names are resolved in savepoints).
    pub(crate) async fn new(
        connection: &mut PgConnection,
        manifest: &Manifest,
    ) -> Result<Self, Error> {
        let names: BTreeSet<String> = manifest
            .tables()
            .iter()
            .flat_map(|table| table.columns())
            .map(|column| column.sql_type().to_owned())
            .collect();
        let names: Vec<String> = names.into_iter().collect();
        Ok(Checker {
            types: catalog::resolve_types(connection, &names).await?,
        })
    }

    /// The drift of one existing table.
    pub(crate) async fn table(
        &mut self,
        connection: &mut PgConnection,
        table: &TableSpec,
        oid: Oid,
        placement: Option<&Identifier>,
        scoped: &[(Oid, String)],
    ) -> Result<Vec<Drift>, Error> {
        let live = catalog::LiveTable::read(connection, oid).await?;
        let mut targets = Vec::with_capacity(table.foreign_keys().len());
        for key in table.foreign_keys() {
            // A target declared without a schema is the set's (the DDL
            // names it so), not the referencing table's.
            let schema = match key.target_schema() {
                Some(schema) => Some(Identifier::new("schema", schema)?),
                None => placement.cloned(),
            };
            let quoted =
                crate::ident::quoted_table(schema.as_ref().map(Identifier::as_str), key.target())?;
            targets.push(table_oid(connection, &quoted).await?);
        }
        let context = compare::Context {
            types: &self.types,
            targets: &targets,
            scoped,
        };
        let quoted = table.quoted_in(placement)?;
        let name = table.display_in(placement);
        Ok(compare::changes(table, &live, &context)
            .into_iter()
            .map(|change| Drift {
                table: name.clone(),
                quoted: quoted.clone(),
                declared: declared(table),
                change,
            })
            .collect())
    }
}

impl Change {
    /// The columns a change is about, for messages.
    fn columns_text(columns: &[String]) -> String {
        columns
            .iter()
            .map(|column| format!("`{column}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `("a", "b")`, from names the manifest validated.
pub(crate) fn quoted_list(columns: &[String]) -> String {
    let quoted: Vec<String> = columns
        .iter()
        .map(|column| format!("\"{}\"", column.replace('"', "\"\"")))
        .collect();
    format!("({})", quoted.join(", "))
}
