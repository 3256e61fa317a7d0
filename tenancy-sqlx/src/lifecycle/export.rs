//! Export and import of one tenant's rows, inside that tenant's own
//! transaction: NDJSON files, one per registered table, in foreign-key
//! order, with a manifest of row counts and SHA-256 checksums.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;
use tenancy_core::ddl::TableSet;
use tenancy_core::{KeyValue, TableMeta, TenantKey};

use super::error::LifecycleError;
use crate::backend::Backend;
use crate::{Error, Identifier, TenantTransaction};

/// The `format` of the manifests this version writes.
pub const EXPORT_FORMAT: &str = "tenancy-export-ndjson/1";

/// The manifest's file name in an export directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What an export holds: the tenant, and per table its file, row count and
/// the SHA-256 of the file's bytes. Written as `manifest.json` beside the
/// table files; an import checks every file against it.
///
/// *Available with the `lifecycle` feature.*
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportManifest {
    /// [`EXPORT_FORMAT`].
    pub format: String,
    /// The tenant key, as text.
    pub tenant: String,
    /// `tenancy-sqlx <version>`.
    pub library: String,
    /// The tables in foreign-key order (referenced tables first), which is
    /// the order an import inserts them in.
    pub tables: Vec<ExportedTable>,
}

/// One table of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedTable {
    /// `schema.name` as registered (the schema only if declared).
    pub table: String,
    /// The file, relative to the export directory.
    pub file: String,
    /// Rows in the file, one JSON object a line.
    pub rows: u64,
    /// SHA-256, lowercase hex, of the file's bytes.
    pub sha256: String,
    /// The statement that read the rows (the tenant key is its parameter).
    pub sql: String,
}

impl ExportManifest {
    /// The manifest of the export in `directory`.
    pub fn read(directory: &Path) -> Result<Self, Error> {
        let file = File::open(directory.join(MANIFEST_FILE)).map_err(LifecycleError::from)?;
        let manifest: ExportManifest =
            serde_json::from_reader(BufReader::new(file)).map_err(LifecycleError::from)?;
        if manifest.format != EXPORT_FORMAT {
            return Err(LifecycleError::InvalidExport(format!(
                "manifest format `{}`, expected `{EXPORT_FORMAT}`",
                manifest.format
            ))
            .into());
        }
        Ok(manifest)
    }

    /// The checksum of `table`, if the export has it.
    #[must_use]
    pub fn sha256(&self, table: &str) -> Option<&str> {
        self.tables
            .iter()
            .find(|entry| entry.table == table)
            .map(|entry| entry.sha256.as_str())
    }
}

/// The tenant-scoped tables of `tables`, referenced tables first.
fn in_key_order(tables: &TableSet) -> Result<Vec<&'static TableMeta>, Error> {
    let scoped: Vec<&'static TableMeta> = tables.scoped_tables()?.collect();
    let mut ordered: Vec<&'static TableMeta> = Vec::new();
    while ordered.len() < scoped.len() {
        let before = ordered.len();
        for table in &scoped {
            let placed = |t: &TableMeta| ordered.iter().any(|o| core::ptr::eq(*o, t));
            if placed(table) {
                continue;
            }
            let ready = table
                .columns
                .iter()
                .filter_map(|c| c.references)
                .all(|target| {
                    let target = target();
                    core::ptr::eq(target, *table)
                        || !scoped.iter().any(|s| core::ptr::eq(*s, target))
                        || placed(target)
                });
            if ready {
                ordered.push(table);
            }
        }
        if ordered.len() == before {
            // A cycle of references: the rest in registration order.
            for table in &scoped {
                if !ordered.iter().any(|o| core::ptr::eq(*o, *table)) {
                    ordered.push(table);
                }
            }
        }
    }
    Ok(ordered)
}

/// The quoted, qualified names and column lists the statements need.
struct TableSql {
    name: String,
    qualified: String,
    tenant: Identifier,
    columns: Vec<Identifier>,
    order_by: String,
}

impl TableSql {
    fn of(table: &'static TableMeta, schema: &Identifier) -> Result<Self, Error> {
        let tenant_name = table.tenant.map(|t| t.name).unwrap_or("tenant_id");
        let tenant = Identifier::new("column", tenant_name)?;
        let schema = match table.schema {
            Some(declared) => Identifier::new("schema", declared)?,
            None => schema.clone(),
        };
        let columns = table
            .columns
            .iter()
            .map(|c| Identifier::new("column", c.name))
            .collect::<Result<Vec<_>, _>>()?;
        let mut order: Vec<String> = vec![tenant.quoted()];
        order.extend(table.primary_key().map(|c| format!("\"{}\"", c.name)));
        if order.len() == 1 {
            order.extend(columns.iter().map(Identifier::quoted));
        }
        Ok(TableSql {
            name: table.qualified_name(),
            qualified: format!(
                "{}.{}",
                schema.quoted(),
                Identifier::new("table", table.name)?.quoted()
            ),
            tenant,
            columns,
            order_by: order.join(", "),
        })
    }

