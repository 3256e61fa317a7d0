//! PostgreSQL: the tenant context is a transaction-local custom setting read
//! by row-level security policies.

use sea_query_sqlx::SqlxValues;
use sqlx::postgres::PgQueryResult;
use sqlx::{PgConnection, Postgres};
use tenancy_core::{Dialect, KeyValue};

use super::{Access, Backend, Internals};
use crate::Error;
use crate::setting::{SettingName, key_literal};

impl Backend for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
}

impl Internals for Postgres {
    type Executor<'c> = &'c mut PgConnection;
    type Values = SqlxValues;

    const ERROR_ABORTS_TRANSACTION: bool = true;

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

    fn reset_statement(setting: &SettingName) -> String {
        // Besides a session-level setting, raw SQL can leave the tenant's
        // rows on the connection, where no policy filters them: in a
        // temporary table (`CREATE TEMP TABLE IF NOT EXISTS scratch AS ..`
        // run by the next tenant finds the old one) or a cursor declared
        // `WITH HOLD`. One simple query, run outside any transaction.
        format!("CLOSE ALL; DISCARD TEMP; RESET {}", setting.quoted())
    }

    async fn settle(_connection: &mut PgConnection) -> Result<(), sqlx::Error> {
        // A queued ROLLBACK lowers sqlx's depth when it is queued.
        Ok(())
    }
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
}
