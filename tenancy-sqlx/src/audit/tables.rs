//! The catalog audit of registered tables: row-level security, the policy
//! and its target role, the application role's privileges, tenant-led keys,
//! and drift from the tables' generated DDL.

use sqlx::postgres::types::Oid;
use sqlx::{Connection, PgConnection};
use tenancy_core::ddl::TableSet;

use super::{Finding, FindingKind};
use crate::Error;
use crate::drift::{self, Checker, table_oid};
use crate::ident::Identifier;
use crate::manifest::{Manifest, TableSpec};
use crate::rls::{PolicyForm, RlsPolicy};
use crate::role::places_role_creates_in;
use crate::search_path;
use crate::setting::SettingName;

/// Checks every table: that it exists; for tenant-scoped tables, that the
/// tenant column is NOT NULL, RLS is enabled and forced, a policy of the
/// required form exists (`FOR ALL`, permissive, `USING` and `WITH CHECK`
/// comparing the tenant column with `NULLIF(current_setting('<setting>',
/// true), '')::<key type>` in one of the generated
/// [`PolicyForm`]s, without a sub-select, which Citus refuses on
/// distributed tables), no other permissive policy widens it, and every
/// primary key, unique key, index and foreign key to a tenant-scoped table
/// leads with the tenant column. Partitions and inheritance children of a
/// tenant-scoped table are checked for row-level security and the policy
/// too: queried by their own name, PostgreSQL applies their policies, not
/// the parent's. Every table is also checked for drift from its generated
/// DDL ([`drift`]): missing, extra and changed columns, keys
/// and indexes.
///
/// The policy is expected to read the set's tenant setting, and tables
/// declared without a schema are looked for in the set's schema.
pub async fn verify_tables(
    connection: &mut PgConnection,
    tables: &TableSet,
) -> Result<Vec<Finding>, Error> {
    verify(
        connection,
        &Manifest::new(tables, &RlsPolicy::for_public())?,
        None,
    )
    .await
}

/// [`verify_tables`] for the tables of a [`Manifest`], placed in `placement`
/// when they were declared without a schema (a tenant's schema in a
/// schema-per-tenant deployment; `None`: the manifest's schema). Names
/// resolve there and nowhere else: the checks run with `search_path`
/// pinned to that schema. When the manifest names the application role,
/// also checks that the policy applies to it, that it has the privileges
/// the generated grants give it, that it cannot write global tables and
/// that it cannot `TRUNCATE` tenant tables.
pub async fn verify(
    connection: &mut PgConnection,
    manifest: &Manifest,
    placement: Option<&Identifier>,
) -> Result<Vec<Finding>, Error> {
    // One transaction: type names are resolved in savepoints.
    let mut tx = connection.begin().await?;
    search_path::pin(&mut tx, placement.unwrap_or(manifest.schema())).await?;
    let mut resolved = Vec::with_capacity(manifest.tables().len());
    for table in manifest.tables() {
        let oid = table_oid(&mut tx, &table.quoted_in(placement)?).await?;
        resolved.push((table, oid));
    }
    let scoped: Vec<(Oid, &TableSpec)> = resolved
        .iter()
        .filter(|(table, _)| table.is_scoped())
        .filter_map(|(table, oid)| oid.map(|oid| (oid, *table)))
        .collect();
    let scoped_leads = drift::scoped_tables(&resolved);
    let mut checker = Checker::new(&mut tx, manifest).await?;
    let mut findings = Vec::new();
    let role = match manifest.role() {
        Some(name) => Some(AppRole::find(&mut tx, name, &mut findings).await?),
        None => None,
    };
    if let Some(role) = role {
        role.creates(&mut tx, &mut findings).await?;
    }
    let enum_drift = drift::enum_type_drift(&mut tx, manifest, placement).await?;
    findings.extend(enum_drift.iter().map(drift::Drift::finding));

    for (table, oid) in &resolved {
        let Some(oid) = oid else {
            findings.push(table_missing(table, placement));
            continue;
        };
        if let Some(tenant) = table.tenant() {
            let checks = TableChecks {
                table,
                placement,
                oid: *oid,
                parent_oid: *oid,
                child: None,
                setting: manifest.setting(),
                role,
                tenant_column: tenant.column(),
                key_type: tenant.key_type().as_sql(),
                scoped: &scoped,
            };
            checks.run(&mut tx, &mut findings).await?;
        }
        if let Some(role) = role {
            role.privileges(&mut tx, table, placement, *oid, &mut findings)
                .await?;
        }
        let drift = checker
            .table(&mut tx, table, *oid, placement, &scoped_leads)
            .await?;
        findings.extend(drift.iter().map(drift::Drift::finding));
    }
    if crate::citus::is_coordinator(&mut tx).await? {
        let role = role.map(|role| (role.name, role.oid));
        super::citus::check(&mut tx, &resolved, role, &mut findings).await?;
    }
    tx.rollback().await?;
    Ok(findings)
}