    fn file(&self) -> String {
        format!("{}.ndjson", self.name)
    }
}

/// What differs between the backends: how a row becomes one line of JSON,
/// and how a line becomes a row again.
trait ExportSql: Backend {
    /// `SELECT <row as JSON text> FROM t WHERE tenant = $1 ORDER BY key`.
    fn select_json(table: &TableSql) -> String;
    /// Inserts the row of JSON `$2` with the tenant column set to `$1`.
    fn insert_json(table: &TableSql) -> String;
}

#[cfg(feature = "postgres")]
impl ExportSql for crate::Postgres {
    fn select_json(table: &TableSql) -> String {
        let columns: Vec<String> = std::iter::once(&table.tenant)
            .chain(&table.columns)
            .map(|c| format!("'{}', t.{}", c.as_str(), c.quoted()))
            .collect();
        format!(
            "SELECT json_build_object({})::text FROM {} t WHERE t.{} = $1 ORDER BY {}",
            columns.join(", "),
            table.qualified,
            table.tenant.quoted(),
            table.order_by
        )
    }

    fn insert_json(table: &TableSql) -> String {
        let columns: Vec<String> = table.columns.iter().map(Identifier::quoted).collect();
        let values: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("r.{}", c.quoted()))
            .collect();
        format!(
            "INSERT INTO {q} ({tenant}, {columns}) SELECT $1, {values} FROM json_populate_record(NULL::{q}, $2::json) r",
            q = table.qualified,
            tenant = table.tenant.quoted(),
            columns = columns.join(", "),
            values = values.join(", ")
        )
    }
}

#[cfg(feature = "sqlite")]
impl ExportSql for crate::Sqlite {
    fn select_json(table: &TableSql) -> String {
        let columns: Vec<String> = std::iter::once(&table.tenant)
            .chain(&table.columns)
            .map(|c| format!("'{}', t.{}", c.as_str(), c.quoted()))
            .collect();
        format!(
            "SELECT json_object({}) FROM {} t WHERE t.{} = ?1 ORDER BY {}",
            columns.join(", "),
            table.qualified,
            table.tenant.quoted(),
            table.order_by
        )
    }

    fn insert_json(table: &TableSql) -> String {
        let columns: Vec<String> = table.columns.iter().map(Identifier::quoted).collect();
        let values: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("json_extract(?2, '$.\"{}\"')", c.as_str()))
            .collect();
        format!(
            "INSERT INTO {} ({}, {}) VALUES (?1, {})",
            table.qualified,
            table.tenant.quoted(),
            columns.join(", "),
            values.join(", ")
        )
    }
}

/// The tenant key as the integer both backends bind (an `integer` tenant
/// column compares and assigns with it too).
fn integer_key(key: KeyValue) -> Result<i64, Error> {
    match key {
        KeyValue::I32(key) => Ok(i64::from(key)),
        KeyValue::I64(key) => Ok(key),
        other => Err(LifecycleError::InvalidExport(format!(
            "tenant {other}: export and import take integer tenant keys"
        ))
        .into()),
    }
}

/// The body of `export_tenant`, for each backend.
async fn export_rows<K, DB>(
    tx: &mut TenantTransaction<K, DB>,
    tables: &TableSet,
    directory: &Path,
) -> Result<ExportManifest, Error>
where
    K: TenantKey,
    DB: ExportSql,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    (String,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    std::fs::create_dir_all(directory).map_err(LifecycleError::from)?;
    let key = tx.tenant().key_value();
    let bound = integer_key(key)?;
    let mut exported = Vec::new();
    for table in in_key_order(tables)? {
        let sql = TableSql::of(table, tables.schema(DB::DIALECT))?;
        let file = sql.file();
        let mut out = HashingWriter::new(BufWriter::new(
            File::create(directory.join(&file)).map_err(LifecycleError::from)?,
        ));
        let statement = DB::select_json(&sql);
        let query = sqlx::query_scalar::<DB, String>(AssertSqlSafe(statement.clone()));
        let mut rows = query.bind(bound).fetch(tx.raw_connection());
        let mut count = 0;
        while let Some(line) = rows.try_next().await? {
            out.line(&line).map_err(LifecycleError::from)?;
            count += 1;
        }
        drop(rows);
        exported.push(ExportedTable {
            table: sql.name,
            file,
            rows: count,
            sha256: out.finish().map_err(LifecycleError::from)?,
            sql: statement,
        });
    }
    let manifest = ExportManifest {
        format: EXPORT_FORMAT.to_owned(),
        tenant: key.to_string(),
        library: concat!("tenancy-sqlx ", env!("CARGO_PKG_VERSION")).to_owned(),
        tables: exported,
    };
    let json = serde_json::to_string_pretty(&manifest).map_err(LifecycleError::from)?;
    std::fs::write(directory.join(MANIFEST_FILE), json).map_err(LifecycleError::from)?;
    Ok(manifest)
}

