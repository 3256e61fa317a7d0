//! Row-level security DDL, generated from the table metadata.
//!
//! The policies are the database's half of tenant isolation: whatever SQL
//! reaches a table — the builder's, raw SQL through
//! [`TenantTransaction::raw_connection`](crate::TenantTransaction::raw_connection),
//! a colleague's psql session as the application role — sees only the rows of
//! the tenant set in the transaction.
//!
//! For every tenant-scoped table of a [`TableSet`], [`RlsPolicy::statements`]
//! produces (with the set's tenant setting, `app.tenant_id` unless
//! [`TableSet::with_setting`] names another):
//!
//! ```sql
//! ALTER TABLE "orders" ENABLE ROW LEVEL SECURITY;
//! ALTER TABLE "orders" FORCE ROW LEVEL SECURITY;
//! DROP POLICY IF EXISTS tenancy_isolation ON "orders";
//! CREATE POLICY tenancy_isolation ON "orders" AS PERMISSIVE FOR ALL TO "app"
//!     USING ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
//!     WITH CHECK ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::bigint);
//! DROP POLICY IF EXISTS tenancy_owner ON "orders";
//! CREATE POLICY tenancy_owner ON "orders" AS PERMISSIVE FOR ALL TO CURRENT_USER
//!     USING (..the same predicate..) WITH CHECK (..the same predicate..);
//! GRANT SELECT, INSERT, UPDATE, DELETE ON "orders" TO "app";
//! ```
//!
//! Every statement is safe to run again, so the whole set can be applied on
//! every deploy. The form of the policy is deliberate:
//!
//! - `FORCE` makes the policies apply to the table's owner too, and the
//!   second policy ([`OWNER_POLICY_NAME`], for the role that runs the DDL)
//!   gives the owner the same one-tenant view the application has: the
//!   owner's cross-tenant work (erasure, export) sets the tenant in each
//!   transaction instead of skipping the policies, so no role needs
//!   `BYPASSRLS`;
//! - both policies compare the setting directly, without a sub-select: the
//!   same policies serve plain PostgreSQL and Citus, which refuses a
//!   sub-select in the policy of a distributed table (`unexpected non-SELECT
//!   command in SubLink`). `current_setting` is stable within a statement,
//!   so PostgreSQL still uses an index on the tenant column, and the
//!   library's statements, which carry their own `tenant_id = $n`, cost the
//!   same or less than with a sub-select. Only raw SQL without a tenant
//!   predicate that scans the whole table evaluates the setting once per
//!   row; give such SQL its predicate (`tenant_sql!` requires it);
//! - the comparison is an equality by default ([`PolicyForm::Equality`]),
//!   which raw SQL without a tenant predicate plans best with. Where the
//!   SQL reaching the tables names its tenant — the builder's statements
//!   and `tenant_sql!` always do — [`PolicyForm::ArrayMembership`] (given
//!   to [`RlsPolicy::with_form`]) writes it as
//!   `"tenant_id" = ANY (ARRAY[..])`, which spares those statements the
//!   check PostgreSQL adds when two equalities meet on one column; with
//!   [`PlanCacheMode::ForceGenericPlan`](crate::PlanCacheMode::ForceGenericPlan)
//!   they then cost what they cost without row-level security (the
//!   trade-off, measured, is on [`PolicyForm`]);
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
//! use tenancy_sqlx::ddl::TableSet;
//! use tenancy_sqlx::rls::{PolicyForm, RlsPolicy};
//! use tenancy_sqlx::SettingName;
//! # #[tenancy_sqlx::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key)] pub id: i64 }
//!
//! let tables = TableSet::new().with::<Order>();
//! let ddl = RlsPolicy::for_role("app")?.statements(&tables)?;
//! assert_eq!(ddl[1], r#"ALTER TABLE "orders" FORCE ROW LEVEL SECURITY"#);
//! assert!(ddl[3].contains("USING (\"tenant_id\" = NULLIF(current_setting('app.tenant_id', true), '')::bigint)"));
//! // The owner's policy has the same form: Citus accepts both.
//! assert_eq!(ddl[3].split_once(" USING ").map(|(_, p)| p), ddl[5].split_once(" USING ").map(|(_, p)| p));
//!
//! // For SQL that always names its tenant: no gating check per row.
//! let ddl = RlsPolicy::for_role("app")?
//!     .with_form(PolicyForm::ArrayMembership)
//!     .statements(&tables)?;
//! assert!(ddl[3].contains("USING (\"tenant_id\" = ANY (ARRAY[NULLIF(current_setting('app.tenant_id', true), '')::bigint]))"));
//! assert!(ddl[5].contains("= ANY (ARRAY["));
//!
//! // The setting is the set's: the pool made with this set carries the
//! // tenant in the very setting these policies read.
//! let tables = tables.with_setting(SettingName::new("myapp.org")?);
//! let ddl = RlsPolicy::for_role("app")?.statements(&tables)?;
//! assert!(ddl[3].contains("current_setting('myapp.org', true)"));
//! # Ok::<(), tenancy_sqlx::Error>(())
//! ```