/// The application role the manifest names, and its `oid` if it exists.
#[derive(Clone, Copy)]
struct AppRole<'a> {
    name: &'a Identifier,
    oid: Option<Oid>,
}

impl<'a> AppRole<'a> {
    /// Looks the role up; a role that does not exist is a finding.
    async fn find(
        connection: &mut PgConnection,
        name: &'a Identifier,
        findings: &mut Vec<Finding>,
    ) -> Result<Self, Error> {
        let oid: Option<Oid> =
            sqlx::query_scalar("SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1")
                .bind(name.as_str())
                .fetch_optional(&mut *connection)
                .await?;
        if oid.is_none() {
            findings.push(Finding {
                table: None,
                kind: FindingKind::PrivilegeMissing,
                message: format!(
                    "the application role `{name}` that the policies and grants are for does not exist"
                ),
                fix: format!(
                    "CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS, then apply the schema",
                    name.quoted()
                ),
            });
        }
        Ok(AppRole { name, oid })
    }

    /// Where the role can create objects: the database and any schema but
    /// the sessions' temporary ones (see `ApplicationRoleCanCreate`).
    async fn creates(
        self,
        connection: &mut PgConnection,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        let Some(role) = self.oid else {
            return Ok(());
        };
        let places: Vec<String> = sqlx::query_scalar(places_role_creates_in!("$1::oid"))
            .bind(role)
            .fetch_all(&mut *connection)
            .await?;
        let role_sql = self.name.quoted();
        // `database "shop"` is revoked `ON DATABASE "shop"`.
        let on = |place: &str| match place.split_once(' ') {
            Some((kind, name)) => format!("{} {name}", kind.to_uppercase()),
            None => place.to_owned(),
        };
        findings.extend(places.into_iter().map(|place| Finding {
            table: None,
            kind: FindingKind::ApplicationRoleCanCreate,
            message: format!(
                "the application role `{}` can create objects in {place}: what it creates \
                 there can stand in for a built-in function or a registered table wherever a \
                 search_path names that schema, and a tenant pool refuses the role",
                self.name,
            ),
            fix: format!(
                "REVOKE CREATE ON {} FROM {role_sql} (and from PUBLIC, if it is granted there); \
                 if the role owns the schema, give it to the owner role",
                on(&place)
            ),
        }));
        Ok(())
    }

