//! SQLite: the embedded backend, for demos, local development and tests of
//! code that does not need Row Level Security.
//!
//! SQLite has no Row Level Security and no session settings. A tenant
//! transaction is a `BEGIN IMMEDIATE`; what confines it to its tenant is the
//! builder's predicate on every statement and the transaction's refusal of
//! statements built for another tenant. Raw SQL is not filtered by anything.

use sea_query_sqlx::SqlxValues;
use sqlx::sqlite::SqliteQueryResult;
use sqlx::{Connection, Sqlite, SqliteConnection};
use tenancy_core::Dialect;

use super::{Backend, Internals, RawSessionReset};
use crate::Error;
use crate::pin::{Access, Pin};

mod owner;
mod pool;

impl Backend for Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;
}

impl Internals for Sqlite {
    type Executor<'c> = &'c mut SqliteConnection;
    type Values = SqlxValues;

    const ERROR_ABORTS_TRANSACTION: bool = false;
    // Raw SQL can leave TEMP tables and views (which shadow the real tables
    // for unqualified names), TEMP triggers on the real tables (which fire
    // on the next borrower's writes), attached databases and any of dozens
    // of per-connection pragmas (`foreign_keys`, `ignore_check_constraints`,
    // `query_only`, `recursive_triggers`…). Reopening a connection is
    // cheaper than knowing them all, and no pooler sits in between.
    const RAW_SESSION_RESET: RawSessionReset = RawSessionReset::CloseConnection;

    fn executor(connection: &mut SqliteConnection) -> &mut SqliteConnection {
        connection
    }

    fn values(values: sea_query::Values) -> SqlxValues {
        SqlxValues(values)
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn begin_statement(pin: &Pin<'_>) -> Result<String, Error> {
        // Nothing to set for the tenant: without RLS, no statement reads it
        // from the connection. Schemas and limits have no SQLite form, and a
        // limit silently not applied is worse than a refusal.
        let unsupported = pin
            .search_path
            .map(|_| "search_path")
            .or_else(|| pin.settings.limits().ok()?.first().map(|(name, _)| *name));
        if let Some(name) = unsupported {
            return Err(Error::InvalidTransactionSetting {
                name,
                reason: "SQLite has no such setting".to_owned(),
            });
        }
        // A transaction that may write takes the write lock when it begins:
        // a deferred `BEGIN` that reads first fails at once with `database
        // is locked` when it tries to write while another connection writes
        // (SQLite does not apply the busy timeout to that upgrade), whereas
        // `BEGIN IMMEDIATE` waits its turn. A read-only one takes no lock.
        Ok(match pin.access {
            Access::ReadWrite => "BEGIN IMMEDIATE",
            Access::ReadOnly => "BEGIN DEFERRED",
        }
        .to_owned())
    }

    fn is_no_transaction(error: &sqlx::Error) -> bool {
        // "cannot commit - no transaction is active", "cannot rollback - ..".
        error
            .as_database_error()
            .is_some_and(|error| error.message().contains("no transaction is active"))
    }

    fn is_aborted_transaction(_error: &sqlx::Error) -> bool {
        false
    }

    fn is_connection_lost(_error: &sqlx::Error) -> bool {
        // The database is a file in this process: there is no session for
        // a server to end, and an I/O error is not one that another
        // connection would escape.
        false
    }

    fn is_prepared_statement_mismatch(_error: &sqlx::Error) -> bool {
        // Statements live in the process: no pooler sits in between.
        false
    }

    async fn settle(connection: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        // The worker thread runs commands in order, and a queued rollback
        // lowers the depth only when it has run: once the ping is answered,
        // the depth is current.
        connection.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pin::TransactionSettings;
    use crate::setting::SettingName;
    use core::time::Duration;
    use tenancy_core::KeyValue;

    #[test]
    fn a_tenant_transaction_takes_the_write_lock_when_it_begins() {
        let setting = SettingName::default();
        let settings = TransactionSettings::new();
        let pin = Pin::new(&setting, KeyValue::I64(42), &settings);
        assert_eq!(Sqlite::begin_statement(&pin).unwrap(), "BEGIN IMMEDIATE");
        let read_only = TransactionSettings::new().read_only();
        let pin = Pin::new(&setting, KeyValue::I64(42), &read_only);
        assert_eq!(Sqlite::begin_statement(&pin).unwrap(), "BEGIN DEFERRED");
    }

    #[test]
    fn a_limit_sqlite_cannot_apply_is_refused() {
        let setting = SettingName::default();
        let settings = TransactionSettings::new().statement_timeout(Duration::from_secs(1));
        let pin = Pin::new(&setting, KeyValue::I64(42), &settings);
        let error = Sqlite::begin_statement(&pin).unwrap_err();
        assert!(
            matches!(
                error,
                Error::InvalidTransactionSetting {
                    name: "statement_timeout",
                    ..
                }
            ),
            "{error}"
        );
    }
}
