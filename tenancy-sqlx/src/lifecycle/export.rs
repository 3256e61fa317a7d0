//! Export and import of one tenant's rows, inside that tenant's own
//! transaction: NDJSON or CSV files, one per table with the tenant column
//! (registered, then on PostgreSQL the catalog's others), in foreign-key
//! order, with a manifest of row counts and SHA-256 checksums.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;
use tenancy_core::ddl::TableSet;
use tenancy_core::{KeyValue, SqlType, TableMeta, TenantKey};

use super::csv;
use super::error::LifecycleError;
use crate::backend::Backend;
use crate::{Error, Identifier, TenantTransaction};

/// How an export writes its table files. An import reads the format its
/// manifest names.
///
/// *Available with the `lifecycle` feature.*
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ExportFormat {
    /// `<table>.ndjson`: one JSON object per row and line, typed as the
    /// database's JSON functions type the columns (numbers, strings,
    /// booleans, JSON).
    #[default]
    Ndjson,
    /// `<table>.csv`: a header of column names, then one record per row,
    /// every value in the database's own text form and quoted; NULL is an
    /// empty unquoted field, so it differs from the empty string. Binary
    /// columns are hexadecimal (`\x..` on PostgreSQL, plain hex on SQLite).
    Csv,
}

impl ExportFormat {
    /// The manifest's `format` for this file format.
    #[must_use]
    pub const fn manifest_format(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "tenancy-export-ndjson/1",
            ExportFormat::Csv => "tenancy-export-csv/1",
        }
    }

    fn of_manifest(format: &str) -> Option<Self> {
        [ExportFormat::Ndjson, ExportFormat::Csv]
            .into_iter()
            .find(|known| known.manifest_format() == format)
    }

    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Csv => "csv",
        }
    }
}

/// The manifest's file name in an export directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What an export holds: the tenant, and per table its file, row count and
/// the SHA-256 of the file's bytes. Written as `manifest.json` beside the
/// table files; an import checks every file against it.
///
/// *Available with the `lifecycle` feature.*
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportManifest {
    /// [`ExportFormat::manifest_format`] of the files' format.
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
        manifest.file_format()?;
        Ok(manifest)
    }

    /// The format of the export's files, from [`format`](Self::format).
    pub fn file_format(&self) -> Result<ExportFormat, Error> {
        ExportFormat::of_manifest(&self.format).ok_or_else(|| {
            LifecycleError::InvalidExport(format!(
                "manifest format `{}`, expected `{}` or `{}`",
                self.format,
                ExportFormat::Ndjson.manifest_format(),
                ExportFormat::Csv.manifest_format()
            ))
            .into()
        })
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
    /// The declared type of each of `columns`.
    #[cfg_attr(
        not(feature = "sqlite"),
        expect(dead_code, reason = "only SQLite's CSV needs the declared types")
    )]
    types: Vec<SqlType>,
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
            types: table.columns.iter().map(|c| c.sql_type).collect(),
            order_by: order.join(", "),
        })
    }

    /// A table the registry does not know, as the catalog has it: every
    /// column, ordered by all of them.
    #[cfg(feature = "postgres")]
    fn of_catalog(
        table: &super::catalog::CatalogTable,
        columns: &[super::catalog::CatalogColumn],
    ) -> Result<Self, Error> {
        // The names become file names too: only identifiers.
        Identifier::new("schema", &table.schema)?;
        Identifier::new("table", &table.name)?;
        let tenant = Identifier::new("column", &table.tenant_column)?;
        let columns = columns
            .iter()
            .filter(|column| column.name != table.tenant_column)
            .map(|column| Identifier::new("column", &column.name))
            .collect::<Result<Vec<_>, _>>()?;
        let order: Vec<String> = std::iter::once(&tenant)
            .chain(&columns)
            .map(Identifier::quoted)
            .collect();
        Ok(TableSql {
            name: table.display(),
            qualified: table.quoted(),
            tenant,
            columns,
            types: Vec::new(),
            order_by: order.join(", "),
        })
    }

    /// `SELECT <row> FROM t WHERE tenant = <placeholder> ORDER BY key`.
    fn select(&self, row: &str, placeholder: &str) -> String {
        format!(
            "SELECT {row} FROM {} t WHERE t.{} = {placeholder} ORDER BY {}",
            self.qualified,
            self.tenant.quoted(),
            self.order_by
        )
    }

    fn file(&self, format: ExportFormat) -> String {
        format!("{}.{}", self.name, format.extension())
    }

    /// The CSV header: the tenant column, then the others.
    fn header(&self) -> Vec<Option<String>> {
        std::iter::once(&self.tenant)
            .chain(&self.columns)
            .map(|c| Some(c.as_str().to_owned()))
            .collect()
    }
}

