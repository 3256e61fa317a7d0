//! Checks of the whole database rather than of the registered tables:
//! tenant data that nothing protects, and the functions and views through
//! which SQL can run unconfined by row-level security (the roles that can
//! are the role audit's, [`RoleAudit`](super::RoleAudit)).

use sqlx::PgConnection;
use sqlx::postgres::types::Oid;

use super::{Finding, FindingKind};
use crate::Error;
use crate::drift::table_oid;
use crate::ident::Identifier;
use crate::manifest::Manifest;

/// Schemas of the server itself, never user data.
const SYSTEM_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
                              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// Lists the tables that have a tenant column (any of `tenant_columns`, any
/// registered table's; `tenant_id` when both are empty) but are not
/// registered — in any of `placements`, the schemas tables declared without
/// one are placed in — and have no row-level security: every role that may
/// read such a table sees every tenant's rows in it, and the application's
/// registry does not know it exists. Partitions and inheritance children are
/// left out: the audit of their parent covers them.
pub async fn unregistered_tenant_tables(
    connection: &mut PgConnection,
    manifest: &Manifest,
    placements: &[Option<Identifier>],
    tenant_columns: &[String],
) -> Result<Vec<Finding>, Error> {
    let mut registered: Vec<Oid> = Vec::new();
    for placement in placements {
        for table in manifest.tables() {
            if let Some(oid) = table_oid(connection, &table.quoted_in(placement.as_ref())?).await? {
                registered.push(oid);
            }
        }
    }
    let mut columns: Vec<String> = manifest
        .tables()
        .iter()
        .filter_map(|table| table.tenant().map(|tenant| tenant.column().to_owned()))
        .chain(tenant_columns.iter().cloned())
        .collect();
    if columns.is_empty() {
        columns.push("tenant_id".to_owned());
    }
    columns.sort();
    columns.dedup();
    let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.oid::regclass::text, a.attname::text
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p') AND NOT c.relrowsecurity AND {SYSTEM_SCHEMAS}
           AND a.attname = ANY ($1)
           AND c.oid <> ALL ($2)
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid)
         ORDER BY 1"
    )))
    .bind(&columns)
    .bind(&registered)
    .fetch_all(&mut *connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(table, column)| Finding {
            table: Some(table.clone()),
            kind: FindingKind::UnregisteredTenantTable,
            message: format!(
                "the table has the tenant column `{column}` but is not registered and has no \
                 row-level security: every role that may read it sees every tenant's rows"
            ),
            fix: format!(
                "register it (`#[tenant_scoped]` in the application's `TableSet`) and apply the schema, \
                 or protect it by hand: ALTER TABLE {table} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL \
                 SECURITY and the generated policy"
            ),
        })
        .collect())
}

/// What a `SECURITY DEFINER` function or a view needs to run unconfined:
/// its owner is a superuser, has `BYPASSRLS`, or owns an RLS table it reads
/// that is not `FORCE`d.
#[derive(sqlx::FromRow)]
struct Unconfined {
    name: String,
    owner: String,
    why: String,
    public: bool,
}

/// A view of [`views_bypassing_rls`].
#[derive(sqlx::FromRow)]
struct UnconfinedView {
    #[sqlx(flatten)]
    view: Unconfined,
    materialized: bool,
}