use tenancy_core::ddl::TableSet;
use tenancy_core::{SqlType, TableMeta};

use crate::Error;
use crate::ident::{Identifier, quoted_table};
use crate::setting::SettingName;

/// The name of the policy this module creates on every tenant-scoped table.
pub const POLICY_NAME: &str = "tenancy_isolation";

/// The name of the second policy on every tenant-scoped table: the same
/// tenant predicate, for the role that applies the DDL (the tables' owner).
/// With it, the owner works under forced row-level security like the
/// application does — it sees and changes the rows of the tenant its
/// transaction sets, and no row without one — so cross-tenant work
/// (erasure, export) never needs a role with `BYPASSRLS`.
pub const OWNER_POLICY_NAME: &str = "tenancy_owner";

/// The row-level security set-up for one application: which role the
/// policies and grants are for. The setting the policies read is the
/// [`TableSet`]'s ([`TableSet::with_setting`]), the one a
/// [`TenantPool`](crate::TenantPool) made with the same set carries the
/// tenant in, so the two cannot disagree.
#[derive(Debug, Clone)]
pub struct RlsPolicy {
    role: Option<Identifier>,
    form: PolicyForm,
}

impl RlsPolicy {
    /// Policies and grants for the application role `role` (the role a
    /// [`TenantPool`](crate::TenantPool) connects as).
    pub fn for_role(role: &str) -> Result<Self, Error> {
        Ok(RlsPolicy {
            role: Some(Identifier::new("role", role)?),
            form: PolicyForm::default(),
        })
    }

    /// Policies for every role (`TO PUBLIC`), and no grants: give the
    /// application role its privileges yourself.
    #[must_use]
    pub fn for_public() -> Self {
        RlsPolicy {
            role: None,
            form: PolicyForm::default(),
        }
    }

    /// These policies with their predicate written in `form` (both of
    /// them: the application role's and the owner's). The default,
    /// [`PolicyForm::Equality`], serves every kind of SQL; see
    /// [`PolicyForm::ArrayMembership`] for the form that makes the
    /// library's own statements cost what they cost without row-level
    /// security, and what it costs raw SQL that names no tenant.
    #[must_use]
    pub fn with_form(mut self, form: PolicyForm) -> Self {
        self.form = form;
        self
    }

    /// The application role, or `None` for `PUBLIC`.
    #[must_use]
    pub fn role(&self) -> Option<&Identifier> {
        self.role.as_ref()
    }

    /// The form the policies' predicate is written in.
    #[must_use]
    pub fn form(&self) -> PolicyForm {
        self.form
    }

    /// The statements for every table of the set, in its order, with the
    /// set's tenant setting. Refused for a set with two descriptions of one
    /// table ([`DdlError::ConflictingTables`](tenancy_core::DdlError::ConflictingTables)).
    pub fn statements(&self, tables: &TableSet) -> Result<Vec<String>, Error> {
        let mut statements = Vec::new();
        for table in tables.tables()? {
            statements.extend(self.rls_of(table, tables.setting())?);
        }
        Ok(statements)
    }

    /// The statements for `table`, one of `tables`, with the set's tenant
    /// setting: RLS and the policy for a tenant-scoped table, then grants
    /// to the application role. Refused for a table the set does not hold
    /// ([`Error::UnregisteredTable`]).
    pub fn table_statements(
        &self,
        tables: &TableSet,
        table: &'static TableMeta,
    ) -> Result<Vec<String>, Error> {
        if !tables
            .tables()?
            .iter()
            .any(|known| core::ptr::eq(*known, table))
        {
            return Err(Error::UnregisteredTable {
                table: table.qualified_name(),
                type_name: table.type_name,
            });
        }
        self.rls_of(table, tables.setting())
    }

