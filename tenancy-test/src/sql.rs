//! Raw SQL for set-up, and reading what PostgreSQL said: SQLSTATEs,
//! messages, refusals.

use sqlx::postgres::PgDatabaseError;
use sqlx::{AssertSqlSafe, PgPool};

/// Runs `sql` (one or more statements, no parameters) as one simple query
/// on a connection of `pool`: set-up and sabotage written by hand.
pub async fn execute(pool: &PgPool, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .map(drop)
}

/// SQLSTATE `insufficient_privilege`: what a row-level security refusal,
/// and a missing grant, raise.
pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
/// SQLSTATE `invalid_text_representation`: `''::bigint` on a reused connection.
pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";

/// The SQLSTATE of a database error.
pub fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .map(|code| code.into_owned())
}

/// The server's message of a database error, with its detail and hint.
pub fn server_message(error: &sqlx::Error) -> String {
    match error
        .as_database_error()
        .and_then(|error| error.try_downcast_ref::<PgDatabaseError>())
    {
        Some(error) => format!(
            "{} (detail: {:?}, hint: {:?})",
            error.message(),
            error.detail(),
            error.hint()
        ),
        None => error.to_string(),
    }
}

/// Asserts that `result` is PostgreSQL refusing a row under a policy's
/// `WITH CHECK`: SQLSTATE 42501 and "new row violates row-level security
/// policy for table "<table>"" — not a cast error, not a success.
#[track_caller]
pub fn assert_with_check_refusal<T: std::fmt::Debug>(
    result: Result<T, sqlx::Error>,
    table: &str,
    what: &str,
) {
    let error = match result {
        Ok(value) => panic!("{what}: accepted ({value:?}); expected a WITH CHECK refusal"),
        Err(error) => error,
    };
    let message = server_message(&error);
    assert_eq!(
        sqlstate(&error).as_deref(),
        Some(INSUFFICIENT_PRIVILEGE),
        "{what}: {message}"
    );
    assert!(
        message.starts_with(&format!(
            "new row violates row-level security policy for table \"{table}\""
        )),
        "{what}: {message}"
    );
}
