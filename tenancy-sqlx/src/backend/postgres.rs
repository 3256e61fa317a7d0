//! PostgreSQL: the tenant context is a transaction-local custom setting read
//! by row-level security policies.

use sea_query_sqlx::SqlxValues;
use sqlx::postgres::PgQueryResult;
use sqlx::{PgConnection, Postgres};
use tenancy_core::Dialect;

use super::{Backend, Internals, RawSessionReset};
use crate::Error;
use crate::pin::{Access, Pin};
use crate::setting::push_key_literal;

/// SQLSTATE `no_active_sql_transaction`: `SAVEPOINT` outside a transaction
/// block, which is where raw SQL's `COMMIT` or `ROLLBACK` left the session.
const NO_ACTIVE_SQL_TRANSACTION: &str = "25P01";

/// SQLSTATE `in_failed_sql_transaction`: any statement but `ROLLBACK` in an
/// aborted transaction.
const IN_FAILED_SQL_TRANSACTION: &str = "25P02";

/// SQLSTATE `invalid_sql_statement_name`: `prepared statement "sqlx_s_1"
/// does not exist`.
const INVALID_SQL_STATEMENT_NAME: &str = "26000";

/// SQLSTATE `duplicate_prepared_statement`: `prepared statement "sqlx_s_1"
/// already exists`.
const DUPLICATE_PREPARED_STATEMENT: &str = "42P05";

/// SQLSTATEs of a server ending the session: `admin_shutdown` (an
/// administrator's `pg_terminate_backend`, a fast shutdown),
/// `crash_shutdown` (another backend crashed), `idle_session_timeout`.
const SESSION_ENDED: [&str; 3] = ["57P01", "57P02", "57P05"];

/// SQLSTATE class `connection_exception`.
const CONNECTION_EXCEPTION: &str = "08";

/// Room for the usual `BEGIN` statement (a UUID tenant, a custom setting
/// name) without growing the buffer.
const BEGIN_CAPACITY: usize = 128;

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

    fn begin_statement(pin: &Pin<'_>) -> Result<String, Error> {
        use core::fmt::Write as _;

        let begin = match pin.access {
            Access::ReadWrite => "BEGIN",
            Access::ReadOnly => "BEGIN READ ONLY",
        };
        // One simple query, so one round trip. `SET LOCAL` is PostgreSQL's
        // `set_config(.., true)`: COMMIT or ROLLBACK clears it. Never plain
        // `SET`, which would outlive the transaction on a pooled connection.
        // As a utility statement it is neither planned nor returns a row,
        // which makes it measurably cheaper than `SELECT set_config(..)`
        // (BENCHMARKS.md, tenant transaction). Rendered into one buffer:
        // this runs for every transaction.
        let mut sql = String::with_capacity(BEGIN_CAPACITY);
        sql.push_str(begin);
        sql.push_str("; SET LOCAL ");
        sql.push_str(&pin.setting.quoted());
        sql.push_str(" = '");
        push_key_literal(&mut sql, pin.tenant)?;
        sql.push('\'');
        if let Some(schema) = pin.search_path {
            // `pg_temp` named last: a temporary table, which any role may
            // create, cannot stand in for one of the tenant's tables.
            let _ = write!(
                sql,
                "; SET LOCAL search_path TO {}, pg_temp",
                schema.quoted()
            );
        }
        for (name, value) in pin.settings.limits()? {
            // Names are this crate's constants; values digits or keywords.
            let _ = write!(sql, "; SET LOCAL {name} = '{value}'");
        }
        Ok(sql)
    }

    fn is_no_transaction(error: &sqlx::Error) -> bool {
        has_sqlstate(error, NO_ACTIVE_SQL_TRANSACTION)
    }

    fn is_aborted_transaction(error: &sqlx::Error) -> bool {
        has_sqlstate(error, IN_FAILED_SQL_TRANSACTION)
    }

    fn is_connection_lost(error: &sqlx::Error) -> bool {
        match error {
            sqlx::Error::Io(_) => true,
            sqlx::Error::Database(database) => database.code().is_some_and(|code| {
                SESSION_ENDED.contains(&code.as_ref()) || code.starts_with(CONNECTION_EXCEPTION)
            }),
            _ => false,
        }
    }

    fn is_prepared_statement_mismatch(error: &sqlx::Error) -> bool {
        (has_sqlstate(error, INVALID_SQL_STATEMENT_NAME)
            || has_sqlstate(error, DUPLICATE_PREPARED_STATEMENT))
            && error
                .as_database_error()
                .is_some_and(|error| error.message().contains("\"sqlx_s_"))
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

    use crate::pin::{PlanCacheMode, TransactionSettings};
    use core::time::Duration;
    use tenancy_core::KeyValue;

    use crate::ident::Identifier;
    use crate::setting::SettingName;

    #[test]
    fn begin_is_one_statement_string_with_a_local_setting() {
        let setting = SettingName::default();
        let settings = TransactionSettings::new();
        let pin = Pin::new(&setting, KeyValue::I64(42), &settings);
        let sql = Postgres::begin_statement(&pin).unwrap();
        assert_eq!(sql, r#"BEGIN; SET LOCAL "app"."tenant_id" = '42'"#);
    }

    #[test]
    fn every_pin_is_one_more_local_setting_of_the_same_query() {
        let setting = SettingName::default();
        let settings = TransactionSettings::new()
            .statement_timeout(Duration::from_secs(5))
            .lock_timeout(Duration::from_millis(250))
            .idle_in_transaction_timeout(Duration::from_secs(60))
            .plan_cache_mode(PlanCacheMode::ForceCustomPlan)
            .read_only();
        let schema = Identifier::new("schema", "tenant_42").unwrap();
        let pin = Pin {
            search_path: Some(&schema),
            ..Pin::new(&setting, KeyValue::I64(42), &settings)
        };
        assert_eq!(
            Postgres::begin_statement(&pin).unwrap(),
            "BEGIN READ ONLY; SET LOCAL \"app\".\"tenant_id\" = '42'; \
             SET LOCAL search_path TO \"tenant_42\", pg_temp; \
             SET LOCAL statement_timeout = '5000'; SET LOCAL lock_timeout = '250'; \
             SET LOCAL idle_in_transaction_session_timeout = '60000'; \
             SET LOCAL plan_cache_mode = 'force_custom_plan'"
        );
    }

    #[test]
    fn the_reset_never_discards_all() {
        // `DISCARD ALL` runs `SET SESSION AUTHORIZATION DEFAULT`.
        assert!(!RESET_SESSION.to_ascii_uppercase().contains("DISCARD ALL"));
        assert!(!RESET_SESSION.contains("DEALLOCATE ALL"));
    }
}