    /// RLS, the policy reading `setting`, and the grants of one table.
    pub(crate) fn rls_of(
        &self,
        table: &TableMeta,
        setting: &SettingName,
    ) -> Result<Vec<String>, Error> {
        let name = quoted_table(table.schema, table.name)?;
        let mut statements = self.row_security(table, &name, setting)?;
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
        setting: &SettingName,
    ) -> Result<Vec<String>, Error> {
        let mut statements = self.row_security(table, partition, setting)?;
        if let Some(role) = &self.role {
            statements.push(format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON {partition} TO {}",
                role.quoted()
            ));
        }
        Ok(statements)
    }

    /// `ENABLE` and `FORCE ROW LEVEL SECURITY` and the policies on `name`,
    /// reading `setting`, for a tenant-scoped table; nothing for a global one.
    fn row_security(
        &self,
        table: &TableMeta,
        name: &str,
        setting: &SettingName,
    ) -> Result<Vec<String>, Error> {
        let mut statements = Vec::new();
        if let Some(tenant) = &table.tenant {
            let column = Identifier::new("column", tenant.name)?;
            let key_type = policy_key_type(table, tenant.name, tenant.sql_type)?;
            let check = self.form.predicate(&column, setting, key_type);
            let to = self
                .role
                .as_ref()
                .map_or_else(|| "PUBLIC".to_owned(), Identifier::quoted);
            statements.push(format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"));
            statements.push(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY"));
            statements.push(format!("DROP POLICY IF EXISTS {POLICY_NAME} ON {name}"));
            statements.push(format!(
                "CREATE POLICY {POLICY_NAME} ON {name} AS PERMISSIVE FOR ALL TO {to} \
                 USING ({check}) WITH CHECK ({check})"
            ));
            if self.role.is_some() {
                statements.push(format!(
                    "DROP POLICY IF EXISTS {OWNER_POLICY_NAME} ON {name}"
                ));
                statements.push(format!(
                    "CREATE POLICY {OWNER_POLICY_NAME} ON {name} AS PERMISSIVE FOR ALL TO CURRENT_USER \
                     USING ({check}) WITH CHECK ({check})"
                ));
            }
        }
        Ok(statements)
    }

    fn grants(
        &self,
        table: &TableMeta,
        name: &str,
        role: &Identifier,
    ) -> Result<Vec<String>, Error> {
        let role_sql = role.quoted();
        let mut grants = Vec::new();
        // The table's schema, and that of each enum type declared in another
        // one: casting a value to the type needs `USAGE` on its schema.
        let enum_schemas = table
            .columns
            .iter()
            .filter_map(|column| match column.sql_type {
                tenancy_core::SqlType::Enum(enum_type) => enum_type.schema,
                _ => None,
            });
        let mut schemas: Vec<&str> = Vec::new();
        for schema in table.schema.into_iter().chain(enum_schemas) {
            if schemas.contains(&schema) {
                continue;
            }
            schemas.push(schema);
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

/// `"<col>" = NULLIF(current_setting('<setting>', true), '')::<type>`: the
/// predicate of [`PolicyForm::Equality`], the default form, used for both
/// `USING` and `WITH CHECK` of both policies. An unset tenant (`NULL`, or
/// `''` on a connection that had one) matches no row instead of raising a
/// cast error. No sub-select, so that Citus accepts it on distributed
/// tables (see the [module documentation](self)).
#[must_use]
pub fn isolation_predicate(column: &Identifier, setting: &SettingName, key_type: &str) -> String {
    PolicyForm::Equality.predicate(column, setting, key_type)
}

/// How the tenant policies compare the tenant column with the tenant
/// setting. Every form reads the setting the same way —
/// `NULLIF(current_setting('<setting>', true), '')::<type>`, so that a
/// transaction without a tenant (the setting unset, or `''`) sees no row
/// and can write none, and a value that is not a key of the column's type
/// fails the statement — and matches exactly one tenant's rows. No form
/// has a sub-select, so Citus accepts each on distributed tables.
///
/// The forms differ in what PostgreSQL's planner makes of them, measured
/// by the `rls_policy` benchmark (`BENCHMARKS.md`):
///
/// | statement | [`Equality`](Self::Equality) | [`ArrayMembership`](Self::ArrayMembership) |
/// |---|---|---|
/// | the library's (carry `"tenant_id" = $n`) | a gating `Result` node above the scan: every row passes through it | the plan of the same statement without row-level security |
/// | raw SQL without a tenant predicate | the tenant is a constant: ordered index scans on `(tenant_id, ..)` | the tenant is not a constant: no ordered index scan, a sort instead |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PolicyForm {
    /// `"<col>" = NULLIF(current_setting('<setting>', true), '')::<type>`,
    /// the default.
    ///
    /// PostgreSQL treats the comparison as an equality of the column with
    /// a value fixed for the statement, so raw SQL that names no tenant
    /// (`SELECT .. FROM orders WHERE status = 'open' ORDER BY placed_at
    /// DESC LIMIT 50`) still reads an index on `(tenant_id, status,
    /// placed_at)` in order and stops after 50 rows. A statement that
    /// compares the column with a value of its own, as every statement of
    /// the builder and of `tenant_sql!` does, puts two values in one
    /// equality: the planner then adds a check that they agree, as a
    /// `Result` node with a `One-Time Filter` above the scan, through which
    /// every row the scan returns passes — a cost per row (up to a tenth on
    /// a count of many thousand rows), whatever the plan cache mode.
    #[default]
    Equality,
    /// `"<col>" = ANY (ARRAY[NULLIF(current_setting('<setting>', true),
    /// '')::<type>])`: membership in an array of exactly one element, the
    /// setting's value (or `NULL`, which matches nothing).
    ///
    /// An array membership is not an equality to the planner: it never
    /// merges with the statement's own `"tenant_id" = $n`, both become
    /// conditions of the same index scan, and no gating node is added. The
    /// library's statements then run the plan they would run without
    /// row-level security; recommended together with
    /// [`PlanCacheMode::ForceGenericPlan`](crate::PlanCacheMode::ForceGenericPlan)
    /// (one plan per prepared statement, not one per execution). In the
    /// `rls_policy` benchmark (a million rows, one tenant of 220 867) the
    /// count of a large tenant's rows costs 0.97–1.02× of the same
    /// statement without row-level security in CPU time, against 1.04–1.13×
    /// with [`Equality`](Self::Equality); what remains on small results is
    /// the fixed cost of row-level security per execution, which every
    /// form pays. Without the pool option, PostgreSQL's default plan cache
    /// mode settled on the generic plan for the array form's list
    /// statement, where it planned the equality form's again for every
    /// execution.
    ///
    /// The price is paid by raw SQL that names no tenant: the tenant is
    /// then no constant the planner can order by, so `ORDER BY placed_at
    /// DESC LIMIT 50` on `(tenant_id, status, placed_at)` becomes a scan of
    /// the tenant's rows and a sort (in the benchmark, 60–140× the time
    /// of the equality form on the large tenant: tens of milliseconds
    /// instead of a fraction of one). Use it when the SQL that reaches the
    /// tables names its tenant: the builder's statements and `tenant_sql!`, which
    /// requires the predicate, always do; give raw SQL on
    /// [`TenantTransaction::raw_connection`](crate::TenantTransaction::raw_connection)
    /// its `tenant_id = $1` too.
    ArrayMembership,
}

impl PolicyForm {
    /// Every form, in the order of their declaration.
    pub const ALL: [PolicyForm; 2] = [PolicyForm::Equality, PolicyForm::ArrayMembership];

    /// The predicate comparing `column` with `setting`, cast to `key_type`,
    /// in this form: the text of the policies' `USING` and `WITH CHECK`.
    #[must_use]
    pub fn predicate(self, column: &Identifier, setting: &SettingName, key_type: &str) -> String {
        let tenant = format!("NULLIF(current_setting('{setting}', true), '')::{key_type}");
        match self {
            PolicyForm::Equality => format!("{} = {tenant}", column.quoted()),
            PolicyForm::ArrayMembership => format!("{} = ANY (ARRAY[{tenant}])", column.quoted()),
        }
    }
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

    #[tenant_scoped(table = "invoices")]
    struct Invoice {
        tenant_id: i64,
        #[tenancy(primary_key)]
        id: i64,
    }

    static ORDERS: fn() -> &'static TableMeta = SalesOrder::meta;
    static PLANS: fn() -> &'static TableMeta = Plan::meta;

    fn tables() -> TableSet {
        TableSet::new().with::<Plan>().with::<SalesOrder>()
    }

    #[test]
    fn a_scoped_table_gets_forced_rls_one_policy_and_grants() {
        let policy = RlsPolicy::for_role("app").unwrap();
        let tables = tables().with_setting(SettingName::new("myapp.org").unwrap());
        let predicate = r#""org_id" = NULLIF(current_setting('myapp.org', true), '')::integer"#;
        assert_eq!(
            policy.table_statements(&tables, ORDERS()).unwrap(),
            [
                r#"ALTER TABLE "sales"."orders" ENABLE ROW LEVEL SECURITY"#.to_owned(),
                r#"ALTER TABLE "sales"."orders" FORCE ROW LEVEL SECURITY"#.to_owned(),
                r#"DROP POLICY IF EXISTS tenancy_isolation ON "sales"."orders""#.to_owned(),
                format!(
                    r#"CREATE POLICY tenancy_isolation ON "sales"."orders" AS PERMISSIVE FOR ALL TO "app" USING ({predicate}) WITH CHECK ({predicate})"#
                ),
                r#"DROP POLICY IF EXISTS tenancy_owner ON "sales"."orders""#.to_owned(),
                format!(
                    r#"CREATE POLICY tenancy_owner ON "sales"."orders" AS PERMISSIVE FOR ALL TO CURRENT_USER USING ({predicate}) WITH CHECK ({predicate})"#
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
    fn the_array_membership_form_writes_both_policies_with_one_element() {
        let policy = RlsPolicy::for_role("app")
            .unwrap()
            .with_form(PolicyForm::ArrayMembership);
        assert_eq!(policy.form(), PolicyForm::ArrayMembership);
        let tables = tables().with_setting(SettingName::new("myapp.org").unwrap());
        let statements = policy.table_statements(&tables, ORDERS()).unwrap();
        let predicate =
            r#""org_id" = ANY (ARRAY[NULLIF(current_setting('myapp.org', true), '')::integer])"#;
        for (index, name) in [(3, POLICY_NAME), (5, OWNER_POLICY_NAME)] {
            assert!(
                statements[index].starts_with(&format!("CREATE POLICY {name} ")),
                "{}",
                statements[index]
            );
            assert!(
                statements[index]
                    .ends_with(&format!("USING ({predicate}) WITH CHECK ({predicate})")),
                "{}",
                statements[index]
            );
        }
        // Everything else is the default form's.
        let default = RlsPolicy::for_role("app")
            .unwrap()
            .table_statements(&tables, ORDERS())
            .unwrap();
        assert_eq!(RlsPolicy::for_public().form(), PolicyForm::Equality);
        assert_eq!(statements.len(), default.len());
        for (index, (array, equality)) in statements.iter().zip(&default).enumerate() {
            assert_eq!(array == equality, index != 3 && index != 5, "{array}");
        }
    }

    #[test]
    fn a_global_table_is_only_readable() {
        let policy = RlsPolicy::for_role("app").unwrap();
        assert_eq!(
            policy.table_statements(&tables(), PLANS()).unwrap(),
            [r#"GRANT SELECT ON "plans" TO "app""#]
        );
    }

    #[test]
    fn the_policies_read_the_sets_setting() {
        let statements = |tables: &TableSet| RlsPolicy::for_public().statements(tables).unwrap();
        assert!(statements(&tables())[3].contains("current_setting('app.tenant_id', true)"));
        let custom = tables().with_setting(SettingName::new("myapp.org").unwrap());
        assert!(statements(&custom)[3].contains("current_setting('myapp.org', true)"));
    }

    #[test]
    fn a_table_outside_the_set_is_refused() {
        let refused = RlsPolicy::for_role("app")
            .unwrap()
            .table_statements(&tables(), Invoice::meta());
        assert!(
            matches!(&refused, Err(Error::UnregisteredTable { table, .. }) if table == "invoices"),
            "{refused:?}"
        );
    }

    #[test]
    fn a_public_policy_grants_nothing() {
        let statements = RlsPolicy::for_public()
            .table_statements(&tables(), ORDERS())
            .unwrap();
        assert_eq!(statements.len(), 4);
        assert!(statements[3].contains("FOR ALL TO PUBLIC USING"));
        assert!(
            RlsPolicy::for_public()
                .table_statements(&tables(), PLANS())
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
