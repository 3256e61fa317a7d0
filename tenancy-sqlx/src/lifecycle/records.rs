//! The library's own records: the deletion ledger, the certificates of
//! deletion and the export audit, in one schema, made append-only where
//! they are evidence.

use sqlx::PgConnection;

use crate::Error;
use crate::Identifier;
use crate::Postgres;
use crate::execute::execute_text;

/// The per-table ledger of erasure jobs.
pub const DELETION_JOBS: &str = "tenant_deletion_jobs";
/// The certificates of deletion (append-only).
pub const DELETION_CERTIFICATES: &str = "tenant_deletion_certificates";
/// The export audit (append-only; the application role may only insert).
pub const EXPORT_AUDIT: &str = "tenant_export_audit";

/// A records table's name, qualified with its schema and quoted.
pub(crate) fn table(schema: &Identifier, name: &str) -> String {
    format!("{}.\"{name}\"", schema.quoted())
}

/// The DDL of the records in `schema`, safe to run again. `UPDATE`,
/// `DELETE` and `TRUNCATE` of the certificates and of the export audit are
/// refused by a trigger, for every role (an owner that wants to rewrite
/// history has to drop the trigger first, which DDL logs show); the
/// application role, when given, may insert export audit rows and nothing
/// else.
#[must_use]
pub fn records_statements(
    schema: &Identifier,
    application_role: Option<&Identifier>,
) -> Vec<String> {
    let s = schema.quoted();
    let jobs = table(schema, DELETION_JOBS);
    let certificates = table(schema, DELETION_CERTIFICATES);
    let audit = table(schema, EXPORT_AUDIT);
    let mut statements = vec![
        format!("CREATE SCHEMA IF NOT EXISTS {s}"),
        format!("CREATE SEQUENCE IF NOT EXISTS {s}.\"tenant_deletion_job_ids\""),
        format!(
            "CREATE TABLE IF NOT EXISTS {jobs} (\
             job_id bigint NOT NULL, tenant text NOT NULL, position integer NOT NULL, \
             table_name text NOT NULL, \
             action text NOT NULL CHECK (action IN ('delete', 'anonymise')), \
             state text NOT NULL CHECK (state IN ('pending', 'done')), \
             rows_affected bigint NOT NULL DEFAULT 0, \
             anonymised_columns text NOT NULL DEFAULT '[]', \
             started_at timestamptz NOT NULL DEFAULT clock_timestamp(), \
             finished_at timestamptz, \
             PRIMARY KEY (job_id, table_name))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {certificates} (\
             job_id bigint PRIMARY KEY, tenant text NOT NULL, certificate text NOT NULL, \
             sha256 text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {audit} (\
             id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
             recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(), \
             actor text NOT NULL, tenant text NOT NULL, purpose text NOT NULL, \
             filter text NOT NULL, row_counts text NOT NULL, statements text NOT NULL)"
        ),
        format!(
            "CREATE OR REPLACE FUNCTION {s}.\"refuse_change\"() RETURNS trigger LANGUAGE plpgsql AS \
             $tenancy$ BEGIN RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP \
             USING ERRCODE = 'insufficient_privilege'; END $tenancy$"
        ),
    ];
    for target in [&certificates, &audit] {
        statements.push(format!(
            "CREATE OR REPLACE TRIGGER \"append_only\" BEFORE UPDATE OR DELETE ON {target} \
             FOR EACH ROW EXECUTE FUNCTION {s}.\"refuse_change\"()"
        ));
        statements.push(format!(
            "CREATE OR REPLACE TRIGGER \"append_only_truncate\" BEFORE TRUNCATE ON {target} \
             FOR EACH STATEMENT EXECUTE FUNCTION {s}.\"refuse_change\"()"
        ));
        statements.push(format!("REVOKE ALL ON {target} FROM PUBLIC"));
    }
    if let Some(role) = application_role {
        let role = role.quoted();
        statements.push(format!("GRANT USAGE ON SCHEMA {s} TO {role}"));
        statements.push(format!("REVOKE ALL ON {audit} FROM {role}"));
        statements.push(format!("GRANT INSERT ON {audit} TO {role}"));
    }
    statements
}

