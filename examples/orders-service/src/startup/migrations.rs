//! What every tenant schema and database is migrated with, by the
//! library's fleet runner: first the tenant tables with their Row Level
//! Security, policies and grants (generated from the schema), then the
//! export audit made append-only there. One list, so that a tenant
//! provisioned today and one moved tomorrow get the same tables.

use tenancy_sqlx::Identifier;
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::migrate::{self, MigrateError, Migrations};
use tenancy_sqlx::rls::RlsPolicy;

use super::{StartupError, audit};
use crate::schema;

/// The migrations of a tenant place whose application role is `role`.
pub(super) fn tenant_migrations(role: &Identifier) -> Result<Migrations, StartupError> {
    let manifest = Manifest::new(
        &schema::tenant_tables(),
        &RlsPolicy::for_role(role.as_str())?,
    )?;
    let mut migrations = migrate::initial(&manifest, 1, "orders_tenant_tables")
        .map_err(invalid_migrations)?
        .migrations();
    migrations.extend(audit::append_only_migration(2, role)?);
    Migrations::from_list(migrations).map_err(invalid_migrations)
}

fn invalid_migrations(error: MigrateError) -> StartupError {
    StartupError::Database(tenancy_sqlx::Error::ProvisioningFailed {
        target: "the tenant tables' migration".to_owned(),
        report: error.to_string(),
    })
}
