//! The refusal, at connect time, of an application role that row-level
//! security would not apply to.

use sqlx::PgConnection;
use tenancy_core::TableMeta;

use crate::error::PrivilegedRole;
use crate::{Error, ident};

/// What the catalog says about the connected role.
#[derive(Debug, sqlx::FromRow)]
struct RoleFacts {
    role: String,
    superuser: bool,
    bypass_rls: bool,
    /// Registered tables the role owns or has the privileges of the owner of.
    owned: Vec<String>,
}

/// One round trip: the role's attributes and the registered tables whose
/// owner it is, or whose owner's privileges it has (`pg_has_role(.., 'USAGE')`
/// follows inherited membership). Tables that do not exist yet are skipped.
const ROLE_FACTS: &str = "\
SELECT r.rolname::text AS role,
       r.rolsuper AS superuser,
       r.rolbypassrls AS bypass_rls,
       ARRAY(
           SELECT c.oid::regclass::text
           FROM unnest($1::text[]) AS t(name)
           JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(t.name)
           WHERE pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
           ORDER BY 1
       ) AS owned
FROM pg_catalog.pg_roles r
WHERE r.rolname = current_user";

/// Refuses the connected role if it is a superuser, has `BYPASSRLS`, or owns
/// any of `tables`: for such a role PostgreSQL skips the policies, and the
/// database layer of the isolation would silently be missing.
pub(crate) async fn refuse_privileged_role(
    connection: &mut PgConnection,
    tables: &[&'static TableMeta],
) -> Result<(), Error> {
    let names = tables
        .iter()
        .map(|table| ident::quoted_table(table.schema, table.name))
        .collect::<Result<Vec<_>, _>>()?;
    let facts: RoleFacts = sqlx::query_as(ROLE_FACTS)
        .bind(names)
        .fetch_one(&mut *connection)
        .await?;
    let problem = if facts.superuser {
        Some(PrivilegedRole::Superuser)
    } else if facts.bypass_rls {
        Some(PrivilegedRole::BypassRls)
    } else if !facts.owned.is_empty() {
        Some(PrivilegedRole::OwnsTables(facts.owned))
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::PrivilegedRole {
            role: facts.role,
            problem,
        }),
        None => Ok(()),
    }
}
