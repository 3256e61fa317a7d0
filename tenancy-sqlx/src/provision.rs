//! Creating a tenant in any placement: its schema or database migrated with
//! the fleet [`Runner`] (whose first, generated migration creates the
//! tables, their row-level security, the policy and the grants), then its
//! directory entry, active. The entry comes last, so a tenant is never
//! served from a place that is not ready.
//!
//! *Available with the `migrate` feature.*

use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use tenancy_core::KeyValue;

use crate::directory::{DatabaseUrl, Placement, TableDirectory, TenantEntry};
use crate::execute::execute_text;
use crate::ident::Identifier;
use crate::migrate::{FleetReport, MigrateError, Runner, Target};
use crate::{Error, Postgres};

/// Creates tenants: migrates their place, then records them in the
/// directory.
///
/// ```no_run
/// # async fn run(runner: tenancy_sqlx::migrate::Runner, owner: sqlx::PgPool) -> Result<(), tenancy_sqlx::migrate::MigrateError> {
/// use tenancy_sqlx::directory::TableDirectory;
/// use tenancy_sqlx::provision::Provisioner;
/// use tenancy_sqlx::{Identifier, KeyValue};
///
/// let provisioner = Provisioner::new(runner, TableDirectory::new(owner.clone()), owner);
/// let schema = Identifier::new("schema", "tenant_42").map_err(tenancy_sqlx::Error::from)?;
/// provisioner.schema(KeyValue::I64(42), &schema).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Provisioner {
    runner: Runner,
    directory: TableDirectory,
    owner: PgPool,
}

impl Provisioner {
    /// A provisioner that migrates with `runner`, records tenants in
    /// `directory` (through a pool that may write it), and creates schemas
    /// as `owner` (the role that owns the shared database's tables).
    #[must_use]
    pub fn new(runner: Runner, directory: TableDirectory, owner: PgPool) -> Self {
        Provisioner {
            runner,
            directory,
            owner,
        }
    }

    /// A tenant in the shared tables: only its directory entry.
    pub async fn shared(&self, tenant: KeyValue) -> Result<(), MigrateError> {
        self.record(tenant, Placement::Shared).await
    }

    /// A tenant in schema `schema` of the shared database: the schema
    /// created if it is not there, migrated, then recorded.
    pub async fn schema(
        &self,
        tenant: KeyValue,
        schema: &Identifier,
    ) -> Result<FleetReport, MigrateError> {
        let report = self.prepare_schema(schema).await?;
        self.record(tenant, Placement::Schema(schema.clone()))
            .await?;
        Ok(report)
    }

    /// A tenant in a database of its own, which exists (creating databases
    /// takes a server-level privilege this library does not ask for):
    /// migrated as its owner (`owner`), then recorded with `app`, the URL
    /// the application's router connects with.
    pub async fn database(
        &self,
        tenant: KeyValue,
        owner: PgConnectOptions,
        app: DatabaseUrl,
    ) -> Result<FleetReport, MigrateError> {
        let report = self.prepare_database(owner).await?;
        self.record(tenant, Placement::Database(app)).await?;
        Ok(report)
    }

    /// Schema `schema` of the shared database created if it is not there
    /// and migrated, with no directory entry: the target of a move
    /// ([`TenantMover`](crate::moves::TenantMover)), which switches the
    /// tenant's entry itself once the rows are there.
    pub async fn prepare_schema(&self, schema: &Identifier) -> Result<FleetReport, MigrateError> {
        let mut connection = self.owner.acquire().await?;
        let create = format!("CREATE SCHEMA IF NOT EXISTS {}", schema.quoted());
        execute_text::<Postgres>(&mut connection, create).await?;
        drop(connection);
        self.migrated(Target::schema(schema.as_str())?).await
    }

    /// The existing database `owner` connects to migrated as its owner,
    /// with no directory entry: the target of a move, like
    /// [`prepare_schema`](Self::prepare_schema).
    pub async fn prepare_database(
        &self,
        owner: PgConnectOptions,
    ) -> Result<FleetReport, MigrateError> {
        let label = owner.get_database().unwrap_or("tenant database").to_owned();
        self.migrated(Target::database(&label, owner, None)?).await
    }

    async fn migrated(&self, target: Target) -> Result<FleetReport, MigrateError> {
        let label = target.label().to_owned();
        let report = self.runner.up(&[target]).await?;
        if !report.succeeded() {
            return Err(Error::ProvisioningFailed {
                target: label,
                report: format!("{:?}", report.failed().collect::<Vec<_>>()),
            }
            .into());
        }
        Ok(report)
    }

    async fn record(&self, tenant: KeyValue, placement: Placement) -> Result<(), MigrateError> {
        Ok(self
            .directory
            .put(tenant, &TenantEntry::active(placement))
            .await?)
    }
}
