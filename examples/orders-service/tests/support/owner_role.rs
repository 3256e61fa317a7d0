//! The test owner role's right to create databases, which the
//! database-per-tenant model needs.

use tenancy_sqlx::testing::OWNER_ROLE;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Lets the test owner role create databases, as `admin` (idempotent; the role is the
/// test server's). Tests run this at the same time, in threads and in
/// processes, and two `ALTER ROLE`s of one role at once fail with `tuple
/// concurrently updated`: an advisory lock takes them in turn, and a role
/// that has the right already is left alone.
pub async fn owner_may_create_databases<'e>(
    admin: impl sqlx::PgExecutor<'e>,
) -> Result<(), BoxError> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DO $$ BEGIN
           PERFORM pg_advisory_xact_lock(hashtext('orders-service tests: owner CREATEDB'));
           IF NOT (SELECT rolcreatedb FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN
             ALTER ROLE {OWNER_ROLE} CREATEDB;
           END IF;
         END $$"
    )))
    .execute(admin)
    .await?;
    Ok(())
}