    /// The privileges of the generated grants: all four on a tenant table,
    /// `SELECT` on a global one. Writing a global table, or truncating a
    /// tenant table (which row-level security does not confine), is a
    /// finding too.
    async fn privileges(
        self,
        connection: &mut PgConnection,
        table: &TableSpec,
        placement: Option<&Identifier>,
        oid: Oid,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        let Some(role) = self.oid else {
            return Ok(());
        };
        let held: Vec<(String, bool)> = sqlx::query_as(
            "SELECT p, pg_catalog.has_table_privilege($1::oid, $2::oid, p)
             FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p",
        )
        .bind(role)
        .bind(oid)
        .fetch_all(&mut *connection)
        .await?;
        let has = |privilege: &str| held.iter().any(|(name, held)| name == privilege && *held);
        let name = table.quoted_in(placement)?;
        let role_sql = self.name.quoted();
        let finding = |kind, message: String, fix: String| Finding {
            table: Some(table.display_in(placement)),
            kind,
            message,
            fix,
        };
        let needed: &[&str] = if table.is_scoped() {
            &["SELECT", "INSERT", "UPDATE", "DELETE"]
        } else {
            &["SELECT"]
        };
        let missing: Vec<&str> = needed.iter().copied().filter(|p| !has(p)).collect();
        if !missing.is_empty() {
            findings.push(finding(
                FindingKind::PrivilegeMissing,
                format!(
                    "the application role `{}` lacks {} on the table: its statements fail with \
                     `permission denied`",
                    self.name,
                    missing.join(", ")
                ),
                format!("GRANT {} ON {name} TO {role_sql}", missing.join(", ")),
            ));
        }
        if !table.is_scoped() {
            let writes: Vec<&str> = ["INSERT", "UPDATE", "DELETE", "TRUNCATE"]
                .into_iter()
                .filter(|p| has(p))
                .collect();
            if !writes.is_empty() {
                findings.push(finding(
                    FindingKind::GlobalTableWritable,
                    format!(
                        "the application role `{}` may {} this global table, which every tenant \
                         reads: one tenant's request can change what all tenants see",
                        self.name,
                        writes.join(", ")
                    ),
                    format!("REVOKE {} ON {name} FROM {role_sql}", writes.join(", ")),
                ));
            }
        } else if has("TRUNCATE") {
            findings.push(finding(
                FindingKind::TruncateAllowed,
                format!(
                    "the application role `{}` may TRUNCATE this tenant table: row-level security \
                     does not apply to TRUNCATE, which empties it for every tenant",
                    self.name
                ),
                format!("REVOKE TRUNCATE ON {name} FROM {role_sql}"),
            ));
        }
        Ok(())
    }
}

fn table_missing(table: &TableSpec, placement: Option<&Identifier>) -> Finding {
    Finding {
        table: Some(table.display_in(placement)),
        kind: FindingKind::TableMissing,
        message: "the table is registered but does not exist".to_owned(),
        fix: "run the migrations (`OwnerPool::apply_schema`), or register the table under its real schema and name"
            .to_owned(),
    }
}

