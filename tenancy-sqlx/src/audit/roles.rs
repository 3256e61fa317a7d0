//! The audit of roles: which login roles skip row-level security, or can
//! make themselves a role that does, and whether one session would pass a
//! tenant pool's check.

use sqlx::PgConnection;
use tenancy_core::ddl::TableSet;

use super::{Finding, FindingKind};
use crate::Error;
use crate::ident::Identifier;
use crate::role::SessionCheck;

/// The role audit: the roles that can log in and skip every row-level
/// security policy or can make themselves such a role, except those a
/// deployment accepts.
///
/// Reported, one finding per role, for the most serious of: being a
/// superuser or having `BYPASSRLS` ([`FindingKind::LoginRoleBypassesRls`]);
/// having `CREATEROLE`, with which a role grants itself other roles (on
/// PostgreSQL 15 any role but a superuser, the tables' owner included), or
/// being one of the predefined roles that read, write or run programs as
/// the server's files, and so reach every tenant's rows on disk
/// ([`FindingKind::LoginRoleCanEscalate`]); or being a member of such a
/// role (neither attribute is inherited, but `SET ROLE` switches to it),
/// with `ADMIN OPTION` or without.
///
/// A deployment usually accepts the one superuser it administers with (the
/// bootstrap superuser, which cannot lose the attribute) and no other:
///
/// ```no_run
/// # async fn run(conn: &mut sqlx::PgConnection) -> Result<(), tenancy_sqlx::Error> {
/// use tenancy_sqlx::audit::RoleAudit;
///
/// let audit = RoleAudit::new().accept("postgres", "the bootstrap superuser, for the DBA only")?;
/// for finding in audit.run(conn).await? {
///     eprintln!("{finding}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct RoleAudit {
    accepted: Vec<(Identifier, String)>,
}

impl RoleAudit {
    /// An audit that accepts no role.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `role`: it is left out of the findings. Say why; the reason
    /// is logged at `INFO` on target `tenancy::audit` every time the audit
    /// leaves the role out.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidIdentifier`] for a name that is not a role name,
    /// [`Error::MissingReason`] for an empty reason.
    pub fn accept(mut self, role: &str, reason: &str) -> Result<Self, Error> {
        let role = Identifier::new("role", role)?;
        if reason.trim().is_empty() {
            return Err(Error::MissingReason {
                what: "accepting a role in the role audit",
            });
        }
        self.accepted.push((role, reason.to_owned()));
        Ok(self)
    }

    /// Runs the audit on `connection`; any role may run it.
    pub async fn run(&self, connection: &mut PgConnection) -> Result<Vec<Finding>, Error> {
        let roles: Vec<LoginRole> = sqlx::query_as(LOGIN_ROLES)
            .fetch_all(&mut *connection)
            .await?;
        Ok(roles
            .into_iter()
            .filter(|role| !self.is_accepted(&role.role))
            .map(LoginRole::finding)
            .collect())
    }

    fn is_accepted(&self, role: &str) -> bool {
        let accepted = self.accepted.iter().find(|(name, _)| name.as_str() == role);
        if let Some((name, reason)) = accepted {
            tracing::info!(target: "tenancy::audit", role = %name, %reason, "accepted role left out of the role audit");
        }
        accepted.is_some()
    }
}

/// The login roles that skip the policies, or can become a role that does
/// ([`RoleAudit`], accepting none).
pub async fn roles_bypassing_rls(connection: &mut PgConnection) -> Result<Vec<Finding>, Error> {
    RoleAudit::new().run(connection).await
}

/// Checks `connection`'s session the way a [`TenantPool`](crate::TenantPool)
/// checks each connection it opens: the current role, the session role and
/// the role it authenticated as must not skip row-level security or be able
/// to make themselves a role that does, own a table of `tables`, or create
/// objects in the database or any schema (see
/// [`TenantPool::connect_with`](crate::TenantPool::connect_with)), and the
/// session must not start with the set's tenant setting set. For pools and
/// connections a tenant pool does not own — run it in their `after_connect`
/// hook.
///
/// # Errors
///
/// [`Error::PrivilegedRole`] or [`Error::SessionTenantDefault`] for a
/// session that fails the check, [`Error::Database`] if the query fails.
pub async fn verify_session(connection: &mut PgConnection, tables: &TableSet) -> Result<(), Error> {
    let check = SessionCheck::new(tables, None, None)?;
    match check.run(connection).await? {
        Some(refusal) => Err(refusal.to_error()),
        None => Ok(()),
    }
}

