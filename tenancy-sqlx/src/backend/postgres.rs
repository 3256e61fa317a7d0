//! PostgreSQL: the tenant context is a transaction-local custom setting read
//! by row-level security policies.

use sea_query_sqlx::SqlxValues;
use sqlx::postgres::PgQueryResult;
use sqlx::{PgConnection, Postgres};
use tenancy_core::{Dialect, KeyValue};

use super::{Access, Backend, Internals, RawSessionReset};
use crate::Error;
use crate::setting::{SettingName, key_literal};

/// SQLSTATE `no_active_sql_transaction`: `SAVEPOINT` outside a transaction
/// block, which is where raw SQL's `COMMIT` or `ROLLBACK` left the session.
const NO_ACTIVE_SQL_TRANSACTION: &str = "25P01";

/// SQLSTATE `in_failed_sql_transaction`: any statement but `ROLLBACK` in an
/// aborted transaction.
const IN_FAILED_SQL_TRANSACTION: &str = "25P02";

/// Fails with 25P01 outside a transaction block — inside the implicit block
/// of a multi-statement query too — and with 25P02 in an aborted one.
const STILL_IN_TRANSACTION: &str =
    "SAVEPOINT tenancy_reset_check; RELEASE SAVEPOINT tenancy_reset_check";

/// Everything raw SQL can leave on a session that reaches the next borrower,
/// reset without `DISCARD ALL` (whose `SET SESSION AUTHORIZATION DEFAULT`
/// would give a superuser login back its privileges). Every statement here
/// runs inside a transaction block; run before `COMMIT`, the resets of
/// settings are committed with it, and run before `ROLLBACK` the rollback
/// undoes raw SQL's own changes of this transaction while the
/// non-transactional state (locks, prepared statements, held cursors) is
/// released either way.
///
/// - `RESET ROLE` first and `RESET ALL` next, so that what follows runs as
///   the login role with the default `search_path`; `RESET ALL` resets every
///   setting made with `SET`, `SET SESSION` or `set_config(.., false)` —
///   the tenant setting, `search_path`, `row_security`,
///   `default_transaction_read_only` included — to the value the session
///   started with, but not the role, which it leaves alone;
/// - `CLOSE ALL`: cursors, including those declared `WITH HOLD`;
/// - `UNLISTEN *`: notification channels;
/// - `pg_advisory_unlock_all()`: session-level advisory locks;
/// - `DISCARD TEMP`: temporary tables, views, functions and sequences, which
///   would shadow the real tables for unqualified names;
/// - `DISCARD SEQUENCES`: `currval` and `lastval`, which name the last ids
///   the previous tenant drew;
/// - prepared statements made with SQL `PREPARE` (`from_sql`), one by one:
///   `DEALLOCATE ALL` would also drop sqlx's own, which its statement cache
///   still names.
const RESET_SESSION: &str = "\
RESET ROLE; RESET ALL; CLOSE ALL; UNLISTEN *; \
SELECT pg_catalog.pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES; \
DO $tenancy$ DECLARE prepared text; BEGIN \
FOR prepared IN SELECT name FROM pg_catalog.pg_prepared_statements WHERE from_sql LOOP \
EXECUTE pg_catalog.format('DEALLOCATE %I', prepared); END LOOP; END $tenancy$";

impl Backend for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
}

impl Internals for Postgres {
    type Executor<'c> = &'c mut PgConnection;
    type Values = SqlxValues;

    const ERROR_ABORTS_TRANSACTION: bool = true;
    const RAW_SESSION_RESET: RawSessionReset = RawSessionReset::InPlace {
        check: STILL_IN_TRANSACTION,
        statements: RESET_SESSION,
    };

    fn executor(connection: &mut PgConnection) -> &mut PgConnection {
        connection
    }

    fn values(values: sea_query::Values) -> SqlxValues {
        SqlxValues(values)
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn begin_statement(
        setting: &SettingName,
        tenant: KeyValue,
        access: Access,
    ) -> Result<String, Error> {
        let begin = match access {
            Access::ReadWrite => "BEGIN",
        };
        // One simple query, so one round trip. `SET LOCAL` is PostgreSQL's
        // `set_config(.., true)`: COMMIT or ROLLBACK clears it. Never plain
        // `SET`, which would outlive the transaction on a pooled connection.
        // As a utility statement it is neither planned nor returns a row,
        // which makes it measurably cheaper than `SELECT set_config(..)`
        // (BENCHMARKS.md, tenant transaction).
        Ok(format!(
            "{begin}; SET LOCAL {setting} = '{key}'",
            setting = setting.quoted(),
            key = key_literal(tenant)?
        ))
    }

    fn is_no_transaction(error: &sqlx::Error) -> bool {
        has_sqlstate(error, NO_ACTIVE_SQL_TRANSACTION)
    }

    fn is_aborted_transaction(error: &sqlx::Error) -> bool {
        has_sqlstate(error, IN_FAILED_SQL_TRANSACTION)
    }

    async fn settle(_connection: &mut PgConnection) -> Result<(), sqlx::Error> {
        // A queued ROLLBACK lowers sqlx's depth when it is queued.
        Ok(())
    }
}

fn has_sqlstate(error: &sqlx::Error, code: &str) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .is_some_and(|actual| actual == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_is_one_statement_string_with_a_local_setting() {
        let sql = Postgres::begin_statement(
            &SettingName::default(),
            KeyValue::I64(42),
            Access::ReadWrite,
        )
        .unwrap();
        assert_eq!(sql, r#"BEGIN; SET LOCAL "app"."tenant_id" = '42'"#);
    }

    #[test]
    fn the_reset_never_discards_all() {
        // `DISCARD ALL` runs `SET SESSION AUTHORIZATION DEFAULT`.
        assert!(!RESET_SESSION.to_ascii_uppercase().contains("DISCARD ALL"));
        assert!(!RESET_SESSION.contains("DEALLOCATE ALL"));
    }
}
