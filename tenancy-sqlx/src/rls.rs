//! Row-level security DDL, generated from the table metadata.
//!
//! The policies are the database's half of tenant isolation: whatever SQL
//! reaches a table — the builder's, raw SQL through
//! [`TenantTransaction::raw_connection`](crate::TenantTransaction::raw_connection),
//! a colleague's psql session as the application role — sees only the rows of
//! the tenant set in the transaction.
//!
//! For every tenant-scoped table [`RlsPolicy::table_statements`] produces:
//!
//! ```sql
//! ALTER TABLE "orders" ENABLE ROW LEVEL SECURITY;
//! ALTER TABLE "orders" FORCE ROW LEVEL SECURITY;
//! DROP POLICY IF EXISTS tenancy_isolation ON "orders";
//! CREATE POLICY tenancy_isolation ON "orders" AS PERMISSIVE FOR ALL TO "app"
//!     USING ("tenant_id" = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::bigint))
//!     WITH CHECK ("tenant_id" = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::bigint));
//! GRANT SELECT, INSERT, UPDATE, DELETE ON "orders" TO "app";
//! ```
//!
//! Every statement is safe to run again, so the whole set can be applied on
//! every deploy. The form of the policy is deliberate:
//!
//! - `FORCE` makes the policy apply to the table's owner too;
//! - the sub-select makes PostgreSQL evaluate the setting once per statement
//!   (an init plan), not once per row, so an index on the tenant column is
//!   used;
//! - `current_setting(.., true)` returns NULL or `''` when no tenant is set,
//!   and `NULLIF` turns `''` into NULL: a transaction without a tenant sees
//!   no row and can insert none, instead of failing on `''::bigint` — or
//!   seeing every row;
//! - `WITH CHECK` refuses inserts and updates that would write a row for
//!   another tenant.
//!
//! Global tables get `GRANT SELECT` only: shared reference data is read by
//! tenants and written by migrations.
//!
//! Partitions and inheritance children that your own migrations create need
//! the same `ENABLE`, `FORCE` and policy: SQL that names a partition
//! directly is checked against the partition's policies, not the parent's.
//! [`audit::verify_tables`](crate::audit::verify_tables) reports any that
//! lack them.
//!
//! ```
//! use tenancy_sqlx::Table;
//! use tenancy_sqlx::rls::RlsPolicy;
//! # #[tenancy_sqlx::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key)] pub id: i64 }
//!
//! let policy = RlsPolicy::for_role("app")?;
//! let ddl = policy.table_statements(Order::meta())?;
//! assert_eq!(ddl[1], r#"ALTER TABLE "orders" FORCE ROW LEVEL SECURITY"#);
//! assert!(ddl[3].contains("USING (\"tenant_id\" = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::bigint))"));
//! # Ok::<(), tenancy_sqlx::Error>(())
//! ```

use tenancy_core::ddl::TableSet;
use tenancy_core::{SqlType, TableMeta};

use crate::Error;
use crate::ident::{Identifier, quoted_table};
use crate::setting::SettingName;

/// The name of the policy this module creates on every tenant-scoped table.
pub const POLICY_NAME: &str = "tenancy_isolation";

/// The row-level security set-up for one application: which setting carries
/// the tenant and which role the policies and grants are for.
#[derive(Debug, Clone)]
pub struct RlsPolicy {
    setting: SettingName,
    role: Option<Identifier>,
}

impl RlsPolicy {
    /// Policies and grants for the application role `role` (the role a
    /// [`TenantPool`](crate::TenantPool) connects as).
    pub fn for_role(role: &str) -> Result<Self, Error> {
        Ok(RlsPolicy {
            setting: SettingName::default(),
            role: Some(Identifier::new("role", role)?),
        })
    }

    /// Policies for every role (`TO PUBLIC`), and no grants: give the
    /// application role its privileges yourself.
    #[must_use]
    pub fn for_public() -> Self {
        RlsPolicy {
            setting: SettingName::default(),
            role: None,
        }
    }

    /// The setting the policies read; it must be the one the
    /// [`TenantPool`](crate::TenantPool) sets. Default: `app.tenant_id`.
    #[must_use]
    pub fn setting(mut self, setting: SettingName) -> Self {
        self.setting = setting;
        self
    }

