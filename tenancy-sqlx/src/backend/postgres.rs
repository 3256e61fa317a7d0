//! PostgreSQL: the tenant context is a transaction-local custom setting read
//! by row-level security policies.

use core::future::Future;

use sea_query_sqlx::SqlxValues;
use sqlx::{AssertSqlSafe, Executor, PgConnection, Postgres};
use tenancy_core::{Dialect, KeyValue, Statement};

use super::{Backend, sealed};
use crate::Error;
use crate::setting::{SettingName, key_literal};

impl sealed::Sealed for Postgres {}

impl Backend for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
    const ERROR_ABORTS_TRANSACTION: bool = true;

    fn begin_statement(setting: &SettingName, tenant: KeyValue) -> Result<String, Error> {
        // One simple query, so one round trip. `SET LOCAL` is PostgreSQL's
        // `set_config(.., true)`: COMMIT or ROLLBACK clears it. Never plain
        // `SET`, which would outlive the transaction on a pooled connection.
        // As a utility statement it is neither planned nor returns a row,
        // which makes it measurably cheaper than `SELECT set_config(..)`
        // (BENCHMARKS.md, tenant transaction).
        Ok(format!(
            "BEGIN; SET LOCAL {setting} = '{key}'",
            setting = setting.quoted(),
            key = key_literal(tenant)?
        ))
    }

    fn reset_statement(setting: &SettingName) -> String {
        // Besides a session-level setting, raw SQL can leave the tenant's
        // rows on the connection, where no policy filters them: in a
        // temporary table (`CREATE TEMP TABLE IF NOT EXISTS scratch AS ..`
        // run by the next tenant finds the old one) or a cursor declared
        // `WITH HOLD`. One simple query, run outside any transaction.
        format!("CLOSE ALL; DISCARD TEMP; RESET {}", setting.quoted())
    }

    fn fetch_all<'c, R>(
        connection: &'c mut PgConnection,
        statement: Statement,
    ) -> impl Future<Output = Result<Vec<R>, sqlx::Error>> + Send + 'c
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin + 'c,
    {
        let (sql, values) = statement.into_parts();
        sqlx::query_as_with(AssertSqlSafe(sql), SqlxValues(values)).fetch_all(connection)
    }

    fn fetch_optional<'c, R>(
        connection: &'c mut PgConnection,
        statement: Statement,
    ) -> impl Future<Output = Result<Option<R>, sqlx::Error>> + Send + 'c
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin + 'c,
    {
        let (sql, values) = statement.into_parts();
        sqlx::query_as_with(AssertSqlSafe(sql), SqlxValues(values)).fetch_optional(connection)
    }

    async fn execute(
        connection: &mut PgConnection,
        statement: Statement,
    ) -> Result<u64, sqlx::Error> {
        let (sql, values) = statement.into_parts();
        let done = sqlx::query_with(AssertSqlSafe(sql), SqlxValues(values))
            .execute(connection)
            .await?;
        Ok(done.rows_affected())
    }

    async fn execute_text(connection: &mut PgConnection, sql: String) -> Result<(), sqlx::Error> {
        // Without arguments sqlx sends a simple query.
        connection.execute(AssertSqlSafe(sql)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_is_one_statement_string_with_a_local_setting() {
        let sql = Postgres::begin_statement(&SettingName::default(), KeyValue::I64(42)).unwrap();
        assert_eq!(sql, r#"BEGIN; SET LOCAL "app"."tenant_id" = '42'"#);
    }
}