/// What differs between the backends: how a row becomes one line of JSON
/// (an object, or an array of the columns' text forms), and how a line
/// becomes a row again.
trait ExportSql: Backend {
    /// `SELECT <row as JSON text> FROM t WHERE tenant = $1 ORDER BY key`.
    fn select_json(table: &TableSql) -> String;
    /// Inserts the row of JSON `$2` with the tenant column set to `$1`.
    fn insert_json(table: &TableSql) -> String;
    /// `SELECT <JSON array of the tenant column's and the columns' text
    /// forms, NULL as null> FROM t WHERE tenant = $1 ORDER BY key`.
    fn select_text(table: &TableSql) -> String;
    /// Inserts the row whose columns' text forms are the JSON array `$2`
    /// (the tenant column left out), with the tenant column set to `$1`;
    /// `types` are the columns' catalog types where
    /// [`COLUMN_TYPES`](Self::COLUMN_TYPES) reads them.
    fn insert_text(table: &TableSql, types: &[String]) -> String;
    /// A query of `(column, type)` of the table whose quoted, qualified name
    /// is `$1`, for a backend that parses text only into a named type.
    const COLUMN_TYPES: Option<&'static str>;
    /// The tables with a tenant column that `tables` does not register,
    /// from the live catalog where the backend has one, so that an export
    /// forgets no table an erasure would empty.
    fn unregistered<'c>(
        connection: &'c mut <Self as sqlx::Database>::Connection,
        tables: &'c TableSet,
    ) -> BoxFuture<'c, Result<Vec<TableSql>, Error>>;
}

#[cfg(feature = "postgres")]
impl ExportSql for crate::Postgres {
    fn select_json(table: &TableSql) -> String {
        let columns: Vec<String> = std::iter::once(&table.tenant)
            .chain(&table.columns)
            .map(|c| format!("'{}', t.{}", c.as_str(), c.quoted()))
            .collect();
        table.select(
            &format!("json_build_object({})::text", columns.join(", ")),
            "$1",
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

    fn select_text(table: &TableSql) -> String {
        let columns: Vec<String> = std::iter::once(&table.tenant)
            .chain(&table.columns)
            .map(|c| format!("t.{}::text", c.quoted()))
            .collect();
        table.select(
            &format!("json_build_array({})::text", columns.join(", ")),
            "$1",
        )
    }

    fn insert_text(table: &TableSql, types: &[String]) -> String {
        let columns: Vec<String> = table.columns.iter().map(Identifier::quoted).collect();
        // Each type's own input function parses its text form: every type
        // round-trips, the catalog's enums and arrays included.
        let values: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(i, sql_type)| format!("(r.v->>{i})::{sql_type}"))
            .collect();
        let mut select = vec!["$1".to_owned()];
        select.extend(values);
        format!(
            "INSERT INTO {} ({}, {}) SELECT {} FROM (SELECT $2::json AS v) r",
            table.qualified,
            table.tenant.quoted(),
            columns.join(", "),
            select.join(", ")
        )
    }

    fn unregistered<'c>(
        connection: &'c mut sqlx::PgConnection,
        tables: &'c TableSet,
    ) -> BoxFuture<'c, Result<Vec<TableSql>, Error>> {
        Box::pin(async move {
            let tenant_columns = super::plan::ErasureOptions::new(tables).tenant_columns()?;
            let registered: Vec<(String, String)> = tables
                .tables()?
                .iter()
                .map(|table| {
                    let schema = table
                        .schema
                        .unwrap_or_else(|| tables.schema(tenancy_core::Dialect::Postgres).as_str());
                    (schema.to_owned(), table.name.to_owned())
                })
                .collect();
            let found = super::catalog::tenant_tables(
                connection,
                &tenant_columns,
                super::plan::DEFAULT_RECORDS_SCHEMA,
            )
            .await?;
            let found: Vec<_> = found
                .into_iter()
                .filter(|table| {
                    !registered
                        .iter()
                        .any(|(schema, name)| *schema == table.schema && *name == table.name)
                })
                .collect();
            let oids: Vec<i64> = found.iter().map(|table| table.oid).collect();
            let keys = super::catalog::foreign_keys(connection, &oids).await?;
            let mut unregistered = Vec::new();
            for table in parents_first(found, &keys) {
                if !(table.schema_usage && table.can_select) {
                    return Err(LifecycleError::InvalidExport(format!(
                        "table {} has the tenant column {} but this role cannot read it: grant \
                         it SELECT (and USAGE on the schema), or the export would leave its rows out",
                        table.display(),
                        table.tenant_column
                    ))
                    .into());
                }
                let columns = super::catalog::columns(connection, table.oid).await?;
                unregistered.push(TableSql::of_catalog(&table, &columns)?);
            }
            Ok(unregistered)
        })
    }

    const COLUMN_TYPES: Option<&'static str> = Some(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a \
         WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
    );
}