    /// The setting the policies read.
    #[must_use]
    pub fn setting_name(&self) -> &SettingName {
        &self.setting
    }

    /// The application role, or `None` for `PUBLIC`.
    #[must_use]
    pub fn role(&self) -> Option<&Identifier> {
        self.role.as_ref()
    }

    /// The statements for every table of the set, in its order.
    pub fn statements(&self, tables: &TableSet) -> Result<Vec<String>, Error> {
        let mut statements = Vec::new();
        for table in tables.tables()? {
            statements.extend(self.table_statements(table)?);
        }
        Ok(statements)
    }

    /// The statements for one table: RLS and the policy for a tenant-scoped
    /// table, then grants to the application role.
    pub fn table_statements(&self, table: &TableMeta) -> Result<Vec<String>, Error> {
        let name = quoted_table(table.schema, table.name)?;
        let mut statements = self.row_security(table, &name)?;
        if let Some(role) = &self.role {
            statements.extend(self.grants(table, &name, role)?);
        }
        Ok(statements)
    }

    /// The statements for `partition` (quoted, qualified) of the
    /// tenant-scoped `table`: the same row-level security and policy as the
    /// parent, since SQL that names a partition is checked against the
    /// partition's policies, and the parent's table grant (its identity
    /// sequences belong to the parent).
    pub(crate) fn partition_statements(
        &self,
        table: &TableMeta,
        partition: &str,
    ) -> Result<Vec<String>, Error> {
        let mut statements = self.row_security(table, partition)?;
        if let Some(role) = &self.role {
            statements.push(format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON {partition} TO {}",
                role.quoted()
            ));
        }
        Ok(statements)
    }

    /// `ENABLE` and `FORCE ROW LEVEL SECURITY` and the policy on `name`,
    /// for a tenant-scoped table; nothing for a global one.
    fn row_security(&self, table: &TableMeta, name: &str) -> Result<Vec<String>, Error> {
        let Some(tenant) = &table.tenant else {
            return Ok(Vec::new());
        };
        let column = Identifier::new("column", tenant.name)?;
        let key_type = policy_key_type(table, tenant.name, tenant.sql_type)?;
        let check = isolation_predicate(&column, &self.setting, key_type);
        let to = self
            .role
            .as_ref()
            .map_or_else(|| "PUBLIC".to_owned(), Identifier::quoted);
        Ok(vec![
            format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"),
            format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY"),
            format!("DROP POLICY IF EXISTS {POLICY_NAME} ON {name}"),
            format!(
                "CREATE POLICY {POLICY_NAME} ON {name} AS PERMISSIVE FOR ALL TO {to} \
                 USING ({check}) WITH CHECK ({check})"
            ),
        ])
    }

    fn grants(
        &self,
        table: &TableMeta,
        name: &str,
        role: &Identifier,
    ) -> Result<Vec<String>, Error> {
        let role_sql = role.quoted();
        let mut grants = Vec::new();
        if let Some(schema) = table.schema {
            let schema = Identifier::new("schema", schema)?;
            grants.push(format!(
                "GRANT USAGE ON SCHEMA {} TO {role_sql}",
                schema.quoted()
            ));
        }
        if !table.is_scoped() {
            grants.push(format!("GRANT SELECT ON {name} TO {role_sql}"));
            return Ok(grants);
        }
        grants.push(format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {role_sql}"
        ));
        for column in table.columns.iter().filter(|column| column.generated) {
            let column = Identifier::new("column", column.name)?;
            grants.push(sequence_grant(name, &column, role));
        }
        Ok(grants)
    }
}

/// `"<col>" = (SELECT NULLIF(current_setting('<setting>', true), '')::<type>)`,
/// used for both `USING` and `WITH CHECK`: an unset tenant (`NULL`, or `''`
/// on a connection that had one) matches no row instead of raising a cast
/// error, and the sub-select evaluates the setting once per statement.
#[must_use]
pub fn isolation_predicate(column: &Identifier, setting: &SettingName, key_type: &str) -> String {
    format!(
        "{} = (SELECT NULLIF(current_setting('{setting}', true), '')::{key_type})",
        column.quoted()
    )
}

