//! What the live catalog says about the tables that hold a tenant's rows:
//! every table with the tenant column, registered or not, the role's
//! privileges and row-level security on each, and the foreign keys
//! between them. Erasure and export plan from this, never from a list.

use sqlx::PgConnection;

use crate::Error;
use crate::ident::quote_catalog_name;
use crate::rls::{OWNER_POLICY_NAME, POLICY_NAME};

/// One ordinary table (or partition) that has a tenant column.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct CatalogTable {
    pub(crate) oid: i64,
    pub(crate) schema: String,
    pub(crate) name: String,
    pub(crate) tenant_column: String,
    pub(crate) key_type: String,
    /// Row-level security applies to the current role on this table.
    pub(crate) rls_active: bool,
    pub(crate) schema_usage: bool,
    pub(crate) can_select: bool,
    pub(crate) can_delete: bool,
    pub(crate) can_update: bool,
    /// A policy of this library (the tenant policy or the owner policy)
    /// applies to the current role, so with the tenant set it sees exactly
    /// that tenant's rows.
    pub(crate) library_policy: bool,
    /// A restrictive policy applies to the current role: it may hide rows
    /// of the tenant that a delete would then silently miss.
    pub(crate) restrictive_policy: bool,
}

impl CatalogTable {
    /// `"schema"."name"`, quoted.
    pub(crate) fn quoted(&self) -> String {
        format!(
            "{}.{}",
            quote_catalog_name(&self.schema),
            quote_catalog_name(&self.name)
        )
    }

    /// `schema.name`, for messages, ledgers and certificates.
    pub(crate) fn display(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// The type the bound key text is cast to, if the tenant column has a
    /// type erasure compares keys with.
    pub(crate) fn key_cast(&self) -> Option<&'static str> {
        match self.key_type.as_str() {
            "bigint" => Some("bigint"),
            "integer" => Some("integer"),
            "smallint" => Some("smallint"),
            "uuid" => Some("uuid"),
            "text" => Some("text"),
            _ => None,
        }
    }

    /// `"tenant_id" = $1::bigint`: the tenant condition on this table.
    pub(crate) fn tenant_condition(&self, placeholder: &str) -> Option<String> {
        Some(format!(
            "{} = {placeholder}::{}",
            quote_catalog_name(&self.tenant_column),
            self.key_cast()?
        ))
    }
}

/// One column of a table, as the catalog has it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct CatalogColumn {
    pub(crate) name: String,
    pub(crate) sql_type: String,
    pub(crate) not_null: bool,
}

/// A foreign key that touches a table of the scan.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ForeignKey {
    pub(crate) name: String,
    pub(crate) child: i64,
    pub(crate) child_name: String,
    pub(crate) parent: i64,
    pub(crate) deferrable: bool,
    /// `a` no action, `r` restrict, `c` cascade, `n` set null, `d` set default.
    pub(crate) on_delete: String,
}

impl ForeignKey {
    /// Whether a parent row cannot be deleted while a child row refers to
    /// it (`NO ACTION` / `RESTRICT`).
    pub(crate) fn blocks_delete(&self) -> bool {
        matches!(self.on_delete.as_str(), "a" | "r")
    }
}

/// Every ordinary table outside the system schemas with one of the
/// `tenant_columns` (the first of them it has, in the given order), except
/// the library's own records in `records_schema`.
pub(crate) async fn tenant_tables(
    connection: &mut PgConnection,
    tenant_columns: &[String],
    records_schema: &str,
) -> Result<Vec<CatalogTable>, Error> {
    let policies = vec![POLICY_NAME.to_owned(), OWNER_POLICY_NAME.to_owned()];
    let applies = "(0::oid = ANY(p.polroles) OR EXISTS \
                   (SELECT 1 FROM unnest(p.polroles) AS r(oid) WHERE pg_has_role(current_user, r.oid, 'USAGE')))";
    let sql = format!(
        "SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.relname::text AS name, \
                a.attname::text AS tenant_column, format_type(a.atttypid, a.atttypmod) AS key_type, \
                row_security_active(c.oid) AS rls_active, \
                has_schema_privilege(n.oid, 'USAGE') AS schema_usage, \
                has_table_privilege(c.oid, 'SELECT') AS can_select, \
                has_table_privilege(c.oid, 'DELETE') AS can_delete, \
                has_table_privilege(c.oid, 'UPDATE') AS can_update, \
                EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid AND p.polpermissive \
                        AND p.polcmd = '*' AND p.polname::text = ANY($2) AND {applies}) AS library_policy, \
                EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid AND NOT p.polpermissive \
                        AND {applies}) AS restrictive_policy \
         FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         JOIN LATERAL (SELECT a.attname, a.atttypid, a.atttypmod FROM pg_catalog.pg_attribute a \
                       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
                         AND a.attname::text = ANY($1) \
                       ORDER BY array_position($1, a.attname::text) LIMIT 1) a ON true \
         WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' \
           AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> $3 \
         ORDER BY n.nspname, c.relname"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_columns)
        .bind(policies)
        .bind(records_schema)
        .fetch_all(connection)
        .await?)
}

/// Every foreign key whose child or parent is one of `tables`.
pub(crate) async fn foreign_keys(
    connection: &mut PgConnection,
    tables: &[i64],
) -> Result<Vec<ForeignKey>, Error> {
    Ok(sqlx::query_as(
        "SELECT con.conname::text AS name, con.conrelid::int8 AS child, \
                con.conrelid::regclass::text AS child_name, con.confrelid::int8 AS parent, \
                con.condeferrable AS deferrable, con.confdeltype::text AS on_delete \
         FROM pg_catalog.pg_constraint con \
         WHERE con.contype = 'f' AND (con.conrelid::int8 = ANY($1) OR con.confrelid::int8 = ANY($1)) \
         ORDER BY con.conname",
    )
    .bind(tables)
    .fetch_all(connection)
    .await?)
}

/// The columns of one table, in their order.
pub(crate) async fn columns(
    connection: &mut PgConnection,
    table: i64,
) -> Result<Vec<CatalogColumn>, Error> {
    Ok(sqlx::query_as(
        "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS sql_type, \
                a.attnotnull AS not_null \
         FROM pg_catalog.pg_attribute a \
         WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attnum",
    )
    .bind(table)
    .fetch_all(connection)
    .await?)
}
