//! The roles every test database comes with, and extra roles for tests.

use sqlx::{Connection, PgConnection};

use super::TestSupportError;
use super::sql::quote_ident;

/// The role that owns each test database and the tables a test creates: the
/// role migrations run as. Not a superuser, no `BYPASSRLS`, no `CREATEROLE`.
pub const OWNER_ROLE: &str = "tenancy_owner";

/// The role the application connects as: not a superuser, no `BYPASSRLS`,
/// not a member of [`OWNER_ROLE`], and never the owner of a table — the role
/// that Row Level Security policies actually apply to.
pub const APP_ROLE: &str = "tenancy_app";

/// The password of every role the test support creates. The roles exist only
/// for tests; a password lets them log in on servers that require one.
pub(crate) const ROLE_PASSWORD: &str = "tenancy";

/// The advisory lock that serialises role set-up between test processes
/// sharing one server: "tenancy" in ASCII.
const ROLE_SETUP_LOCK: i64 = 0x0074_656e_616e_6379;

/// A privilege a role created by
/// [`TestDatabase::create_role`](super::TestDatabase::create_role) may have.
/// Every attribute not asked for is explicitly denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RoleAttribute {
    /// `SUPERUSER`: bypasses every permission check, RLS included.
    Superuser,
    /// `BYPASSRLS`: bypasses Row Level Security policies.
    BypassRls,
    /// `CREATEDB`: may create databases.
    CreateDb,
    /// `CREATEROLE`: may create and alter roles.
    CreateRole,
}

impl RoleAttribute {
    const ALL: [Self; 4] = [
        Self::Superuser,
        Self::BypassRls,
        Self::CreateDb,
        Self::CreateRole,
    ];

    fn keyword(self, granted: bool) -> &'static str {
        match (self, granted) {
            (Self::Superuser, true) => "SUPERUSER",
            (Self::Superuser, false) => "NOSUPERUSER",
            (Self::BypassRls, true) => "BYPASSRLS",
            (Self::BypassRls, false) => "NOBYPASSRLS",
            (Self::CreateDb, true) => "CREATEDB",
            (Self::CreateDb, false) => "NOCREATEDB",
            (Self::CreateRole, true) => "CREATEROLE",
            (Self::CreateRole, false) => "NOCREATEROLE",
        }
    }
}

/// The option list of `CREATE ROLE` / `ALTER ROLE` for a login role with
/// exactly `granted` attributes.
fn role_options(granted: &[RoleAttribute]) -> String {
    let mut options = format!("LOGIN PASSWORD '{ROLE_PASSWORD}'");
    for attribute in RoleAttribute::ALL {
        options.push(' ');
        options.push_str(attribute.keyword(granted.contains(&attribute)));
    }
    options
}

/// Creates a login role with exactly `granted` attributes.
pub(crate) async fn create_role(
    admin: &mut PgConnection,
    name: &str,
    granted: &[RoleAttribute],
) -> Result<(), TestSupportError> {
    let statement = format!(
        "CREATE ROLE {} WITH {}",
        quote_ident(name),
        role_options(granted)
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&mut *admin)
        .await
        .map(drop)
        .map_err(|error| TestSupportError::database(format!("create role `{name}`"), error))
}

/// Makes sure [`OWNER_ROLE`] and [`APP_ROLE`] exist with exactly their
/// intended attributes, whatever an earlier run or a colleague left behind.
pub(crate) async fn ensure_standard_roles(
    admin: &mut PgConnection,
) -> Result<(), TestSupportError> {
    let action = "set up the test roles `tenancy_owner` and `tenancy_app`";
    let mut transaction = admin
        .begin()
        .await
        .map_err(|error| TestSupportError::database(action, error))?;
    // Released at commit; two processes never race on CREATE ROLE.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(ROLE_SETUP_LOCK)
        .execute(&mut *transaction)
        .await
        .map_err(|error| TestSupportError::database(action, error))?;
    for role in [OWNER_ROLE, APP_ROLE] {
        ensure_role(&mut transaction, role).await?;
    }
    // The application role must not inherit the owner's rights.
    let app_is_member: bool = sqlx::query_scalar("SELECT pg_has_role($1, $2, 'MEMBER')")
        .bind(APP_ROLE)
        .bind(OWNER_ROLE)
        .fetch_one(&mut *transaction)
        .await
        .map_err(|error| TestSupportError::database(action, error))?;
    if app_is_member {
        sqlx::raw_sql("REVOKE tenancy_owner FROM tenancy_app")
            .execute(&mut *transaction)
            .await
            .map_err(|error| TestSupportError::database(action, error))?;
    }
    transaction
        .commit()
        .await
        .map_err(|error| TestSupportError::database(action, error))
}

async fn ensure_role(admin: &mut PgConnection, name: &str) -> Result<(), TestSupportError> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(name)
            .fetch_one(&mut *admin)
            .await
            .map_err(|error| TestSupportError::database(format!("look up role `{name}`"), error))?;
    if !exists {
        return create_role(admin, name, &[]).await;
    }
    let statement = format!(
        "ALTER ROLE {} WITH {}",
        quote_ident(name),
        role_options(&[])
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&mut *admin)
        .await
        .map(drop)
        .map_err(|error| {
            TestSupportError::database(format!("reset the attributes of role `{name}`"), error)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_deny_everything_not_granted() {
        assert_eq!(
            role_options(&[RoleAttribute::BypassRls]),
            "LOGIN PASSWORD 'tenancy' NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE"
        );
    }
}