/// Every login role that skips the policies or can escalate, itself or
/// through the most serious role it is a member of.
const LOGIN_ROLES: &str = "\
WITH privileged AS (
    SELECT p.oid, p.rolname,
           CASE WHEN p.rolsuper THEN 'SUPERUSER' WHEN p.rolbypassrls THEN 'BYPASSRLS'
                WHEN p.rolcreaterole THEN 'CREATEROLE' ELSE 'FILES' END AS attribute,
           CASE WHEN p.rolsuper THEN 0 WHEN p.rolbypassrls THEN 1
                WHEN p.rolcreaterole THEN 2 ELSE 3 END AS rank
    FROM pg_catalog.pg_roles p
    WHERE p.rolsuper OR p.rolbypassrls OR p.rolcreaterole
       OR p.rolname IN ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program')
)
SELECT r.rolname::text AS role,
       r.oid = 10 AS bootstrap,
       coalesce(CASE WHEN r.rolsuper THEN 'SUPERUSER' WHEN r.rolbypassrls THEN 'BYPASSRLS'
                     WHEN r.rolcreaterole THEN 'CREATEROLE' END, g.attribute) AS attribute,
       g.rolname::text AS via,
       coalesce(g.admin, false) AS via_admin
FROM pg_catalog.pg_roles r
LEFT JOIN LATERAL (
    SELECT p.rolname, p.attribute,
           pg_catalog.pg_has_role(r.oid, p.oid, 'MEMBER WITH ADMIN OPTION') AS admin
    FROM privileged p
    WHERE p.oid <> r.oid AND pg_catalog.pg_has_role(r.oid, p.oid, 'MEMBER')
    ORDER BY p.rank, 3 DESC, p.rolname LIMIT 1
) g ON NOT (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole)
WHERE r.rolcanlogin AND (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR g.rolname IS NOT NULL)
ORDER BY 1";

/// A login role the audit reports.
#[derive(sqlx::FromRow)]
struct LoginRole {
    role: String,
    /// The role `initdb` created, which PostgreSQL 16 and later refuse to
    /// strip of `SUPERUSER` (and 15 accepts, leaving no superuser at all).
    bootstrap: bool,
    /// What makes it privileged: its own attribute, or else that of `via`.
    attribute: String,
    /// The most serious role it can become, when it has no such attribute
    /// itself.
    via: Option<String>,
    /// It holds `ADMIN OPTION` on `via`.
    via_admin: bool,
}

impl LoginRole {
    fn finding(self) -> Finding {
        let role = self.role;
        let (kind, message, fix) = match self.via {
            None => own_attribute(&role, &self.attribute, self.bootstrap),
            Some(group) => {
                let admin = if self.via_admin {
                    " (with ADMIN OPTION: it can grant it to any role, itself included)"
                } else {
                    ""
                };
                let (kind, what, consequence) = describe(&self.attribute);
                (
                    kind,
                    format!(
                        "role `{role}` can log in and is a member of `{group}`{admin}, which {what}: \
                         after `SET ROLE` it {consequence}"
                    ),
                    format!("REVOKE \"{group}\" FROM \"{role}\""),
                )
            }
        };
        Finding {
            table: None,
            kind,
            message,
            fix,
        }
    }
}

/// The finding for a role with the attribute itself.
fn own_attribute(role: &str, attribute: &str, bootstrap: bool) -> (FindingKind, String, String) {
    let (kind, what, consequence) = describe(attribute);
    let message = format!("role `{role}` can log in and {what}: it {consequence}");
    let fix = if bootstrap {
        format!(
            "`{role}` is the bootstrap superuser, which cannot lose SUPERUSER (PostgreSQL 16 \
             refuses, and on 15 the cluster would be left without a superuser): keep applications \
             off it (no password for network logins, pg_hba.conf) and accept it with \
             `RoleAudit::accept(\"{role}\", ..)`"
        )
    } else {
        let alter = match attribute {
            "SUPERUSER" => "NOSUPERUSER",
            "BYPASSRLS" => "NOBYPASSRLS",
            _ => "NOCREATEROLE",
        };
        format!(
            "if applications connect as `{role}`, give them a role without it, or ALTER ROLE \"{role}\" {alter}"
        )
    };
    (kind, message, fix)
}

/// The kind of finding, what the attribute is, and what it lets a role do.
fn describe(attribute: &str) -> (FindingKind, String, &'static str) {
    match attribute {
        "SUPERUSER" | "BYPASSRLS" => (
            FindingKind::LoginRoleBypassesRls,
            format!("is {attribute}"),
            "skips every row-level security policy",
        ),
        "CREATEROLE" => (
            FindingKind::LoginRoleCanEscalate,
            "has CREATEROLE".to_owned(),
            "can grant itself a role that skips row-level security or can turn it off \
             (on PostgreSQL 15 any role but a superuser, the tables' owner included)",
        ),
        _ => (
            FindingKind::LoginRoleCanEscalate,
            "reads, writes or runs programs as the server's files".to_owned(),
            "can read every tenant's rows from disk, or take the server over",
        ),
    }
}
