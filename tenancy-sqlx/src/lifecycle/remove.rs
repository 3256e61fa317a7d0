//! Removing a tenant wherever the directory places it: the erasure of its
//! rows (verified, certified), then its own schema or database dropped, and
//! its directory entry left as `deleted` so that no router serves it again.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tenancy_core::{Dialect, TenantId, TenantKey};

use super::certificate::Certificate;
use super::erase::Erasure;
use super::error::LifecycleError;
use super::plan::ErasureOptions;
use super::records::{self, DELETION_CERTIFICATES};
use crate::directory::{Placement, TableDirectory, TenantDirectory, TenantStatus, same_server};
use crate::ident::Identifier;
use crate::setting::key_literal;
use crate::{CrossTenant, Error, OwnerPool, Postgres};

/// What removing a tenant did.
///
/// *Available with the `lifecycle` feature.*
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Removal {
    /// The erasure of the tenant's rows, with its certificate.
    pub erasure: Erasure,
    /// The tenant's own schema or database, dropped after the certificate
    /// was stored; `None` for a tenant of the shared tables.
    pub dropped: Option<Placement>,
}

impl OwnerPool<Postgres> {
    /// Removes `tenant` wherever `directory` places it. This pool is the
    /// owner of the shared database, where the directory and the records
    /// are.
    ///
    /// 1. The entry becomes [`TenantStatus::Deleted`] first, so routers stop
    ///    opening the tenant's transactions (after their placement lifetime)
    ///    while its rows go.
    /// 2. Its rows are erased as by [`erase_tenant`](Self::erase_tenant),
    ///    verified and certified: in this database for the shared tables and
    ///    a schema of its own; in its own database for that placement, as
    ///    this pool's role (its password too) at the directory URL's host,
    ///    port and database — this pool's own server or one of the options'
    ///    [`trusted_servers`](ErasureOptions::trusted_servers), any other
    ///    refused first ([`Error::UntrustedDatabaseServer`]),
    ///    the certificate then also kept in this database's append-only
    ///    `tenant_deletion_certificates` (the one in the tenant's database
    ///    goes with it).
    /// 3. A schema of its own is dropped (`DROP SCHEMA .. CASCADE`: with the
    ///    tables that have no tenant column too), a database of its own
    ///    dropped (`DROP DATABASE .. WITH (FORCE)`, which its owner may do),
    ///    and each checked to be gone.
    ///
    /// Refused before anything changes, with
    /// [`LifecycleError::RemovalRefused`], when the schema or database is not
    /// the tenant's alone: another entry names it, or it is the shared
    /// tables' schema, the records' schema, a system schema or the shared
    /// database. A removal that fails part-way can be run again: the entry
    /// stays `deleted`, the erasure resumes, and dropping what is already
    /// gone is skipped.
    ///
    /// *Available with the `lifecycle` feature.*
    pub async fn remove_tenant<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
        directory: &TableDirectory,
        options: &ErasureOptions,
    ) -> Result<Removal, Error> {
        let key = tenant.key_value();
        let entry = directory
            .entry(key)
            .await?
            .ok_or(Error::TenantNotFound { tenant: key })?;
        let key_text = key_literal(key)?;
        let others: Vec<Placement> = directory
            .list()
            .await?
            .into_iter()
            .filter(|(other, _)| *other != key_text)
            .map(|(_, entry)| entry.placement)
            .collect();
        let refused = |reason: String| -> Error {
            LifecycleError::RemovalRefused {
                tenant: key_text.clone(),
                reason,
            }
            .into()
        };
        let database = match &entry.placement {
            Placement::Shared => None,
            Placement::Schema(schema) => {
                if let Some(reason) = shared_schema(schema, options, &others) {
                    return Err(refused(reason));
                }
                None
            }
            Placement::Database(url) => {
                let target = options
                    .trusted_servers
                    .as_role_at(&self.pool().connect_options(), &url.connect_options()?)?;
                if let Some(reason) = self.shared_database(&target, &others)? {
                    return Err(refused(reason));
                }
                Some(target)
            }
        };
        directory.set_status(key, TenantStatus::Deleted).await?;
        let erasure = match &database {
            None => self.erase_tenant(tenant, options).await?,
            Some(target) => {
                let erasure = self.erase_in(target, tenant, options).await?;
                self.keep_certificate(options, &erasure.certificate).await?;
                erasure
            }
        };
        let dropped = match (&entry.placement, &database) {
            (Placement::Shared, _) => None,
            (Placement::Schema(schema), _) => {
                if !self.drop_schema(schema).await? {
                    return Err(refused(format!(
                        "schema {} is still there after DROP SCHEMA",
                        schema.as_str()
                    )));
                }
                Some(entry.placement.clone())
            }
            (Placement::Database(_), Some(target)) => {
                if !drop_database(target).await? {
                    return Err(refused(format!(
                        "database {} is still there after DROP DATABASE",
                        target.get_database().unwrap_or_default()
                    )));
                }
                Some(entry.placement.clone())
            }
            (Placement::Database(_), None) => None,
        };
        tracing::info!(target: "tenancy::erasure", tenant = %key_text, placement = entry.placement.kind(), "tenant removed");
        Ok(Removal { erasure, dropped })
    }

    /// Why `target` is not a tenant's own database, if it is not.
    fn shared_database(
        &self,
        target: &PgConnectOptions,
        others: &[Placement],
    ) -> Result<Option<String>, Error> {
        let shared = self.pool().connect_options();
        if same_database(target, &shared) {
            return Ok(Some(format!(
                "its database {:?} is the shared database",
                target.get_database().unwrap_or_default()
            )));
        }
        for other in others {
            if let Placement::Database(url) = other
                && same_database(target, &url.connect_options()?)
            {
                return Ok(Some(format!(
                    "its database {:?} is another tenant's too",
                    target.get_database().unwrap_or_default()
                )));
            }
        }
        Ok(None)
    }

    /// Erases the tenant's rows in its own database, as this pool's role.
    async fn erase_in<K: TenantKey>(
        &self,
        target: &PgConnectOptions,
        tenant: &TenantId<K>,
        options: &ErasureOptions,
    ) -> Result<Erasure, Error> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(target.clone())
            .await?;
        let owner = OwnerPool::from_pool(pool.clone(), CrossTenant::with_reason(self.reason())?);
        let erasure = owner.erase_tenant(tenant, options).await;
        pool.close().await;
        erasure
    }

    /// Stores a certificate from a tenant's database in this database's
    /// records, under a job id of this database's.
    async fn keep_certificate(
        &self,
        options: &ErasureOptions,
        certificate: &Certificate,
    ) -> Result<(), Error> {
        let mut connection = self.pool().acquire().await?;
        records::install(&mut connection, &options.records_schema, None).await?;
        let sql = format!(
            "INSERT INTO {} (job_id, tenant, certificate, sha256) \
             VALUES (nextval('{}.\"tenant_deletion_job_ids\"'), $1, $2, $3)",
            records::table(&options.records_schema, DELETION_CERTIFICATES),
            options.records_schema.quoted().replace('\'', "''"),
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&certificate.content.tenant)
            .bind(certificate.to_json().map_err(LifecycleError::from)?)
            .bind(&certificate.sha256)
            .execute(&mut *connection)
            .await?;
        Ok(())
    }

    /// Drops `schema` and its objects; whether it is gone.
    async fn drop_schema(&self, schema: &Identifier) -> Result<bool, Error> {
        let mut connection = self.pool().acquire().await?;
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.quoted());
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut *connection)
            .await?;
        let left: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
                .bind(schema.as_str())
                .fetch_one(&mut *connection)
                .await?;
        Ok(!left)
    }
}