/// The body of `import_tenant`, for each backend.
async fn import_rows<K, DB>(
    tx: &mut TenantTransaction<K, DB>,
    tables: &TableSet,
    directory: &Path,
) -> Result<ExportManifest, Error>
where
    K: TenantKey,
    DB: ExportSql,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    (String,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let manifest = ExportManifest::read(directory)?;
    let key = tx.tenant().key_value();
    let bound = integer_key(key)?;
    if manifest.tenant != key.to_string() {
        return Err(LifecycleError::InvalidExport(format!(
            "the export is of tenant {}, this transaction is of tenant {key}",
            manifest.tenant
        ))
        .into());
    }
    let mut plan = Vec::new();
    for entry in &manifest.tables {
        let table = in_key_order(tables)?
            .into_iter()
            .find(|table| table.qualified_name() == entry.table)
            .ok_or_else(|| {
                LifecycleError::InvalidExport(format!(
                    "table {} of the export is not registered",
                    entry.table
                ))
            })?;
        if entry.file.contains('/') || entry.file.contains('\\') || entry.file.starts_with('.') {
            return Err(
                LifecycleError::InvalidExport(format!("file name `{}`", entry.file)).into(),
            );
        }
        plan.push((entry, TableSql::of(table, tables.schema(DB::DIALECT))?));
    }
    for (entry, sql) in plan {
        let statement = DB::insert_json(&sql);
        let file = File::open(directory.join(&entry.file)).map_err(LifecycleError::from)?;
        let mut hasher = Sha256::new();
        let mut rows = 0;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(LifecycleError::from)?;
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
            let query = sqlx::query::<DB>(AssertSqlSafe(statement.clone()));
            query
                .bind(bound)
                .bind(line)
                .execute(tx.raw_connection())
                .await?;
            rows += 1;
        }
        let sha256 = hex(&hasher.finalize());
        if rows != entry.rows || sha256 != entry.sha256 {
            return Err(LifecycleError::InvalidExport(format!(
                "{}: {rows} rows with SHA-256 {sha256}, the manifest says {} rows with {}",
                entry.file, entry.rows, entry.sha256
            ))
            .into());
        }
    }
    Ok(manifest)
}

/// `export_tenant` and `import_tenant` on one backend's transactions.
macro_rules! export_methods {
    ($db:ty) => {
        impl<K: TenantKey> TenantTransaction<K, $db> {
            /// Writes this transaction's tenant's rows of every tenant-scoped table
            /// of `tables` into `directory` (created if missing): one NDJSON file
            /// per table, in foreign-key order, streamed row by row (never the
            /// whole table in memory), and `manifest.json` with each file's row
            /// count and SHA-256. Returns the manifest.
            ///
            /// It reads in this transaction, so it sees exactly this tenant's rows
            /// (on PostgreSQL, RLS filters them too) and one consistent snapshot on
            /// PostgreSQL if the transaction is `REPEATABLE READ`.
            ///
            /// *Available with the `lifecycle` feature.*
            pub async fn export_tenant(
                &mut self,
                tables: &TableSet,
                directory: &Path,
            ) -> Result<ExportManifest, Error> {
                export_rows(self, tables, directory).await
            }

            /// Inserts the export in `directory` into this transaction's tenant, in
            /// the manifest's (foreign-key) order, line by line.
            ///
            /// Refused before anything is inserted when the export is of another
            /// tenant or names a table `tables` does not register; every file is
            /// checked against its row count and SHA-256 as it is read, and a
            /// mismatch returns an error (drop the transaction: nothing stays). The
            /// tenant column of every row is this transaction's tenant, whatever
            /// the file says.
            ///
            /// *Available with the `lifecycle` feature.*
            pub async fn import_tenant(
                &mut self,
                tables: &TableSet,
                directory: &Path,
            ) -> Result<ExportManifest, Error> {
                import_rows(self, tables, directory).await
            }
        }
    };
}

#[cfg(feature = "postgres")]
export_methods!(crate::Postgres);
#[cfg(feature = "sqlite")]
export_methods!(crate::Sqlite);

/// Writes lines and hashes what it wrote.
struct HashingWriter<W: Write> {
    out: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    fn new(out: W) -> Self {
        HashingWriter {
            out,
            hasher: Sha256::new(),
        }
    }

    fn line(&mut self, line: &str) -> std::io::Result<()> {
        // A JSON text from the database has no raw newline in it.
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.hasher.update(line.as_bytes());
        self.hasher.update(b"\n");
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<String> {
        self.out.flush()?;
        Ok(hex(&self.hasher.finalize()))
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}