/// The checks of one existing tenant-scoped table, or of one of its
/// partitions or inheritance children.
struct TableChecks<'a> {
    table: &'a TableSpec,
    /// The schema a table declared without one is placed in.
    placement: Option<&'a Identifier>,
    oid: Oid,
    /// The table whose partition or inheritance child this is (`oid`
    /// itself for the table).
    parent_oid: Oid,
    /// The partition or inheritance child of `table` checked, by its
    /// `regclass` name (quoted where needed); `None` for `table` itself.
    child: Option<String>,
    setting: &'a SettingName,
    /// The application role, when known.
    role: Option<AppRole<'a>>,
    tenant_column: &'a str,
    /// The type the policy casts the setting to.
    key_type: &'static str,
    /// Every existing registered tenant-scoped table, for foreign keys.
    scoped: &'a [(Oid, &'a TableSpec)],
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
                table: Some(self.table.display_in(self.placement)),
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
                    self.table.display_in(self.placement)
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
        self.table
            .quoted_in(self.placement)
            .unwrap_or_else(|_| self.table.display_in(self.placement))
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
        let children: Vec<(Oid, String)> = sqlx::query_as(
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
                parent_oid: self.oid,
                child: Some(name),
                ..*self
            };
            child.row_security(connection, findings).await?;
            child.policies(connection, findings).await?;
            child.child_owner(connection, findings).await?;
            if let Some(role) = self.role {
                child.child_truncate(connection, role, findings).await?;
            }
        }
        Ok(())
    }

    /// A child must be owned by the parent's owner, never by the
    /// application role: an owner can disable the child's row-level
    /// security, and a second owner is a second role that can.
    async fn child_owner(
        &self,
        connection: &mut PgConnection,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        let (child_owner, parent_owner): (String, String) = sqlx::query_as(
            "SELECT pg_catalog.pg_get_userbyid(c.relowner)::text, pg_catalog.pg_get_userbyid(p.relowner)::text
             FROM pg_catalog.pg_class c, pg_catalog.pg_class p
             WHERE c.oid = $1 AND p.oid = $2",
        )
        .bind(self.oid)
        .bind(self.parent_oid)
        .fetch_one(&mut *connection)
        .await?;
        let app_owns = self
            .role
            .is_some_and(|role| role.name.as_str() == child_owner);
        if child_owner != parent_owner || app_owns {
            findings.push(self.finding(
                FindingKind::PartitionOwner,
                format!(
                    "it is owned by `{child_owner}`, the table by `{parent_owner}`: the owner of a \
                     partition can turn its row-level security off"
                ),
                format!(
                    "ALTER TABLE {} OWNER TO {}",
                    self.name(),
                    crate::ident::quote_catalog_name(&parent_owner)
                ),
            ));
        }
        Ok(())
    }

    /// `TRUNCATE` on a child empties it for every tenant whose rows it
    /// holds: row-level security does not apply to it.
    async fn child_truncate(
        &self,
        connection: &mut PgConnection,
        role: AppRole<'_>,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        let Some(role_oid) = role.oid else {
            return Ok(());
        };
        let truncate: bool = sqlx::query_scalar(
            "SELECT pg_catalog.has_table_privilege($1::oid, $2::oid, 'TRUNCATE')",
        )
        .bind(role_oid)
        .bind(self.oid)
        .fetch_one(&mut *connection)
        .await?;
        if truncate {
            findings.push(self.finding(
                FindingKind::TruncateAllowed,
                format!(
                    "the application role `{}` may TRUNCATE it: row-level security does not apply \
                     to TRUNCATE, which empties it for every tenant",
                    role.name
                ),
                format!(
                    "REVOKE TRUNCATE ON {} FROM {}",
                    self.name(),
                    role.name.quoted()
                ),
            ));
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
                    pg_catalog.pg_get_expr(polwithcheck, polrelid) AS check_expr,
                    ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(r)::text END
                          FROM unnest(polroles) AS r ORDER BY 1) AS roles,
                    (0 = ANY (polroles) OR EXISTS (
                        SELECT 1 FROM unnest(polroles) AS r
                        WHERE r <> 0 AND $2::oid IS NOT NULL AND pg_catalog.pg_has_role($2::oid, r, 'USAGE')
                    )) AS applies_to_role
             FROM pg_catalog.pg_policy WHERE polrelid = $1 ORDER BY polname",
        )
        .bind(self.oid)
        .bind(self.role.and_then(|role| role.oid))
        .fetch_all(&mut *connection)
        .await?;
        let column = Identifier::new("column", self.tenant_column)?;
        // Any generated form isolates: each matches exactly the set tenant's
        // rows and fails closed without one.
        let expected: Vec<String> = PolicyForm::ALL
            .iter()
            .map(|form| normalize_predicate(&form.predicate(&column, self.setting, self.key_type)))
            .collect();
        let is_isolating = |policy: &PolicyRow| {
            let matches = |expr: &Option<String>| {
                expr.as_deref()
                    .map(normalize_predicate)
                    .is_some_and(|found| expected.contains(&found))
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
                    "no permissive FOR ALL policy compares `{}` with NULLIF(current_setting('{}', true), '')::{} \
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
        if let Some(role) = self.role {
            let isolating: Vec<&PolicyRow> = policies.iter().filter(|p| is_isolating(p)).collect();
            if role.oid.is_some()
                && !isolating.is_empty()
                && !isolating.iter().any(|policy| policy.applies_to_role)
            {
                let targets: Vec<String> = isolating
                    .iter()
                    .flat_map(|p| p.roles.iter().cloned())
                    .collect();
                findings.push(self.finding(
                    FindingKind::PolicyRoleMismatch,
                    format!(
                        "the tenant policy applies to {} but not to the application role `{}`: RLS is \
                         forced, so the application sees no row and can write none",
                        targets.join(", "),
                        role.name
                    ),
                    "apply the generated policy for the application role: `OwnerPool::apply_schema` \
                     with `RlsPolicy::for_role(..)`"
                        .to_owned(),
                ));
            }
        }
        for policy in policies
            .iter()
            .filter(|policy| policy.permissive && !is_isolating(policy))
            // The read-only analytics policy widens nothing the application
            // sees: it is for another role, and only reads.
            .filter(|policy| !is_read_only_analytics(policy))
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
            let Some(target_tenant) = target.tenant() else {
                continue;
            };
            let led_here = key.leading_column.as_deref() == Some(self.tenant_column);
            let led_there = key.target_leading_column.as_deref() == Some(target_tenant.column());
            if !(led_here && led_there) {
                findings.push(self.finding(
                    FindingKind::ForeignKeyWithoutTenant,
                    format!(
                        "foreign key `{}` to tenant-scoped `{}` does not lead with the tenant column on both \
                         sides: a row can reference another tenant's row",
                        key.name,
                        target.display_in(self.placement)
                    ),
                    format!(
                        "make it FOREIGN KEY (\"{}\", ..) REFERENCES {} (\"{}\", ..)",
                        self.tenant_column,
                        target.quoted_in(self.placement)?,
                        target_tenant.column()
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
    /// The roles it applies to (`PUBLIC` for all).
    roles: Vec<String>,
    /// Whether it applies to the application role.
    applies_to_role: bool,
}

/// The read-only analytics policy (`analytics::AnalyticsPolicy`) on a role
/// that is not the application's.
fn is_read_only_analytics(policy: &PolicyRow) -> bool {
    policy.name == crate::analytics::ANALYTICS_POLICY_NAME
        && policy.command == "r"
        && !policy.applies_to_role
        && !policy.roles.iter().any(|role| role == "PUBLIC")
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
    target: Oid,
    leading_column: Option<String>,
    target_leading_column: Option<String>,
}

/// A policy expression reduced to what matters for comparing it with the
/// generated one, so that PostgreSQL's deparsing (extra parentheses, `::text`
/// casts on literals, quoting, spacing) does not count, while any other
/// difference — an `OR`, a sub-select, a missing `NULLIF`, another setting —
/// does.
fn normalize_predicate(expression: &str) -> String {
    expression
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"'))
        .collect::<String>()
        .to_lowercase()
        .replace("::text", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated_in(form: PolicyForm) -> String {
        let column = Identifier::new("column", "tenant_id").unwrap();
        normalize_predicate(&form.predicate(&column, &SettingName::default(), "bigint"))
    }

    fn generated() -> String {
        generated_in(PolicyForm::Equality)
    }

    #[test]
    fn postgres_deparsing_matches_the_generated_predicate() {
        let deparsed = "(tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::bigint)";
        assert_eq!(normalize_predicate(deparsed), generated());
    }

    #[test]
    fn postgres_deparsing_matches_the_array_membership_predicate() {
        let deparsed = "(tenant_id = ANY (ARRAY[(NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::bigint]))";
        assert_eq!(
            normalize_predicate(deparsed),
            generated_in(PolicyForm::ArrayMembership)
        );
    }

    #[test]
    fn weaker_array_policies_do_not_match() {
        let array = generated_in(PolicyForm::ArrayMembership);
        for weaker in [
            // Any tenant the setting lists: `1,2` would see two tenants.
            "(tenant_id = ANY ((string_to_array(current_setting('app.tenant_id'::text, true), ','::text))::bigint[]))",
            // A second element widens it to another tenant.
            "(tenant_id = ANY (ARRAY[(NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::bigint, 2]))",
            "(tenant_id <> ALL (ARRAY[(NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::bigint]))",
            "(tenant_id = ANY (ARRAY[(current_setting('app.tenant_id'::text))::bigint]))",
        ] {
            assert_ne!(normalize_predicate(weaker), array, "{weaker}");
            assert_ne!(normalize_predicate(weaker), generated(), "{weaker}");
        }
    }

    #[test]
    fn weaker_policies_do_not_match() {
        for weaker in [
            "(tenant_id = (current_setting('app.tenant_id'::text))::bigint)",
            "((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::bigint) OR true)",
            "(tenant_id = (NULLIF(current_setting('app.other'::text, true), ''::text))::bigint)",
            "(owner_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::bigint)",
        ] {
            assert_ne!(normalize_predicate(weaker), generated(), "{weaker}");
        }
    }

    #[test]
    fn the_sub_select_form_is_reported_for_replacement() {
        // Safe on one server, but Citus refuses to create it on a
        // distributed table: the audit asks for the form that works on both.
        let sub_select = "(tenant_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::bigint AS \"nullif\"))";
        assert_ne!(normalize_predicate(sub_select), generated());
    }
}