/// Why `schema` is not a tenant's own schema, if it is not.
fn shared_schema(
    schema: &Identifier,
    options: &ErasureOptions,
    others: &[Placement],
) -> Option<String> {
    let name = schema.as_str();
    if name == options.tables.schema(Dialect::Postgres).as_str() {
        return Some(format!("its schema {name} holds the shared tables"));
    }
    if name == options.records_schema.as_str() {
        return Some(format!("its schema {name} holds the erasure records"));
    }
    if name == "public" || name == "information_schema" || name.starts_with("pg_") {
        return Some(format!("its schema {name} is not a tenant schema"));
    }
    if others
        .iter()
        .any(|other| matches!(other, Placement::Schema(theirs) if theirs == schema))
    {
        return Some(format!("its schema {name} is another tenant's too"));
    }
    None
}

/// Whether two connections reach the same database of the same server.
fn same_database(one: &PgConnectOptions, other: &PgConnectOptions) -> bool {
    same_server(one, other) && one.get_database() == other.get_database()
}

/// Drops a tenant's database from its server's `postgres` database, as its
/// owner; whether it is gone.
async fn drop_database(target: &PgConnectOptions) -> Result<bool, Error> {
    let Some(name) = target.get_database() else {
        return Ok(false);
    };
    let quoted = Identifier::new("database", name)?.quoted();
    let mut server = PgConnection::connect_with(&target.clone().database("postgres")).await?;
    let dropped = sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"
    )))
    .execute(&mut server)
    .await;
    let left: Result<bool, sqlx::Error> =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut server)
            .await;
    let _ = server.close().await;
    dropped?;
    Ok(!left?)
}
