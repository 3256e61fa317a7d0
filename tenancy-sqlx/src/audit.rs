//! Checks of the live catalog: is every registered table protected the way
//! [`rls`](crate::rls) would set it up, does every key lead with the tenant
//! column, and which roles could skip the policies?
//!
//! Run it in CI against a migrated database, or at start-up, and fail or
//! alert on findings:
//!
//! ```no_run
//! # async fn run(tables: tenancy_sqlx::ddl::TableSet) -> Result<(), tenancy_sqlx::Error> {
//! use tenancy_sqlx::{CrossTenant, OwnerPool, SettingName, audit};
//!
//! let owner = OwnerPool::connect("postgres://owner@localhost/shop", CrossTenant::with_reason("schema audit")).await?;
//! let mut conn = owner.pool().acquire().await?;
//! let findings = audit::verify_tables(&mut conn, &tables, &SettingName::default()).await?;
//! for finding in &findings {
//!     eprintln!("{finding}");
//! }
//! assert!(findings.is_empty());
//! # Ok(()) }
//! ```
//!
//! The role audit lists the login roles that skip the policies or can make
//! themselves such a role; accept the ones a deployment administers with
//! ([`RoleAudit::accept`]) and gate CI on the rest:
//!
//! ```no_run
//! # async fn run(conn: &mut sqlx::PgConnection) -> Result<(), tenancy_sqlx::Error> {
//! use tenancy_sqlx::audit::RoleAudit;
//!
//! let findings = RoleAudit::new()
//!     .accept("postgres", "the bootstrap superuser; only the DBA logs in as it, locally")?
//!     .run(conn)
//!     .await?;
//! assert!(findings.is_empty(), "{findings:#?}");
//! # Ok(()) }
//! ```
//!
//! The audit reads the catalog only (`pg_class`, `pg_policy`, `pg_index`,
//! `pg_constraint`, `pg_attribute`, `pg_inherits`, `pg_roles`,
//! `pg_stat_activity` for the own session), which every role may read.
//! It never panics; a query that fails is an [`Error`](crate::Error).

use core::fmt;

mod roles;
mod tables;

pub use roles::{RoleAudit, roles_bypassing_rls, verify_session};
pub use tables::verify_tables;

/// What kind of problem a [`Finding`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FindingKind {
    /// A registered table does not exist.
    TableMissing,
    /// A tenant-scoped table has no tenant column, or it accepts NULL.
    TenantColumn,
    /// Row-level security is not enabled.
    RlsDisabled,
    /// Row-level security is not forced, so the owner skips the policies.
    RlsNotForced,
    /// No policy of the required form (see [`rls`](crate::rls)).
    PolicyMissing,
    /// A permissive policy not of the required form: permissive policies are
    /// OR-ed, so it widens what every tenant sees.
    ExtraPermissivePolicy,
    /// The primary key does not lead with the tenant column.
    PrimaryKeyNotLedByTenant,
    /// A unique constraint or index does not lead with the tenant column.
    UniqueNotLedByTenant,
    /// An index does not lead with the tenant column.
    IndexNotLedByTenant,
    /// A foreign key to a tenant-scoped table does not lead with the tenant
    /// column on both sides, so a row can reference another tenant's row.
    ForeignKeyWithoutTenant,
    /// A role that can log in skips every policy (superuser or `BYPASSRLS`),
    /// itself or after `SET ROLE`.
    LoginRoleBypassesRls,
    /// A role that can log in can make itself a role that skips the policies
    /// (`CREATEROLE`, `ADMIN OPTION`), or read every tenant's rows from the
    /// server's files (`pg_read_server_files`, `pg_write_server_files`,
    /// `pg_execute_server_program`), itself or after `SET ROLE`.
    LoginRoleCanEscalate,
}

/// One problem found in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// The table (schema-qualified when registered with a schema), or `None`
    /// for findings about roles.
    pub table: Option<String>,
    /// What kind of problem it is.
    pub kind: FindingKind,
    /// What is wrong, for a human.
    pub message: String,
    /// How to fix it: usually the SQL to run.
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(table) = &self.table {
            write!(f, "{table}: ")?;
        }
        write!(f, "{} (fix: {})", self.message, self.fix)
    }
}