/// The SQL type the policy casts the setting to.
pub(crate) fn policy_key_type(
    table: &TableMeta,
    column: &'static str,
    sql_type: SqlType,
) -> Result<&'static str, Error> {
    match sql_type {
        SqlType::BigInt => Ok("bigint"),
        SqlType::Integer => Ok("integer"),
        SqlType::Uuid => Ok("uuid"),
        other => Err(Error::UnsupportedTenantType {
            table: table.qualified_name(),
            column,
            sql_type: format!("{other:?}"),
        }),
    }
}

/// Grants use of the sequence behind a generated column, whatever it is
/// named: `pg_get_serial_sequence` finds it at apply time. Identity columns
/// do not strictly need it; serial-style defaults do.
fn sequence_grant(table: &str, column: &Identifier, role: &Identifier) -> String {
    // Inputs are validated identifiers: no quote can occur in them.
    format!(
        "DO $tenancy$ DECLARE seq text := pg_get_serial_sequence('{table}', '{column}'); \
         BEGIN IF seq IS NOT NULL THEN \
         EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %I', seq, '{role}'); \
         END IF; END $tenancy$",
        table = table.replace('\'', "''"),
    )
}

#[cfg(test)]
mod tests {
    #![allow(dead_code)] // tables declared for their metadata

    use tenancy_core::{Table, global_table, tenant_scoped};

    use super::*;

    #[tenant_scoped(schema = "sales", table = "orders")]
    struct SalesOrder {
        #[tenancy(tenant)]
        org_id: i32,
        #[tenancy(primary_key, generated)]
        id: i64,
        status: String,
    }

    #[global_table(table = "plans")]
    struct Plan {
        #[tenancy(primary_key, generated)]
        id: i64,
        status: String,
    }

    static ORDERS: fn() -> &'static TableMeta = SalesOrder::meta;
    static PLANS: fn() -> &'static TableMeta = Plan::meta;

    #[test]
    fn a_scoped_table_gets_forced_rls_one_policy_and_grants() {
        let policy = RlsPolicy::for_role("app")
            .unwrap()
            .setting(SettingName::new("myapp.org").unwrap());
        let predicate =
            r#""org_id" = (SELECT NULLIF(current_setting('myapp.org', true), '')::integer)"#;
        assert_eq!(
            policy.table_statements(ORDERS()).unwrap(),
            [
                r#"ALTER TABLE "sales"."orders" ENABLE ROW LEVEL SECURITY"#.to_owned(),
                r#"ALTER TABLE "sales"."orders" FORCE ROW LEVEL SECURITY"#.to_owned(),
                r#"DROP POLICY IF EXISTS tenancy_isolation ON "sales"."orders""#.to_owned(),
                format!(
                    r#"CREATE POLICY tenancy_isolation ON "sales"."orders" AS PERMISSIVE FOR ALL TO "app" USING ({predicate}) WITH CHECK ({predicate})"#
                ),
                r#"GRANT USAGE ON SCHEMA "sales" TO "app""#.to_owned(),
                r#"GRANT SELECT, INSERT, UPDATE, DELETE ON "sales"."orders" TO "app""#.to_owned(),
                "DO $tenancy$ DECLARE seq text := pg_get_serial_sequence('\"sales\".\"orders\"', 'id'); \
                 BEGIN IF seq IS NOT NULL THEN EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %I', seq, 'app'); \
                 END IF; END $tenancy$"
                    .to_owned(),
            ]
        );
    }

    #[test]
    fn a_global_table_is_only_readable() {
        let policy = RlsPolicy::for_role("app").unwrap();
        assert_eq!(
            policy.table_statements(PLANS()).unwrap(),
            [r#"GRANT SELECT ON "plans" TO "app""#]
        );
    }

    #[test]
    fn a_public_policy_grants_nothing() {
        let statements = RlsPolicy::for_public().table_statements(ORDERS()).unwrap();
        assert_eq!(statements.len(), 4);
        assert!(statements[3].contains("FOR ALL TO PUBLIC USING"));
        assert!(
            RlsPolicy::for_public()
                .table_statements(PLANS())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn role_names_are_validated() {
        assert!(RlsPolicy::for_role("app; DROP TABLE orders").is_err());
        assert!(RlsPolicy::for_role("").is_err());
    }
}