#[cfg(feature = "sqlite")]
impl ExportSql for crate::Sqlite {
    fn select_json(table: &TableSql) -> String {
        let columns: Vec<String> = std::iter::once(&table.tenant)
            .chain(&table.columns)
            .map(|c| format!("'{}', t.{}", c.as_str(), c.quoted()))
            .collect();
        table.select(&format!("json_object({})", columns.join(", ")), "?1")
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

    fn select_text(table: &TableSql) -> String {
        let mut columns = vec![format!("CAST(t.{} AS TEXT)", table.tenant.quoted())];
        columns.extend(table.columns.iter().zip(&table.types).map(|(c, sql_type)| {
            let c = c.quoted();
            if is_blob(*sql_type) {
                format!("iif(t.{c} IS NULL, NULL, hex(t.{c}))")
            } else if matches!(sql_type, SqlType::Real | SqlType::Double) {
                // 17 significant digits: a double's text form that reads
                // back as the same double (CAST keeps 15).
                format!("iif(t.{c} IS NULL, NULL, printf('%!.17g', t.{c}))")
            } else {
                format!("CAST(t.{c} AS TEXT)")
            }
        }));
        table.select(&format!("json_array({})", columns.join(", ")), "?1")
    }

    fn insert_text(table: &TableSql, _types: &[String]) -> String {
        let columns: Vec<String> = table.columns.iter().map(Identifier::quoted).collect();
        // The column's affinity turns the text back into an integer or a
        // real where it was one.
        let values: Vec<String> = table
            .types
            .iter()
            .enumerate()
            .map(|(i, sql_type)| {
                if is_blob(*sql_type) {
                    format!("unhex(json_extract(?2, '$[{i}]'))")
                } else {
                    format!("json_extract(?2, '$[{i}]')")
                }
            })
            .collect();
        format!(
            "INSERT INTO {} ({}, {}) VALUES (?1, {})",
            table.qualified,
            table.tenant.quoted(),
            columns.join(", "),
            values.join(", ")
        )
    }

    const COLUMN_TYPES: Option<&'static str> = None;

    fn unregistered<'c>(
        _connection: &'c mut sqlx::SqliteConnection,
        _tables: &'c TableSet,
    ) -> BoxFuture<'c, Result<Vec<TableSql>, Error>> {
        // SQLite has no catalog of tenant columns to search; its tables are
        // the registered ones.
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// A column SQLite stores as a BLOB, which CSV carries as hex.
#[cfg(feature = "sqlite")]
fn is_blob(sql_type: SqlType) -> bool {
    matches!(sql_type, SqlType::Bytes | SqlType::Uuid)
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
    format: ExportFormat,
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
    for sql in export_tables::<DB>(tx.raw_connection(), tables).await? {
        let file = sql.file(format);
        let mut out = HashingWriter::new(BufWriter::new(
            File::create(directory.join(&file)).map_err(LifecycleError::from)?,
        ));
        let statement = match format {
            ExportFormat::Ndjson => DB::select_json(&sql),
            ExportFormat::Csv => {
                out.line(&csv::record(&sql.header()))
                    .map_err(LifecycleError::from)?;
                DB::select_text(&sql)
            }
        };
        let query = sqlx::query_scalar::<DB, String>(AssertSqlSafe(statement.clone()));
        let mut rows = query.bind(bound).fetch(tx.raw_connection());
        let mut count = 0;
        while let Some(line) = rows.try_next().await? {
            let line = match format {
                ExportFormat::Ndjson => line,
                ExportFormat::Csv => {
                    let fields: Vec<Option<String>> =
                        serde_json::from_str(&line).map_err(LifecycleError::from)?;
                    csv::record(&fields)
                }
            };
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
        format: format.manifest_format().to_owned(),
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
    (String, String): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let manifest = ExportManifest::read(directory)?;
    let format = manifest.file_format()?;
    let key = tx.tenant().key_value();
    let bound = integer_key(key)?;
    if manifest.tenant != key.to_string() {
        return Err(LifecycleError::InvalidExport(format!(
            "the export is of tenant {}, this transaction is of tenant {key}",
            manifest.tenant
        ))
        .into());
    }
    // Every file is checked before the first row is inserted.
    let mut known = export_tables::<DB>(tx.raw_connection(), tables).await?;
    let mut plan = Vec::new();
    for entry in &manifest.tables {
        let at = known
            .iter()
            .position(|table| table.name == entry.table)
            .ok_or_else(|| {
                LifecycleError::InvalidExport(format!(
                    "table {} of the export is neither registered nor a table with the tenant \
                     column in this database",
                    entry.table
                ))
            })?;
        let sql = known.swap_remove(at);
        if entry.file.contains('/') || entry.file.contains('\\') || entry.file.starts_with('.') {
            return Err(
                LifecycleError::InvalidExport(format!("file name `{}`", entry.file)).into(),
            );
        }
        let sha256 = file_sha256(&directory.join(&entry.file)).map_err(LifecycleError::from)?;
        if sha256 != entry.sha256 {
            return Err(LifecycleError::InvalidExport(format!(
                "{}: SHA-256 {sha256}, the manifest says {}",
                entry.file, entry.sha256
            ))
            .into());
        }
        if format == ExportFormat::Csv {
            check_header(directory, entry, &sql)?;
        }
        plan.push((entry, sql));
    }
    for (entry, sql) in plan {
        let input =
            BufReader::new(File::open(directory.join(&entry.file)).map_err(LifecycleError::from)?);
        let rows = match format {
            ExportFormat::Ndjson => {
                let statement = DB::insert_json(&sql);
                let mut rows = 0;
                for line in input.lines() {
                    let line = line.map_err(LifecycleError::from)?;
                    insert_line(tx, &statement, bound, line).await?;
                    rows += 1;
                }
                rows
            }
            ExportFormat::Csv => {
                let types = match DB::COLUMN_TYPES {
                    Some(query) => catalog_types(tx, query, &sql).await?,
                    None => Vec::new(),
                };
                let statement = DB::insert_text(&sql, &types);
                let mut records = csv::Records::new(input);
                // The header, checked with the checksums.
                records.next_record().map_err(LifecycleError::from)?;
                let mut rows = 0;
                while let Some(record) = records.next_record().map_err(LifecycleError::from)? {
                    if record.len() != sql.columns.len() + 1 {
                        return Err(LifecycleError::InvalidExport(format!(
                            "{}: record {} has {} fields, the header {}",
                            entry.file,
                            rows + 1,
                            record.len(),
                            sql.columns.len() + 1
                        ))
                        .into());
                    }
                    // The tenant column is this transaction's, whatever the file says.
                    let values =
                        serde_json::to_string(&record[1..]).map_err(LifecycleError::from)?;
                    insert_line(tx, &statement, bound, values).await?;
                    rows += 1;
                }
                rows
            }
        };
        if rows != entry.rows {
            return Err(LifecycleError::InvalidExport(format!(
                "{}: {rows} rows, the manifest says {}",
                entry.file, entry.rows
            ))
            .into());
        }
    }
    Ok(manifest)
}

/// `tables` with every table after the tables of the set it references
/// (a cycle keeps the catalog's order).
#[cfg(feature = "postgres")]
fn parents_first(
    mut tables: Vec<super::catalog::CatalogTable>,
    keys: &[super::catalog::ForeignKey],
) -> Vec<super::catalog::CatalogTable> {
    let mut ordered: Vec<super::catalog::CatalogTable> = Vec::new();
    while !tables.is_empty() {
        let ready = tables.iter().position(|table| {
            keys.iter().all(|key| {
                key.child != table.oid
                    || key.parent == table.oid
                    || !tables.iter().any(|other| other.oid == key.parent)
            })
        });
        ordered.push(tables.remove(ready.unwrap_or(0)));
    }
    ordered
}

/// What an export writes: the registered tenant tables in foreign-key
/// order, then the tables with a tenant column that are not registered.
async fn export_tables<DB: ExportSql>(
    connection: &mut <DB as sqlx::Database>::Connection,
    tables: &TableSet,
) -> Result<Vec<TableSql>, Error> {
    let mut all = in_key_order(tables)?
        .into_iter()
        .map(|table| TableSql::of(table, tables.schema(DB::DIALECT)))
        .collect::<Result<Vec<_>, _>>()?;
    all.extend(DB::unregistered(connection, tables).await?);
    Ok(all)
}

/// Runs one row's insert: the tenant key as `$1`, the row's JSON as `$2`.
async fn insert_line<K, DB>(
    tx: &mut TenantTransaction<K, DB>,
    statement: &str,
    bound: i64,
    line: String,
) -> Result<(), Error>
where
    K: TenantKey,
    DB: ExportSql,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    sqlx::query::<DB>(AssertSqlSafe(statement.to_owned()))
        .bind(bound)
        .bind(line)
        .execute(tx.raw_connection())
        .await?;
    Ok(())
}

/// The catalog type of each of the table's registered columns, in order.
async fn catalog_types<K, DB>(
    tx: &mut TenantTransaction<K, DB>,
    query: &'static str,
    table: &TableSql,
) -> Result<Vec<String>, Error>
where
    K: TenantKey,
    DB: ExportSql,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    (String, String): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let found: Vec<(String, String)> = sqlx::query_as::<DB, (String, String)>(query)
        .bind(table.qualified.clone())
        .fetch_all(tx.raw_connection())
        .await?;
    table
        .columns
        .iter()
        .map(|column| {
            found
                .iter()
                .find(|(name, _)| name == column.as_str())
                .map(|(_, sql_type)| sql_type.clone())
                .ok_or_else(|| {
                    LifecycleError::InvalidExport(format!(
                        "column {} of table {} is not in the database",
                        column.as_str(),
                        table.name
                    ))
                    .into()
                })
        })
        .collect()
}

/// Refuses a CSV file whose header is not the table's columns in the
/// order the export writes them.
fn check_header(directory: &Path, entry: &ExportedTable, table: &TableSql) -> Result<(), Error> {
    let file = File::open(directory.join(&entry.file)).map_err(LifecycleError::from)?;
    let header = csv::Records::new(BufReader::new(file))
        .next_record()
        .map_err(LifecycleError::from)?;
    let expected = table.header();
    if header.as_ref() == Some(&expected) {
        return Ok(());
    }
    let names = |fields: &[Option<String>]| {
        fields
            .iter()
            .map(|field| field.as_deref().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(LifecycleError::InvalidExport(format!(
        "{}: the header is `{}`, the table's columns are `{}`",
        entry.file,
        names(header.as_deref().unwrap_or_default()),
        names(&expected)
    ))
    .into())
}

/// SHA-256, lowercase hex, of a file's bytes, read in blocks.
fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut input = BufReader::new(File::open(path)?);
    let mut hasher = Sha256::new();
    loop {
        let block = input.fill_buf()?;
        if block.is_empty() {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(block);
        let read = block.len();
        input.consume(read);
    }
}

/// `export_tenant` and `import_tenant` on one backend's transactions.
macro_rules! export_methods {
    ($db:ty) => {
        impl<K: TenantKey> TenantTransaction<K, $db> {
            /// Writes this transaction's tenant's rows of every tenant-scoped table
            /// of `tables` into `directory` (created if missing): one file per
            /// table in `format`, in foreign-key order, streamed row by row (never
            /// the whole table in memory), and `manifest.json` with each file's
            /// row count and SHA-256. Returns the manifest.
            ///
            /// On PostgreSQL it also exports every table of the live catalog that
            /// has a registered tenant column but is not registered (the tables an
            /// erasure would empty too), after the registered ones; one this
            /// transaction's role cannot read is refused, not left out.
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
                format: ExportFormat,
            ) -> Result<ExportManifest, Error> {
                export_rows(self, tables, directory, format).await
            }

            /// Inserts the export in `directory` into this transaction's tenant, in
            /// the manifest's (foreign-key) order, row by row, in the format the
            /// manifest names.
            ///
            /// Refused before anything is inserted when the export is of another
            /// tenant, names a table that is neither registered in `tables` nor
            /// (on PostgreSQL) a table with the tenant column, or has a file
            /// whose SHA-256 differs from the manifest's; a malformed record or a
            /// row count that differs returns an error (drop the transaction:
            /// nothing stays). The tenant column of every row is this
            /// transaction's tenant, whatever the file says.
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