/// Creates the records (once per database; concurrent callers wait for
/// each other instead of racing on `CREATE TABLE`).
pub(crate) async fn install(
    connection: &mut PgConnection,
    schema: &Identifier,
    application_role: Option<&Identifier>,
) -> Result<(), Error> {
    use sqlx::Connection;
    let mut tx = connection.begin().await?;
    execute_text::<Postgres>(
        &mut tx,
        "SELECT pg_advisory_xact_lock(hashtext('tenancy.records'))".to_owned(),
    )
    .await?;
    for statement in records_statements(schema, application_role) {
        execute_text::<Postgres>(&mut tx, statement).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One export, as the append-only export audit keeps it.
///
/// *Available with the `lifecycle` feature (PostgreSQL).*
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRecord {
    /// Who asked (a user, an API key's label, a job's name).
    pub actor: String,
    /// Why (a ticket, a request id).
    pub purpose: String,
    /// What was selected, as the caller describes it (`all`, `status=paid`).
    pub filter: String,
}

impl<K: tenancy_core::TenantKey> crate::TenantTransaction<K, Postgres> {
    /// Records an export of this transaction's tenant in the append-only
    /// export audit (`tenancy.tenant_export_audit`, made by
    /// [`OwnerPool::install_records`](crate::OwnerPool::install_records)):
    /// who, which tenant, when (the database's clock), the filter, the row
    /// counts and the SQL of `manifest`. It is written in this transaction,
    /// so the record and the export it describes commit together. The
    /// application role may insert records and do nothing else with them.
    ///
    /// *Available with the `lifecycle` feature (PostgreSQL).*
    pub async fn record_export(
        &mut self,
        record: &ExportRecord,
        manifest: &super::ExportManifest,
    ) -> Result<(), Error> {
        self.record_export_in(
            &Identifier::new("schema", super::DEFAULT_RECORDS_SCHEMA)?,
            record,
            manifest,
        )
        .await
    }

    /// [`record_export`](Self::record_export) into the records of `schema`.
    pub async fn record_export_in(
        &mut self,
        schema: &Identifier,
        record: &ExportRecord,
        manifest: &super::ExportManifest,
    ) -> Result<(), Error> {
        let counts: serde_json::Map<String, serde_json::Value> = manifest
            .tables
            .iter()
            .map(|table| (table.table.clone(), table.rows.into()))
            .collect();
        let statements: Vec<&str> = manifest
            .tables
            .iter()
            .map(|table| table.sql.as_str())
            .collect();
        let sql = format!(
            "INSERT INTO {} (actor, tenant, purpose, filter, row_counts, statements) VALUES ($1, $2, $3, $4, $5, $6)",
            table(schema, EXPORT_AUDIT)
        );
        let tenant = self.tenant().key_value().to_string();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&record.actor)
            .bind(tenant)
            .bind(&record.purpose)
            .bind(&record.filter)
            .bind(serde_json::Value::Object(counts).to_string())
            .bind(statements.join(";\n"))
            .execute(self.raw_connection())
            .await?;
        Ok(())
    }
}

impl crate::OwnerPool<Postgres> {
    /// Creates the library's records (the deletion ledger, the
    /// certificates, the export audit) in schema
    /// [`DEFAULT_RECORDS_SCHEMA`](super::DEFAULT_RECORDS_SCHEMA), safe to
    /// run again, and lets `application_role` insert export audit records
    /// and nothing else: no SELECT, UPDATE, DELETE or TRUNCATE. A trigger
    /// refuses UPDATE, DELETE and TRUNCATE of certificates and audit records
    /// for every role, the owner included.
    ///
    /// *Available with the `lifecycle` feature (PostgreSQL).*
    pub async fn install_records(&self, application_role: Option<&str>) -> Result<(), Error> {
        let schema = Identifier::new("schema", super::DEFAULT_RECORDS_SCHEMA)?;
        let role = application_role
            .map(|role| Identifier::new("role", role))
            .transpose()?;
        let mut connection = self.pool().acquire().await?;
        install(&mut connection, &schema, role.as_ref()).await
    }
}

/// DDL that makes a table of your own append-only, as the library's audit
/// is: `application_role` loses UPDATE, DELETE and TRUNCATE on it, and a
/// trigger refuses them for every role. Run it after the grants of
/// [`RlsPolicy`](crate::rls::RlsPolicy) (which grant all four), on every
/// deploy; safe to run again.
///
/// *Available with the `lifecycle` feature (PostgreSQL).*
pub fn append_only_statements(
    table: &tenancy_core::TableMeta,
    application_role: Option<&Identifier>,
) -> Result<Vec<String>, Error> {
    let name = crate::ident::quoted_table(table.schema, table.name)?;
    let function = match table.schema {
        Some(schema) => format!(
            "{}.\"tenancy_append_only\"",
            Identifier::new("schema", schema)?.quoted()
        ),
        None => "\"tenancy_append_only\"".to_owned(),
    };
    let mut statements = vec![
        format!(
            "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS \
             $tenancy$ BEGIN RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP \
             USING ERRCODE = 'insufficient_privilege'; END $tenancy$"
        ),
        format!(
            "CREATE OR REPLACE TRIGGER \"append_only\" BEFORE UPDATE OR DELETE ON {name} \
             FOR EACH ROW EXECUTE FUNCTION {function}()"
        ),
        format!(
            "CREATE OR REPLACE TRIGGER \"append_only_truncate\" BEFORE TRUNCATE ON {name} \
             FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        ),
    ];
    if let Some(role) = application_role {
        statements.push(format!(
            "REVOKE UPDATE, DELETE, TRUNCATE ON {name} FROM {}",
            role.quoted()
        ));
    }
    Ok(statements)
}

/// The export audit records of `tenant` in `pool`'s database (the schema
/// `schema`), oldest first, as JSON objects without their ids; `None` when
/// that database has no export audit.
async fn export_audit_of(
    pool: &sqlx::PgPool,
    schema: &Identifier,
    tenant: &str,
) -> Result<Option<Vec<serde_json::Value>>, Error> {
    let name = table(schema, EXPORT_AUDIT);
    let installed: bool = sqlx::query_scalar("SELECT pg_catalog.to_regclass($1) IS NOT NULL")
        .bind(&name)
        .fetch_one(pool)
        .await?;
    if !installed {
        return Ok(None);
    }
    let rows: sqlx::types::Json<Vec<serde_json::Value>> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT coalesce(jsonb_agg(to_jsonb(a) - 'id' ORDER BY a.id), '[]') \
             FROM {name} AS a WHERE a.tenant = $1"
        )))
        .bind(tenant)
        .fetch_one(pool)
        .await?;
    Ok(Some(rows.0))
}

