//! SQLite: the embedded backend, for demos, local development and tests of
//! code that does not need Row Level Security.
//!
//! SQLite has no Row Level Security and no session settings. A tenant
//! transaction is a plain `BEGIN`; what confines it to its tenant is the
//! builder's predicate on every statement and the transaction's refusal of
//! statements built for another tenant. Raw SQL is not filtered by anything.

use core::future::Future;

use sea_query_sqlx::SqlxValues;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Executor, Sqlite, SqliteConnection};
use tenancy_core::{Dialect, KeyValue, Statement};

use super::{Backend, sealed};
use crate::Error;
use crate::setting::SettingName;

mod owner;
mod pool;

/// The pragma every connection is opened with, and that a transaction
/// restores after raw SQL: composite foreign keys keep a row from pointing
/// into another tenant only while SQLite enforces them.
const FOREIGN_KEYS_ON: &str = "PRAGMA foreign_keys = ON";

impl sealed::Sealed for Sqlite {}

impl Backend for Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;
    const ERROR_ABORTS_TRANSACTION: bool = false;

    fn begin_statement(_setting: &SettingName, _tenant: KeyValue) -> Result<String, Error> {
        // Nothing to set: without RLS, no statement reads the tenant from
        // the connection, and nothing is left for the next borrower.
        Ok("BEGIN".to_owned())
    }

    fn reset_statement(_setting: &SettingName) -> String {
        // Raw SQL may have switched enforcement off for the connection.
        FOREIGN_KEYS_ON.to_owned()
    }

    fn fetch_all<'c, R>(
        connection: &'c mut SqliteConnection,
        statement: Statement,
    ) -> impl Future<Output = Result<Vec<R>, sqlx::Error>> + Send + 'c
    where
        R: for<'r> sqlx::FromRow<'r, SqliteRow> + Send + Unpin + 'c,
    {
        let (sql, values) = statement.into_parts();
        sqlx::query_as_with(AssertSqlSafe(sql), SqlxValues(values)).fetch_all(connection)
    }

    fn fetch_optional<'c, R>(
        connection: &'c mut SqliteConnection,
        statement: Statement,
    ) -> impl Future<Output = Result<Option<R>, sqlx::Error>> + Send + 'c
    where
        R: for<'r> sqlx::FromRow<'r, SqliteRow> + Send + Unpin + 'c,
    {
        let (sql, values) = statement.into_parts();
        sqlx::query_as_with(AssertSqlSafe(sql), SqlxValues(values)).fetch_optional(connection)
    }

    async fn execute(
        connection: &mut SqliteConnection,
        statement: Statement,
    ) -> Result<u64, sqlx::Error> {
        let (sql, values) = statement.into_parts();
        let done = sqlx::query_with(AssertSqlSafe(sql), SqlxValues(values))
            .execute(connection)
            .await?;
        Ok(done.rows_affected())
    }

    async fn execute_text(
        connection: &mut SqliteConnection,
        sql: String,
    ) -> Result<(), sqlx::Error> {
        connection.execute(AssertSqlSafe(sql)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_transaction_is_a_plain_begin() {
        let sql = Sqlite::begin_statement(&SettingName::default(), KeyValue::I64(42)).unwrap();
        assert_eq!(sql, "BEGIN");
    }
}
