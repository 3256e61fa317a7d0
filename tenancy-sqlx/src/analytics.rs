//! A read-only role for platform analytics that must see every tenant at
//! once, without `BYPASSRLS`: a generated `FOR SELECT` policy for that role
//! is the only thing that lets it past row-level security, and `SELECT` the
//! only privilege it is granted.
//!
//! ```
//! # #[tenancy_sqlx::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key)] pub id: i64 }
//! use tenancy_sqlx::analytics::AnalyticsPolicy;
//! use tenancy_sqlx::ddl::TableSet;
//!
//! let ddl = AnalyticsPolicy::for_role("analytics")?.statements(&TableSet::new().with::<Order>())?;
//! assert!(ddl.iter().any(|s| s == r#"CREATE POLICY tenancy_analytics ON "orders" AS PERMISSIVE FOR SELECT TO "analytics" USING (true)"#));
//! assert!(ddl.iter().any(|s| s == r#"GRANT SELECT ON "orders" TO "analytics""#));
//! # Ok::<(), tenancy_sqlx::Error>(())
//! ```
//!
//! Make the role yourself, `NOLOGIN`-free but with nothing else
//! (`CREATE ROLE analytics LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE`), and
//! never give it to the application. The catalog audit accepts this policy
//! (it does not apply to the application role, and only reads); any other
//! permissive policy is still reported.

use tenancy_core::ddl::TableSet;

use crate::ident::{Identifier, quoted_table};
use crate::{Error, OwnerPool, Postgres};

/// The name of the read-only policy for the analytics role.
pub const ANALYTICS_POLICY_NAME: &str = "tenancy_analytics";

/// The analytics role's policy and grants, for every table of a set.
#[derive(Debug, Clone)]
pub struct AnalyticsPolicy {
    role: Identifier,
}

impl AnalyticsPolicy {
    /// For the role `role`, checked to be an identifier.
    pub fn for_role(role: &str) -> Result<Self, Error> {
        Ok(AnalyticsPolicy {
            role: Identifier::new("role", role)?,
        })
    }

    /// The role.
    #[must_use]
    pub fn role(&self) -> &Identifier {
        &self.role
    }

    /// The DDL, safe to run again: for each tenant-scoped table, every
    /// privilege revoked from the role, then `SELECT` granted and a
    /// `FOR SELECT ... USING (true)` policy for the role only; `SELECT` on
    /// global tables; `USAGE` on the tables' schemas.
    pub fn statements(&self, tables: &TableSet) -> Result<Vec<String>, Error> {
        let role = self.role.quoted();
        let mut statements = Vec::new();
        for table in tables.tables()? {
            let name = quoted_table(table.schema, table.name)?;
            if let Some(schema) = table.schema {
                statements.push(format!(
                    "GRANT USAGE ON SCHEMA {} TO {role}",
                    Identifier::new("schema", schema)?.quoted()
                ));
            }
            statements.push(format!("REVOKE ALL ON {name} FROM {role}"));
            statements.push(format!("GRANT SELECT ON {name} TO {role}"));
            if table.is_scoped() {
                statements.push(format!(
                    "DROP POLICY IF EXISTS {ANALYTICS_POLICY_NAME} ON {name}"
                ));
                statements.push(format!(
                    "CREATE POLICY {ANALYTICS_POLICY_NAME} ON {name} AS PERMISSIVE FOR SELECT TO {role} USING (true)"
                ));
            }
        }
        Ok(statements)
    }
}

impl OwnerPool<Postgres> {
    /// Applies [`AnalyticsPolicy::statements`] in one transaction, each
    /// statement logged on target `tenancy::cross_tenant` with the
    /// capability's reason (the durable record of who opened the tables to
    /// the role is the deployment's DDL log).
    pub async fn apply_analytics(
        &self,
        tables: &TableSet,
        policy: &AnalyticsPolicy,
    ) -> Result<(), Error> {
        tracing::warn!(
            target: "tenancy::cross_tenant",
            reason = %self.reason(),
            role = %policy.role().as_str(),
            "read-only analytics role given every tenant's rows"
        );
        self.run_ddl(policy.statements(tables)?).await
    }
}