/// Refuses a move of `tenant` whose export audit records at the source
/// (read through `from`, the owner's pool) could not follow it to the
/// target (`to`): the target database has no export audit. Checked before
/// the move changes anything.
pub(crate) async fn check_export_audit_can_move(
    from: &sqlx::PgPool,
    to: &sqlx::PgPool,
    tenant: crate::KeyValue,
) -> Result<(), Error> {
    let schema = Identifier::new("schema", super::DEFAULT_RECORDS_SCHEMA)?;
    let key = tenant.to_string();
    let records = export_audit_of(from, &schema, &key)
        .await?
        .unwrap_or_default();
    if records.is_empty() || export_audit_of(to, &schema, &key).await?.is_some() {
        return Ok(());
    }
    Err(Error::MoveRefused {
        tenant,
        reason: format!(
            "its {} export audit record(s) must follow it, and the target database has no \
             export audit ({}): run OwnerPool::install_records there first",
            records.len(),
            table(&schema, EXPORT_AUDIT)
        ),
    })
}

/// Copies the export audit records of `tenant` from the source database
/// (`from`, the owner's pool) to the target's (`to`), oldest first, each
/// with its time, actor, purpose, filter, counts and statements; returns
/// how many were added. A record the target holds already (the same in
/// every column but its id: an earlier run of an interrupted move, or a
/// target in the same database) is not added again, so the copy can be
/// run again. The source keeps its records: the audit is append-only, for
/// the owner too.
pub(crate) async fn carry_export_audit(
    from: &sqlx::PgPool,
    to: &sqlx::PgPool,
    tenant: crate::KeyValue,
) -> Result<u64, Error> {
    let schema = Identifier::new("schema", super::DEFAULT_RECORDS_SCHEMA)?;
    let key = tenant.to_string();
    let records = export_audit_of(from, &schema, &key)
        .await?
        .unwrap_or_default();
    if records.is_empty() {
        return Ok(0);
    }
    let name = table(&schema, EXPORT_AUDIT);
    let columns = "recorded_at, actor, tenant, purpose, filter, row_counts, statements";
    let added = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {name} ({columns}) \
         SELECT r.recorded_at, r.actor, r.tenant, r.purpose, r.filter, r.row_counts, r.statements \
         FROM jsonb_populate_recordset(NULL::{name}, $1) WITH ORDINALITY AS r \
         WHERE r.tenant = $2 AND NOT EXISTS (\
           SELECT 1 FROM {name} AS a WHERE ({columns}) = \
           (r.recorded_at, r.actor, r.tenant, r.purpose, r.filter, r.row_counts, r.statements)) \
         ORDER BY r.ordinality"
    )))
    .bind(sqlx::types::Json(records))
    .bind(&key)
    .execute(to)
    .await?;
    Ok(added.rows_affected())
}
