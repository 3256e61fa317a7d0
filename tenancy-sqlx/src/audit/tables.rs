//! The catalog audit of registered tables: row-level security, the policy,
//! and tenant-led keys.

use sqlx::PgConnection;
use tenancy_core::TableMeta;
use tenancy_core::ddl::TableSet;

use super::{Finding, FindingKind};
use crate::Error;
use crate::ident::{Identifier, quoted_table};
use crate::rls::{isolation_predicate, policy_key_type};
use crate::setting::SettingName;

/// Checks every table: that it exists; for tenant-scoped tables, that the
/// tenant column is NOT NULL, RLS is enabled and forced, a policy of the
/// required form exists (`FOR ALL`, permissive, `USING` and `WITH CHECK`
/// comparing the tenant column with `(SELECT NULLIF(current_setting('<setting>',
/// true), '')::<key type>)`), no other permissive policy widens it, and every
/// primary key, unique key, index and foreign key to a tenant-scoped table
/// leads with the tenant column. Partitions and inheritance children of a
/// tenant-scoped table are checked for row-level security and the policy
/// too: queried by their own name, PostgreSQL applies their policies, not
/// the parent's.
pub async fn verify_tables(
    connection: &mut PgConnection,
    tables: &TableSet,
    setting: &SettingName,
) -> Result<Vec<Finding>, Error> {
    let mut resolved = Vec::with_capacity(tables.tables().len());
    for table in tables.tables() {
        let oid: Option<sqlx::postgres::types::Oid> =
            sqlx::query_scalar("SELECT pg_catalog.to_regclass($1)::oid")
                .bind(quoted_table(table.schema, table.name)?)
                .fetch_one(&mut *connection)
                .await?;
        resolved.push((*table, oid));
    }
    let scoped: Vec<(sqlx::postgres::types::Oid, &TableMeta)> = resolved
        .iter()
        .filter(|(table, _)| table.is_scoped())
        .filter_map(|(table, oid)| oid.map(|oid| (oid, *table)))
        .collect();

    let mut findings = Vec::new();
    for (table, oid) in &resolved {
        let Some(oid) = oid else {
            findings.push(table_missing(table));
            continue;
        };
        if let Some(tenant) = &table.tenant {
            let checks = TableChecks {
                table,
                oid: *oid,
                child: None,
                tenant_column: tenant.name,
                key_type: policy_key_type(table, tenant.name, tenant.sql_type)?,
                setting,
                scoped: &scoped,
            };
            checks.run(connection, &mut findings).await?;
        }
    }
    Ok(findings)
}

fn table_missing(table: &TableMeta) -> Finding {
    Finding {
        table: Some(table.qualified_name()),
        kind: FindingKind::TableMissing,
        message: "the table is registered but does not exist".to_owned(),
        fix: "run the migrations (`OwnerPool::apply_schema`), or register the table under its real schema and name"
            .to_owned(),
    }
}

/// The checks of one existing tenant-scoped table, or of one of its
/// partitions or inheritance children.
struct TableChecks<'a> {
    table: &'a TableMeta,
    oid: sqlx::postgres::types::Oid,
    /// The partition or inheritance child of `table` checked, by its
    /// `regclass` name (quoted where needed); `None` for `table` itself.
    child: Option<String>,
    tenant_column: &'static str,
    key_type: &'static str,
    setting: &'a SettingName,
    /// Every existing registered tenant-scoped table, for foreign keys.
    scoped: &'a [(sqlx::postgres::types::Oid, &'a TableMeta)],
}

