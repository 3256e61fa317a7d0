//! The export audit is evidence of who exported what: in every place it
//! lives (SQLite, the shared PostgreSQL database, each tenant's schema or
//! database) rows may be added to it and never changed or removed.

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType};
use tenancy_sqlx::lifecycle::append_only_statements;
use tenancy_sqlx::{Identifier, OwnerPool, Sqlite, Table};

use super::StartupError;
use crate::schema::ExportAudit;

/// SQLite has no roles, so triggers that refuse `UPDATE` and `DELETE` are
/// the whole guard there.
pub(super) async fn append_only_on_sqlite(owner: &OwnerPool<Sqlite>) -> Result<(), StartupError> {
    for operation in ["UPDATE", "DELETE"] {
        let trigger = format!(
            "CREATE TRIGGER IF NOT EXISTS export_audit_append_only_{op} BEFORE {operation} ON export_audit \
             BEGIN SELECT RAISE(ABORT, 'export_audit is append-only: {operation} refused'); END",
            op = operation.to_lowercase()
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(trigger))
            .execute(owner.pool())
            .await
            .map_err(tenancy_sqlx::Error::from)?;
    }
    Ok(())
}

/// On PostgreSQL the application role may only add to the audit, and a
/// trigger refuses `UPDATE` and `DELETE` for everyone. Run in `tx`, whose
/// `search_path` names the schema the audit table is in.
pub(super) async fn append_only_on_postgres(
    tx: &mut sqlx::PgConnection,
    role: &Identifier,
) -> Result<(), StartupError> {
    for statement in append_only_statements(ExportAudit::meta(), Some(role))? {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// The same statements as a migration of every tenant schema and database
/// (unqualified, so they land in the schema the runner migrates), with the
/// triggers dropped on the way down.
pub(super) fn append_only_migration(
    version: i64,
    role: &Identifier,
) -> Result<Vec<Migration>, StartupError> {
    let mut up =
        String::from("-- The export audit is evidence: the application role may only add to it.\n");
    for statement in append_only_statements(ExportAudit::meta(), Some(role))? {
        up.push_str(&statement);
        up.push_str(";\n");
    }
    let down = "DROP TRIGGER IF EXISTS \"append_only\" ON \"export_audit\";\n\
                DROP TRIGGER IF EXISTS \"append_only_truncate\" ON \"export_audit\";\n"
        .to_owned();
    Ok([
        (MigrationType::ReversibleUp, up),
        (MigrationType::ReversibleDown, down),
    ]
    .into_iter()
    .map(|(kind, sql)| {
        Migration::new(
            version,
            "orders export audit append only".into(),
            kind,
            sqlx::AssertSqlSafe(sql).into_sql_str(),
            false,
        )
    })
    .collect())
}
