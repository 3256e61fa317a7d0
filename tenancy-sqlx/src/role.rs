//! The check every new PostgreSQL connection of a tenant pool passes: no
//! role of the session skips row-level security or can make itself one that
//! does, none can create objects, and the session does not start as a
//! tenant.

use std::sync::Arc;

use sqlx::{PgConnection, Postgres};
use tenancy_core::ddl::TableSet;

use crate::Error;
use crate::backend::Backend;
use crate::error::PrivilegedRole;
use crate::ident::{self, truncate_for_error};
use crate::refusal::Refusal;
use crate::setting::SettingName;

/// The places where the role whose oid is the SQL `$role` can create
/// objects, sorted, one row each: `database "shop"` (`CREATE` on the
/// database creates schemas) and `schema "public"`, for every schema but
/// the sessions' temporary ones.
macro_rules! places_role_creates_in {
    ($role:literal) => {
        concat!(
            "SELECT place FROM (
                SELECT 'database ' || pg_catalog.quote_ident(pg_catalog.current_database())
                WHERE pg_catalog.has_database_privilege(",
            $role,
            ", pg_catalog.current_database(), 'CREATE')
                UNION ALL
                SELECT 'schema ' || pg_catalog.quote_ident(n.nspname)
                FROM pg_catalog.pg_namespace n
                WHERE n.nspname !~ '^pg_(toast_)?temp_'
                  AND pg_catalog.has_schema_privilege(",
            $role,
            ", n.oid, 'CREATE')
            ) AS c(place)
            ORDER BY place"
        )
    };
}
pub(crate) use places_role_creates_in;

/// One round trip. For each role of the session — the current role, the
/// session role and the role it authenticated as (they differ after `SET
/// ROLE`, which raw SQL can undo with `RESET ROLE`, and after `SET SESSION
/// AUTHORIZATION`, which `RESET SESSION AUTHORIZATION` undoes; only the
/// server's own record in `pg_stat_activity` still names the login role
/// then) — its attributes; the tables, registered or with row-level
/// security enabled, whose owner it is or whose owner's privileges it has
/// (`pg_has_role(.., 'USAGE')` follows inherited membership); and the roles
/// that skip the policies or can turn them off that it holds `ADMIN OPTION`
/// on or is a member of (`'MEMBER'` follows any membership: it can `SET
/// ROLE` to them). Those are superusers, `BYPASSRLS` and `CREATEROLE` roles
/// (which can grant themselves the owner), the predefined roles that read,
/// write or run programs as the server's files (which reach every tenant's
/// rows on disk), and the owners of those tables. Registered tables that do
/// not exist yet are skipped. Also where the role can create objects: the
/// database (`CREATE` on it creates schemas) and every schema but the
/// sessions' temporary ones. The current role comes first, then the
/// session role. Every row also carries the tenant setting the session
/// started with.
const SESSION_FACTS: &str = concat!("\
WITH registered AS (
    SELECT c.oid::regclass::text AS name, c.relowner AS owner
    FROM unnest($1::text[]) AS t(name)
    JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(t.name)
    UNION
    SELECT c.oid::regclass::text, c.relowner
    FROM pg_catalog.pg_class c WHERE c.relrowsecurity
),
privileged AS (
    SELECT p.oid, p.rolname FROM pg_catalog.pg_roles p
    WHERE p.rolsuper OR p.rolbypassrls OR p.rolcreaterole
       OR p.rolname IN ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program')
       OR p.oid IN (SELECT owner FROM registered)
),
login AS (
    SELECT a.usesysid AS oid FROM pg_catalog.pg_stat_activity a
    WHERE a.pid = pg_catalog.pg_backend_pid()
)
SELECT r.rolname::text AS role,
       r.rolsuper AS superuser,
       r.rolbypassrls AS bypass_rls,
       r.rolcreaterole AS create_role,
       ARRAY(
           SELECT name FROM registered
           WHERE pg_catalog.pg_has_role(r.oid, owner, 'USAGE')
           ORDER BY 1
       ) AS owned,
       ARRAY(
           SELECT p.rolname::text FROM privileged p
           WHERE p.oid <> r.oid AND pg_catalog.pg_has_role(r.oid, p.oid, 'MEMBER WITH ADMIN OPTION')
           ORDER BY 1
       ) AS admin_of,
       ARRAY(
           SELECT p.rolname::text FROM privileged p
           WHERE p.oid <> r.oid AND pg_catalog.pg_has_role(r.oid, p.oid, 'MEMBER')
           ORDER BY 1
       ) AS member_of,
       ARRAY(", places_role_creates_in!("r.oid"), ") AS creates_in,
       EXISTS (SELECT FROM login) AS login_known,
       pg_catalog.current_setting($2, true) AS tenant_setting
FROM pg_catalog.pg_roles r
WHERE r.rolname IN (current_user, session_user) OR r.oid IN (SELECT oid FROM login)
ORDER BY r.rolname <> current_user, r.rolname <> session_user, r.rolname");

/// What the catalog says about one role of the session.
#[derive(Debug, sqlx::FromRow)]
struct RoleFacts {
    role: String,
    superuser: bool,
    bypass_rls: bool,
    create_role: bool,
    owned: Vec<String>,
    admin_of: Vec<String>,
    member_of: Vec<String>,
    creates_in: Vec<String>,
    login_known: bool,
    tenant_setting: Option<String>,
}

impl RoleFacts {
    /// What lets this role skip row-level security or become a role that
    /// does, if anything; then where it can create objects, if anywhere.
    fn problems(self) -> (String, Option<PrivilegedRole>, Option<PrivilegedRole>) {
        let creates = (!self.creates_in.is_empty())
            .then(|| PrivilegedRole::CanCreate(self.creates_in.clone()));
        let rls = self.rls_problem();
        (self.role, rls, creates)
    }

    fn rls_problem(&self) -> Option<PrivilegedRole> {
        Some(if self.superuser {
            PrivilegedRole::Superuser
        } else if self.bypass_rls {
            PrivilegedRole::BypassRls
        } else if self.create_role {
            PrivilegedRole::CreateRole
        } else if !self.owned.is_empty() {
            PrivilegedRole::OwnsTables(self.owned.clone())
        } else if !self.admin_of.is_empty() {
            PrivilegedRole::AdminOf(self.admin_of.clone())
        } else if !self.member_of.is_empty() {
            PrivilegedRole::MemberOf(self.member_of.clone())
        } else {
            return None;
        })
    }
}

/// The check a tenant pool runs on every new connection, made from its
/// options once.
#[derive(Debug, Clone)]
pub(crate) struct SessionCheck {
    /// The registered tables, quoted and qualified by the schema they live
    /// in (the set's for those declared without one).
    tables: Arc<[String]>,
    setting: SettingName,
    /// Why a role that skips the policies is accepted anyway, if it is.
    accept_privileged: Option<Arc<str>>,
    /// Why a role that can create objects is accepted anyway, if it is.
    accept_creating: Option<Arc<str>>,
}

impl SessionCheck {
    /// The check for a pool of `tables` (refused if they describe one table
    /// twice), accepting a privileged role, or one that can create objects,
    /// only with a stated reason.
    pub(crate) fn new(
        tables: &TableSet,
        accept_privileged: Option<&str>,
        accept_creating: Option<&str>,
    ) -> Result<Self, Error> {
        let schema = tables.schema(Postgres::DIALECT);
        let tables_sql = tables
            .tables()?
            .iter()
            .map(|table| ident::quoted_table(Some(table.schema_or(schema.as_str())), table.name))
            .collect::<Result<Vec<_>, _>>()?;
        if accept_privileged.is_some_and(|reason| reason.trim().is_empty()) {
            return Err(Error::MissingReason {
                what: "accepting a role that bypasses row-level security",
            });
        }
        if accept_creating.is_some_and(|reason| reason.trim().is_empty()) {
            return Err(Error::MissingReason {
                what: "accepting a role that can create objects",
            });
        }
        Ok(SessionCheck {
            tables: tables_sql.into(),
            setting: tables.setting().clone(),
            accept_privileged: accept_privileged.map(Arc::from),
            accept_creating: accept_creating.map(Arc::from),
        })
    }

    /// Why this session must not serve tenant transactions, if it must not.
    /// A privileged role accepted with a reason is logged at `WARN` instead.
    pub(crate) async fn run(
        &self,
        connection: &mut PgConnection,
    ) -> Result<Option<Refusal>, sqlx::Error> {
        let roles: Vec<RoleFacts> = sqlx::query_as(SESSION_FACTS)
            .bind(&*self.tables)
            .bind(self.setting.as_str())
            .fetch_all(&mut *connection)
            .await?;
        let mut roles = roles.into_iter().peekable();
        let Some(first) = roles.peek() else {
            // The current role always exists; refuse rather than guess.
            return Ok(Some(Refusal::Role {
                role: String::new(),
                problem: PrivilegedRole::LoginRoleUnknown,
            }));
        };
        let role = first.role.clone();
        let login_known = first.login_known;
        if let Some(value) = first
            .tenant_setting
            .as_deref()
            .filter(|value| !value.is_empty())
        {
            // Not waived by a reason to accept a privileged role: it is
            // about the setting.
            return Ok(Some(Refusal::TenantDefault {
                role,
                setting: self.setting.to_string(),
                value: truncate_for_error(value),
            }));
        }
        let mut found = Vec::new();
        for facts in roles {
            let (role, rls, creates) = facts.problems();
            found.extend(
                rls.map(|problem| (role.clone(), problem, self.accept_privileged.as_ref())),
            );
            // A role accepted as skipping the policies is not confined by
            // them anyway: what it can create adds nothing.
            let creating = self
                .accept_creating
                .as_ref()
                .or(self.accept_privileged.as_ref());
            found.extend(creates.map(|problem| (role, problem, creating)));
        }
        if !login_known {
            found.push((
                role,
                PrivilegedRole::LoginRoleUnknown,
                self.accept_privileged.as_ref(),
            ));
        }
        for (role, problem, accepted) in found {
            let Some(reason) = accepted else {
                return Ok(Some(Refusal::Role { role, problem }));
            };
            tracing::warn!(
                target: "tenancy::pool",
                %role,
                %problem,
                %reason,
                "tenant pool accepts a role that row-level security alone does not confine"
            );
        }
        Ok(None)
    }
}