impl TableChecks<'_> {
    async fn run(
        &self,
        connection: &mut PgConnection,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        self.tenant_column(connection, findings).await?;
        self.row_security(connection, findings).await?;
        self.policies(connection, findings).await?;
        self.indexes(connection, findings).await?;
        self.foreign_keys(connection, findings).await?;
        self.children(connection, findings).await?;
        Ok(())
    }

    fn finding(&self, kind: FindingKind, message: String, fix: String) -> Finding {
        match &self.child {
            None => Finding {
                table: Some(self.table.qualified_name()),
                kind,
                message,
                fix,
            },
            Some(child) => Finding {
                table: Some(child.clone()),
                kind,
                message: format!(
                    "a partition or inheritance child of `{}`, and a query that names it gets its \
                     policies, not the parent's: {message}",
                    self.table.qualified_name()
                ),
                fix,
            },
        }
    }

    fn name(&self) -> String {
        if let Some(child) = &self.child {
            return child.clone();
        }
        // Validated when the table was resolved.
        quoted_table(self.table.schema, self.table.name)
            .unwrap_or_else(|_| self.table.qualified_name())
    }

    /// Row-level security and the policy on every partition and inheritance
    /// child, at any depth: a query that names one directly is checked
    /// against its own policies, so an unprotected partition shows every
    /// tenant's rows in it.
    async fn children(
        &self,
        connection: &mut PgConnection,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        let children: Vec<(sqlx::postgres::types::Oid, String)> = sqlx::query_as(
            "WITH RECURSIVE tree AS (
                 SELECT inhrelid FROM pg_catalog.pg_inherits WHERE inhparent = $1
                 UNION
                 SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree t ON i.inhparent = t.inhrelid
             )
             SELECT inhrelid, inhrelid::regclass::text FROM tree ORDER BY 2",
        )
        .bind(self.oid)
        .fetch_all(&mut *connection)
        .await?;
        for (oid, name) in children {
            let child = TableChecks {
                oid,
                child: Some(name),
                ..*self
            };
            child.row_security(connection, findings).await?;
            child.policies(connection, findings).await?;
        }
        Ok(())
    }

    async fn tenant_column(
        &self,
        connection: &mut PgConnection,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        let not_null: Option<bool> = sqlx::query_scalar(
            "SELECT attnotnull FROM pg_catalog.pg_attribute
             WHERE attrelid = $1 AND attname = $2 AND attnum > 0 AND NOT attisdropped",
        )
        .bind(self.oid)
        .bind(self.tenant_column)
        .fetch_optional(&mut *connection)
        .await?;
        let column = self.tenant_column;
        match not_null {
            None => findings.push(self.finding(
                FindingKind::TenantColumn,
                format!("the tenant column `{column}` does not exist"),
                format!(
                    "add it: ALTER TABLE {} ADD COLUMN \"{column}\" {} NOT NULL",
                    self.name(),
                    self.key_type
                ),
            )),
            Some(false) => findings.push(self.finding(
                FindingKind::TenantColumn,
                format!("the tenant column `{column}` accepts NULL: such rows belong to no tenant"),
                format!(
                    "ALTER TABLE {} ALTER COLUMN \"{column}\" SET NOT NULL",
                    self.name()
                ),
            )),
            Some(true) => {}
        }
        Ok(())
    }

    async fn row_security(
        &self,
        connection: &mut PgConnection,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        let (enabled, forced): (bool, bool) = sqlx::query_as(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_catalog.pg_class WHERE oid = $1",
        )
        .bind(self.oid)
        .fetch_one(&mut *connection)
        .await?;
        if !enabled {
            findings.push(self.finding(
                FindingKind::RlsDisabled,
                "row-level security is not enabled: every role that may read the table sees every tenant's rows"
                    .to_owned(),
                format!("ALTER TABLE {} ENABLE ROW LEVEL SECURITY", self.name()),
            ));
        }
        if !forced {
            findings.push(self.finding(
                FindingKind::RlsNotForced,
                "row-level security is not forced: the table's owner skips the policies".to_owned(),
                format!("ALTER TABLE {} FORCE ROW LEVEL SECURITY", self.name()),
            ));
        }
        Ok(())
    }

    async fn policies(
        &self,
        connection: &mut PgConnection,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        let policies: Vec<PolicyRow> = sqlx::query_as(
            "SELECT polname::text AS name, polcmd::text AS command, polpermissive AS permissive,
                    pg_catalog.pg_get_expr(polqual, polrelid) AS using_expr,
                    pg_catalog.pg_get_expr(polwithcheck, polrelid) AS check_expr
             FROM pg_catalog.pg_policy WHERE polrelid = $1 ORDER BY polname",
        )
        .bind(self.oid)
        .fetch_all(&mut *connection)
        .await?;
        let column = Identifier::new("column", self.tenant_column)?;
        let expected =
            normalize_predicate(&isolation_predicate(&column, self.setting, self.key_type));
        let is_isolating = |policy: &PolicyRow| {
            let matches = |expr: &Option<String>| {
                expr.as_deref().map(normalize_predicate) == Some(expected.clone())
            };
            // Without WITH CHECK, PostgreSQL checks new rows with USING.
            policy.command == "*"
                && policy.permissive
                && matches(&policy.using_expr)
                && (policy.check_expr.is_none() || matches(&policy.check_expr))
        };
        if !policies.iter().any(is_isolating) {
            let found = if policies.is_empty() {
                "there is no policy".to_owned()
            } else {
                format!(
                    "found {}",
                    policies
                        .iter()
                        .map(PolicyRow::describe)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            };
            findings.push(self.finding(
                FindingKind::PolicyMissing,
                format!(
                    "no permissive FOR ALL policy compares `{}` with (SELECT NULLIF(current_setting('{}', true), '')::{}) \
                     in USING and WITH CHECK; {found}",
                    self.tenant_column, self.setting, self.key_type
                ),
                match &self.child {
                    None => "apply the generated policy: `OwnerPool::apply_schema`, or `rls::RlsPolicy::table_statements`"
                        .to_owned(),
                    Some(_) => format!(
                        "create the policy of `rls::RlsPolicy::table_statements` on {}",
                        self.name()
                    ),
                },
            ));
        }
        for policy in policies
            .iter()
            .filter(|policy| policy.permissive && !is_isolating(policy))
        {
            findings.push(self.finding(
                FindingKind::ExtraPermissivePolicy,
                format!(
                    "permissive policy {}: permissive policies are OR-ed with the tenant policy, so it widens \
                     what every tenant can see or write",
                    policy.describe()
                ),
                format!(
                    "drop it (DROP POLICY \"{}\" ON {}) or make it AS RESTRICTIVE",
                    policy.name,
                    self.name()
                ),
            ));
        }
        Ok(())
    }

    async fn indexes(
        &self,
        connection: &mut PgConnection,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        let indexes: Vec<IndexRow> = sqlx::query_as(
            "SELECT i.indexrelid::regclass::text AS name, i.indisprimary AS is_primary, i.indisunique AS is_unique,
                    a.attname::text AS leading_column
             FROM pg_catalog.pg_index i
             LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = $1 ORDER BY i.indisprimary DESC, 1",
        )
        .bind(self.oid)
        .fetch_all(&mut *connection)
        .await?;
        for index in indexes {
            if index.leading_column.as_deref() == Some(self.tenant_column) {
                continue;
            }
            let (kind, what) = if index.is_primary {
                (FindingKind::PrimaryKeyNotLedByTenant, "primary key")
            } else if index.is_unique {
                (FindingKind::UniqueNotLedByTenant, "unique index")
            } else {
                (FindingKind::IndexNotLedByTenant, "index")
            };
            let leading = index.leading_column.as_deref().unwrap_or("an expression");
            findings.push(self.finding(
                kind,
                format!(
                    "{what} `{}` leads with {leading}, not the tenant column `{}`: lookups scan across tenants{}",
                    index.name,
                    self.tenant_column,
                    if index.is_unique { " and uniqueness is enforced across tenants" } else { "" }
                ),
                format!("recreate it with `{}` as its first column", self.tenant_column),
            ));
        }
        Ok(())
    }

    async fn foreign_keys(
        &self,
        connection: &mut PgConnection,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        let keys: Vec<ForeignKeyRow> = sqlx::query_as(
            "SELECT c.conname::text AS name, c.confrelid AS target,
                    la.attname::text AS leading_column, ra.attname::text AS target_leading_column
             FROM pg_catalog.pg_constraint c
             LEFT JOIN pg_catalog.pg_attribute la ON la.attrelid = c.conrelid AND la.attnum = c.conkey[1]
             LEFT JOIN pg_catalog.pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
             WHERE c.conrelid = $1 AND c.contype = 'f' ORDER BY 1",
        )
        .bind(self.oid)
        .fetch_all(&mut *connection)
        .await?;
        for key in keys {
            let Some((_, target)) = self.scoped.iter().find(|(oid, _)| *oid == key.target) else {
                continue;
            };
            let Some(target_tenant) = &target.tenant else {
                continue;
            };
            let led_here = key.leading_column.as_deref() == Some(self.tenant_column);
            let led_there = key.target_leading_column.as_deref() == Some(target_tenant.name);
            if !(led_here && led_there) {
                findings.push(self.finding(
                    FindingKind::ForeignKeyWithoutTenant,
                    format!(
                        "foreign key `{}` to tenant-scoped `{}` does not lead with the tenant column on both \
                         sides: a row can reference another tenant's row",
                        key.name,
                        target.qualified_name()
                    ),
                    format!(
                        "make it FOREIGN KEY (\"{}\", ..) REFERENCES {} (\"{}\", ..)",
                        self.tenant_column,
                        quoted_table(target.schema, target.name)?,
                        target_tenant.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    name: String,
    command: String,
    permissive: bool,
    using_expr: Option<String>,
    check_expr: Option<String>,
}

impl PolicyRow {
    fn describe(&self) -> String {
        let command = match self.command.as_str() {
            "*" => "ALL",
            "r" => "SELECT",
            "a" => "INSERT",
            "w" => "UPDATE",
            "d" => "DELETE",
            other => other,
        };
        format!(
            "`{}` ({}, FOR {command}, USING {}, WITH CHECK {})",
            self.name,
            if self.permissive {
                "permissive"
            } else {
                "restrictive"
            },
            self.using_expr.as_deref().unwrap_or("none"),
            self.check_expr.as_deref().unwrap_or("none"),
        )
    }
}

#[derive(sqlx::FromRow)]
struct IndexRow {
    name: String,
    is_primary: bool,
    is_unique: bool,
    leading_column: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ForeignKeyRow {
    name: String,
    target: sqlx::postgres::types::Oid,
    leading_column: Option<String>,
    target_leading_column: Option<String>,
}

/// A policy expression reduced to what matters for comparing it with the
/// generated one, so that PostgreSQL's deparsing (extra parentheses, `::text`
/// casts on literals, the sub-select's `AS "nullif"` alias, quoting, spacing)
/// does not count, while any other difference — an `OR`, a missing sub-select
/// or `NULLIF`, another setting — does.
fn normalize_predicate(expression: &str) -> String {
    let compact: String = expression
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"'))
        .collect::<String>()
        .to_lowercase()
        .replace("::text", "");
    compact
        .strip_suffix("asnullif")
        .map(str::to_owned)
        .unwrap_or(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated() -> String {
        let column = Identifier::new("column", "tenant_id").unwrap();
        normalize_predicate(&isolation_predicate(
            &column,
            &SettingName::default(),
            "bigint",
        ))
    }

    #[test]
    fn postgres_deparsing_matches_the_generated_predicate() {
        let deparsed = "(tenant_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::bigint AS \"nullif\"))";
        assert_eq!(normalize_predicate(deparsed), generated());
    }

    #[test]
    fn weaker_policies_do_not_match() {
        for weaker in [
            "(tenant_id = (current_setting('app.tenant_id'::text))::bigint)",
            "(tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::bigint)",
            "((tenant_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::bigint AS \"nullif\")) OR true)",
            "(tenant_id = ( SELECT (NULLIF(current_setting('app.other'::text, true), ''::text))::bigint AS \"nullif\"))",
            "(owner_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::bigint AS \"nullif\"))",
        ] {
            assert_ne!(normalize_predicate(weaker), generated(), "{weaker}");
        }
    }
}
