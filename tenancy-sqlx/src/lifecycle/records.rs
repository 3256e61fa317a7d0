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
