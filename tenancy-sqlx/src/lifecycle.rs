//! When a tenant leaves, asks for its data, or must be restored: erasure
//! with a certificate of deletion, and the library's own records.
//!
//! *Available with the `lifecycle` feature (PostgreSQL).*
//!
//! # Erasure
//!
//! [`OwnerPool::erase_tenant`](crate::OwnerPool::erase_tenant) erases one
//! tenant from every table that has a tenant column — found in the live
//! catalog, registered or not, so a table a hand-written list would forget
//! is covered — and returns a [`Certificate`] of deletion:
//!
//! ```no_run
//! # async fn run(owner: tenancy_sqlx::OwnerPool, tables: tenancy_sqlx::ddl::TableSet) -> Result<(), tenancy_sqlx::Error> {
//! # #[tenancy_sqlx::tenant_scoped] pub struct Invoice { pub tenant_id: i64, #[tenancy(primary_key)] pub id: i64, #[tenancy(pii)] pub email: String }
//! use tenancy_sqlx::TenantId;
//! use tenancy_sqlx::lifecycle::ErasureOptions;
//!
//! let leaving = TenantId::from_verified(42);
//! let options = ErasureOptions::new(&tables).retain::<Invoice>();
//! let erasure = owner.erase_tenant(&leaving, &options).await?;
//! println!("{}", erasure.certificate.to_json().map_err(tenancy_sqlx::lifecycle::LifecycleError::from)?);
//! # Ok(()) }
//! ```
//!
//! What it guarantees, in order: it refuses, before deleting anything, when
//! a table cannot be covered; it deletes children before the tables they
//! reference, in bounded batches, each a transaction with the tenant set;
//! it overwrites the `#[tenancy(pii)]` columns of retained tables and keeps
//! their other columns; its ledger makes it resumable after a crash; it
//! verifies that nothing is left, and stores the certificate append-only.
//!
//! # No `BYPASSRLS`
//!
//! Erasure runs as the tables' owner under forced row-level security: the
//! generated DDL ([`rls`](crate::rls)) adds a policy for the role that runs
//! it ([`OWNER_POLICY_NAME`](crate::rls::OWNER_POLICY_NAME)) with the same
//! tenant predicate, and every transaction of the job sets the tenant, so
//! the owner sees the leaving tenant's rows and no other tenant's. A table
//! whose policies would hide rows from the owner is refused, not skipped.
//!
//! # A tenant with a schema or a database of its own
//!
//! [`OwnerPool::remove_tenant`](crate::OwnerPool::remove_tenant) removes a
//! tenant wherever the tenant directory places it: its entry marked
//! deleted, its rows erased and certified as above, then its own schema or
//! database dropped ([`Removal`]); a schema or database that another entry
//! names, or that holds the shared tables, is refused.
//!
//! # Export and import
//!
//! [`TenantTransaction::export_tenant`](crate::TenantTransaction::export_tenant)
//! writes the transaction's tenant's rows of every registered tenant table,
//! and on PostgreSQL of every other table with the tenant column, as NDJSON
//! or CSV ([`ExportFormat`]), one file per table in foreign-key order,
//! streamed, with an [`ExportManifest`] of row counts and SHA-256
//! checksums;
//! [`import_tenant`](crate::TenantTransaction::import_tenant) reads it back
//! into a tenant of the same key (after an erasure, or in another
//! database), checking every file. Both run in a tenant transaction, on
//! PostgreSQL and SQLite.
//!
//! # Records
//!
//! In schema [`DEFAULT_RECORDS_SCHEMA`] (see [`records_statements`]):
//! `tenant_deletion_jobs` (the ledger), `tenant_deletion_certificates` and
//! `tenant_export_audit`, the last two append-only. A tenant's export
//! audit records follow it when [`TenantMover`](crate::moves::TenantMover)
//! moves it to another database (its source keeps them too).

#[cfg(feature = "postgres")]
mod catalog;
#[cfg(feature = "postgres")]
mod certificate;
mod csv;
#[cfg(feature = "postgres")]
mod erase;
mod error;
mod export;
#[cfg(feature = "postgres")]
mod plan;
#[cfg(feature = "postgres")]
mod records;
#[cfg(feature = "postgres")]
mod remove;

#[cfg(feature = "postgres")]
pub use certificate::{CERTIFICATE_FORMAT, Certificate, CertificateContent, CertifiedTable};
#[cfg(feature = "postgres")]
pub use erase::Erasure;
pub use error::{LifecycleError, PlanProblem};
pub use export::{ExportFormat, ExportManifest, ExportedTable, MANIFEST_FILE};
#[cfg(feature = "postgres")]
pub use plan::{
    Anonymisation, AnonymisedColumn, DEFAULT_RECORDS_SCHEMA, ErasureAction, ErasureOptions,
    ErasurePlan, ErasureStep,
};
#[cfg(feature = "postgres")]
pub use records::{
    DELETION_CERTIFICATES, DELETION_JOBS, EXPORT_AUDIT, ExportRecord, append_only_statements,
    records_statements,
};
#[cfg(feature = "postgres")]
pub(crate) use records::{carry_export_audit, check_export_audit_can_move};
#[cfg(feature = "postgres")]
pub use remove::Removal;
