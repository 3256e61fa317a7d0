//! The refusal, at connect time, of an application role that row-level
//! security would not apply to, or whose sessions start as a tenant.

use sqlx::PgConnection;
use tenancy_core::TableMeta;

use crate::error::PrivilegedRole;
use crate::ident::truncate_for_error;
use crate::setting::SettingName;
use crate::{Error, ident};

/// Refuses a session that starts with the tenant setting already set (a
/// default from `ALTER DATABASE`/`ALTER ROLE .. SET`, the connection's
/// options or `postgresql.conf`): outside a tenant transaction its
/// statements would act as that tenant, where the policies should show no
/// row.
pub(crate) async fn refuse_tenant_default(
    connection: &mut PgConnection,
    setting: &SettingName,
) -> Result<(), Error> {
    let (role, value): (String, Option<String>) =
        sqlx::query_as("SELECT current_user::text, pg_catalog.current_setting($1, true)")
            .bind(setting.as_str())
            .fetch_one(&mut *connection)
            .await?;
    match value.filter(|value| !value.is_empty()) {
        Some(value) => Err(Error::SessionTenantDefault {
            role,
            setting: setting.to_string(),
            value: truncate_for_error(&value),
        }),
        None => Ok(()),
    }
}

/// What the catalog says about one role of the session.
#[derive(Debug, sqlx::FromRow)]
struct RoleFacts {
    role: String,
    superuser: bool,
    bypass_rls: bool,
    /// Registered tables the role owns or has the privileges of the owner of.
    owned: Vec<String>,
    /// Roles it is a member of that skip the policies, whether or not it
    /// inherits their privileges: it can `SET ROLE` to them.
    member_of: Vec<String>,
}

/// One round trip: for the current role and the session's login role (they
/// differ after `SET ROLE`, which raw SQL can undo with `RESET ROLE`), the
/// role's attributes, the tables — registered, or with row-level security
/// enabled — whose owner it is or whose owner's privileges it has
/// (`pg_has_role(.., 'USAGE')` follows inherited membership), and the
/// privileged roles it can become (`pg_has_role(.., 'MEMBER')` follows any
/// membership). Registered tables that do not exist yet are skipped. The
/// current role comes first.
const ROLE_FACTS: &str = "\
WITH registered AS (
    SELECT c.oid::regclass::text AS name, c.relowner AS owner
    FROM unnest($1::text[]) AS t(name)
    JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(t.name)
    UNION
    SELECT c.oid::regclass::text, c.relowner
    FROM pg_catalog.pg_class c WHERE c.relrowsecurity
)
SELECT r.rolname::text AS role,
       r.rolsuper AS superuser,
       r.rolbypassrls AS bypass_rls,
       ARRAY(
           SELECT name FROM registered
           WHERE pg_catalog.pg_has_role(r.oid, owner, 'USAGE')
           ORDER BY 1
       ) AS owned,
       ARRAY(
           SELECT p.rolname::text FROM pg_catalog.pg_roles p
           WHERE p.oid <> r.oid
             AND (p.rolsuper OR p.rolbypassrls OR p.oid IN (SELECT owner FROM registered))
             AND pg_catalog.pg_has_role(r.oid, p.oid, 'MEMBER')
           ORDER BY 1
       ) AS member_of
FROM pg_catalog.pg_roles r
WHERE r.rolname IN (current_user, session_user)
ORDER BY r.rolname <> current_user";

/// Refuses the session if its current role or its login role is a
/// superuser, has `BYPASSRLS`, owns any of `tables` or any table with
/// row-level security, or can `SET ROLE` to a role that does: for such a
/// role PostgreSQL skips the policies, or it can switch them off, and the
/// database layer of the isolation would silently be missing.
pub(crate) async fn refuse_privileged_role(
    connection: &mut PgConnection,
    tables: &[&'static TableMeta],
) -> Result<(), Error> {
    let names = tables
        .iter()
        .map(|table| ident::quoted_table(table.schema, table.name))
        .collect::<Result<Vec<_>, _>>()?;
    let roles: Vec<RoleFacts> = sqlx::query_as(ROLE_FACTS)
        .bind(names)
        .fetch_all(&mut *connection)
        .await?;
    match roles.into_iter().find_map(RoleFacts::refusal) {
        Some(refusal) => Err(refusal),
        None => Ok(()),
    }
}

impl RoleFacts {
    /// The refusal of this role, if the policies would not apply to it.
    fn refusal(self) -> Option<Error> {
        let problem = if self.superuser {
            PrivilegedRole::Superuser
        } else if self.bypass_rls {
            PrivilegedRole::BypassRls
        } else if !self.owned.is_empty() {
            PrivilegedRole::OwnsTables(self.owned)
        } else if !self.member_of.is_empty() {
            PrivilegedRole::MemberOf(self.member_of)
        } else {
            return None;
        };
        Some(Error::PrivilegedRole {
            role: self.role,
            problem,
        })
    }
}