/// Lists the `SECURITY DEFINER` functions owned by a superuser or a
/// `BYPASSRLS` role: whoever may call one runs its SQL as that owner, which
/// no row-level security policy confines.
pub async fn security_definer_functions(
    connection: &mut PgConnection,
) -> Result<Vec<Finding>, Error> {
    let functions: Vec<Unconfined> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT p.oid::regprocedure::text AS name, r.rolname::text AS owner,
                CASE WHEN r.rolsuper THEN 'SUPERUSER' ELSE 'BYPASSRLS' END AS why,
                pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') AS public
         FROM pg_catalog.pg_proc p
         JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         JOIN pg_catalog.pg_roles r ON r.oid = p.proowner
         WHERE p.prosecdef AND (r.rolsuper OR r.rolbypassrls) AND {SYSTEM_SCHEMAS}
         ORDER BY 1"
    )))
    .fetch_all(&mut *connection)
    .await?;
    Ok(functions
        .into_iter()
        .map(|function| Finding {
            table: None,
            kind: FindingKind::SecurityDefinerBypassesRls,
            message: format!(
                "function `{}` is SECURITY DEFINER and owned by `{}` ({}): {} runs its SQL \
                 unconfined by row-level security",
                function.name,
                function.owner,
                function.why,
                if function.public {
                    "every role (EXECUTE is granted to PUBLIC)"
                } else {
                    "whoever may execute it"
                }
            ),
            fix: format!(
                "ALTER FUNCTION {} OWNER TO a role row-level security applies to, or SECURITY INVOKER; \
                 REVOKE EXECUTE ON FUNCTION {} FROM PUBLIC",
                function.name, function.name
            ),
        })
        .collect())
}

/// Lists the views and materialized views over tables with row-level
/// security whose owner skips it: a superuser, a `BYPASSRLS` role, or the
/// owner of such a table that is not `FORCE`d. A view runs with its
/// owner's rights (unless `security_invoker`), so it shows every tenant's
/// rows to whoever may read it; a materialized view stores them.
pub async fn views_bypassing_rls(connection: &mut PgConnection) -> Result<Vec<Finding>, Error> {
    let views: Vec<UnconfinedView> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT v.oid::regclass::text AS name, r.rolname::text AS owner, v.relkind = 'm' AS materialized,
                CASE WHEN r.rolsuper THEN 'SUPERUSER'
                     WHEN r.rolbypassrls THEN 'BYPASSRLS'
                     ELSE 'the owner of ' || string_agg(DISTINCT t.oid::regclass::text, ', ')
                              || ', whose row-level security is not forced' END AS why,
                pg_catalog.has_table_privilege('public', v.oid, 'SELECT') AS public
         FROM pg_catalog.pg_class v
         JOIN pg_catalog.pg_namespace n ON n.oid = v.relnamespace
         JOIN pg_catalog.pg_roles r ON r.oid = v.relowner
         JOIN pg_catalog.pg_rewrite w ON w.ev_class = v.oid
         JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = w.oid
              AND d.refclassid = 'pg_catalog.pg_class'::regclass
         JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid AND t.relrowsecurity
         WHERE v.relkind IN ('v', 'm') AND {SYSTEM_SCHEMAS}
           AND NOT (v.relkind = 'v' AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_options_to_table(v.reloptions) o
               WHERE o.option_name = 'security_invoker'
                 AND lower(o.option_value) IN ('true', 'on', 'yes', '1')))
           AND (r.rolsuper OR r.rolbypassrls OR (t.relowner = r.oid AND NOT t.relforcerowsecurity))
         GROUP BY v.oid, v.relkind, r.rolname, r.rolsuper, r.rolbypassrls
         ORDER BY 1"
    )))
    .fetch_all(&mut *connection)
    .await?;
    Ok(views
        .into_iter()
        .map(|UnconfinedView { view, materialized }| Finding {
            table: Some(view.name.clone()),
            kind: FindingKind::ViewBypassesRls,
            message: format!(
                "the {} reads tables with row-level security as its owner `{}` ({}), which the \
                 policies do not confine: {} sees every tenant's rows through it",
                if materialized { "materialized view" } else { "view" },
                view.owner,
                view.why,
                if view.public {
                    "every role (SELECT is granted to PUBLIC)"
                } else {
                    "whoever may read it"
                }
            ),
            fix: if materialized {
                format!(
                    "a materialized view stores what its owner saw, unfiltered: drop it, or give it an \
                     owner row-level security applies to (ALTER MATERIALIZED VIEW {} OWNER TO ..) and \
                     refresh it per tenant",
                    view.name
                )
            } else {
                format!(
                    "ALTER VIEW {} SET (security_invoker = true), or give it an owner row-level security \
                     applies to (ALTER VIEW {} OWNER TO ..)",
                    view.name, view.name
                )
            },
        })
        .collect())
}
