//! Citus: the registered tables distributed by their tenant column, and a
//! large tenant moved out of its neighbours' way.
//!
//! On a Citus coordinator [`OwnerPool::apply_schema`](crate::OwnerPool::apply_schema)
//! runs, after the tables and their policies, what
//! [`Distribution::statements`] generates:
//!
//! - every tenant-scoped table `create_distributed_table(.., '<tenant
//!   column>')`, all in one colocation group, so that a tenant's rows of
//!   every table live on one worker and a statement that names one tenant
//!   (every statement of the builder does) runs on that worker alone;
//! - every global table `create_reference_table`, a copy on every worker,
//!   so that joins and foreign keys from tenant tables to it stay local;
//! - the tenants table, if [`Distribution::tenants_table`] names one,
//!   distributed by its own key in the same group: the tenant's own row
//!   lives with its data;
//! - `ALTER DATABASE .. SET citus.propagate_set_commands = 'local'`: the
//!   coordinator passes the transaction's `SET LOCAL` of the tenant on to
//!   the workers, whose shards carry the policies. Without it the policies
//!   on the workers see no tenant and show no row; a
//!   [`TenantPool`](crate::TenantPool) refuses such a coordinator at
//!   connect ([`Error::CitusSetCommandsNotPropagated`]).
//!
//! Each statement does nothing when its table is already distributed, so
//! the whole set can be applied on every deploy. The keys the library
//! generates are what Citus requires: every primary key, unique key and
//! foreign key of a tenant table leads with the tenant column, and
//! identity columns are `BIGINT`.
//!
//! [`isolate_tenant`] gives one tenant ([`TenantShard`]) shards of its own
//! (`isolate_tenant_to_new_shard`), and [`move_tenant`] moves them to
//! another worker (`citus_move_shard_placement`): a noisy neighbour gets a
//! machine to itself without any change to the application.

use sqlx::PgConnection;
use tenancy_core::ddl::TableSet;
use tenancy_core::{SqlType, TableMeta, TenantKey};

use crate::Error;
use crate::ident::{Identifier, quoted_table};

/// The Citus setting that makes `SET LOCAL` reach the workers, and the value
/// a tenant pool requires.
pub const SET_COMMANDS_SETTING: (&str, &str) = ("citus.propagate_set_commands", "local");

/// How the registered tables are laid out on a Citus cluster.
#[derive(Debug, Clone, Copy, Default)]
pub struct Distribution {
    tenants: Option<&'static TableMeta>,
}

impl Distribution {
    /// Distributes the global table `table` by its key, colocated with the
    /// tenant tables, instead of copying it to every worker: for the table
    /// of the tenants themselves, whose key is the tenant id. Its one
    /// primary-key column must have the tenant column's type, and no global
    /// table may reference it (Citus refuses a foreign key from a reference
    /// table to a distributed one).
    #[must_use]
    pub fn tenants_table(mut self, table: &'static TableMeta) -> Self {
        self.tenants = Some(table);
        self
    }

    /// The statements that distribute `tables` (see the [module
    /// documentation](self)), each a no-op where it is already done.
    ///
    /// # Errors
    ///
    /// [`Error::CitusLayout`] if the tenants table is not a global table of
    /// the set with one key column of the tenant key's type, or another
    /// global table references it; the set's own validation errors.
    pub fn statements(&self, tables: &TableSet) -> Result<Vec<String>, Error> {
        let tables = tables.tables()?;
        self.validate(tables)?;
        let mut anchor: Option<String> = None;
        let mut statements = Vec::new();
        let tenants = self.tenants.map(|tenants| (tenants, tenants_key(tenants)));
        // The tenants table first: it anchors the colocation group.
        let mut ordered: Vec<(&'static TableMeta, Option<&'static str>)> = Vec::new();
        if let Some((table, key)) = tenants {
            ordered.push((table, Some(key?)));
        }
        for table in tables {
            if self.is_tenants(table) {
                continue;
            }
            ordered.push((table, table.tenant.map(|tenant| tenant.name)));
        }
        // Reference tables before distributed ones: those reference them.
        ordered.sort_by_key(|(_, column)| column.is_some());
        for (table, column) in ordered {
            let name = quoted_table(table.schema, table.name)?;
            // A table with a foreign key to a reference table becomes a
            // Citus local table when that one is created: distribute it
            // still (`h` is hash-distributed, `t` replicated to every node).
            let (kind, create) = match column {
                None => (
                    "partmethod = 'n' AND repmodel = 't'",
                    format!("PERFORM create_reference_table('{name}')"),
                ),
                Some(column) => {
                    let column = Identifier::new("column", column)?;
                    let colocate = anchor.clone().unwrap_or_else(|| "none".to_owned());
                    anchor.get_or_insert_with(|| name.clone());
                    (
                        "partmethod = 'h'",
                        format!(
                            "PERFORM create_distributed_table('{name}', '{}', colocate_with => '{colocate}')",
                            column.as_str()
                        ),
                    )
                }
            };
            // Identifiers are validated: no quote can occur in them.
            statements.push(format!(
                "DO $tenancy$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition \
                 WHERE logicalrelid = '{name}'::regclass AND {kind}) THEN {create}; END IF; END $tenancy$"
            ));
        }
        statements.push(format!(
            "DO $tenancy$ BEGIN EXECUTE format('ALTER DATABASE %I SET {} = %L', \
             current_database(), '{}'); END $tenancy$",
            SET_COMMANDS_SETTING.0, SET_COMMANDS_SETTING.1
        ));
        Ok(statements)
    }

    fn is_tenants(&self, table: &TableMeta) -> bool {
        self.tenants
            .is_some_and(|tenants| core::ptr::eq(tenants, table))
    }

    fn validate(&self, tables: &[&'static TableMeta]) -> Result<(), Error> {
        let Some(tenants) = self.tenants else {
            return Ok(());
        };
        let layout = |reason: String| Error::CitusLayout {
            table: tenants.qualified_name(),
            reason,
        };
        if tenants.is_scoped() || !tables.iter().any(|table| core::ptr::eq(*table, tenants)) {
            return Err(layout(
                "the tenants table must be a global table of the registered set".to_owned(),
            ));
        }
        let key_type = tenants
            .columns
            .iter()
            .find(|column| column.primary_key)
            .map(|column| column.sql_type);
        let tenant_type = tables
            .iter()
            .find_map(|table| table.tenant)
            .map(|tenant| tenant.sql_type);
        if let (Some(key), Some(tenant)) = (key_type, tenant_type)
            && key != tenant
        {
            return Err(layout(format!(
                "its key is {key:?} but the tenant columns are {tenant:?}: they must match to be colocated"
            )));
        }
        tenants_key(tenants)?;
        for table in tables.iter().filter(|table| !table.is_scoped()) {
            let references_tenants = table.columns.iter().any(|column| {
                column
                    .references
                    .is_some_and(|target| core::ptr::eq(target(), tenants))
            });
            if references_tenants {
                return Err(layout(format!(
                    "global table `{}` references it, and Citus refuses a foreign key from a \
                     reference table to a distributed one: make `{}` tenant-scoped or keep the \
                     tenants table global",
                    table.qualified_name(),
                    table.qualified_name()
                )));
            }
        }
        Ok(())
    }
}

/// The one primary-key column of the tenants table.
fn tenants_key(table: &'static TableMeta) -> Result<&'static str, Error> {
    let mut keys = table.columns.iter().filter(|column| column.primary_key);
    match (keys.next(), keys.next()) {
        (Some(key), None)
            if matches!(
                key.sql_type,
                SqlType::BigInt | SqlType::Integer | SqlType::Uuid
            ) =>
        {
            Ok(key.name)
        }
        _ => Err(Error::CitusLayout {
            table: table.qualified_name(),
            reason:
                "the tenants table needs exactly one primary-key column, BIGINT, INTEGER or UUID"
                    .to_owned(),
        }),
    }
}

/// Whether `connection` is to a Citus coordinator: the database has the
/// Citus extension and this node holds the cluster's metadata.
pub async fn is_coordinator(connection: &mut PgConnection) -> Result<bool, Error> {
    let installed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus')",
    )
    .fetch_one(&mut *connection)
    .await?;
    if !installed {
        return Ok(false);
    }
    Ok(sqlx::query_scalar("SELECT citus_is_coordinator()")
        .fetch_one(&mut *connection)
        .await?)
}

/// Where a shard lives: its id and its worker.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardPlacement {
    /// The shard's id (`pg_dist_shard.shardid`).
    pub shard_id: i64,
    /// The worker's host name, as the coordinator knows it.
    pub host: String,
    /// The worker's port.
    pub port: i32,
    /// Whether the shard holds this one tenant only.
    pub isolated: bool,
}

/// One tenant's rows of one distributed table: what [`isolate_tenant`] and
/// [`move_tenant`] act on (with every table colocated with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantShard {
    /// The table, quoted and schema-qualified where it has a schema.
    table: String,
    /// The tenant key's text; Citus converts it to the column's type.
    tenant: String,
}

impl TenantShard {
    /// `tenant`'s rows of the registered table `table`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidIdentifier`](crate::Error) if the table's name is not
    /// a valid identifier.
    pub fn of<K: TenantKey>(table: &TableMeta, tenant: K) -> Result<Self, Error> {
        Ok(TenantShard {
            table: quoted_table(table.schema, table.name)?,
            tenant: tenant.to_string(),
        })
    }

    /// The tenant whose key is `tenant` (its text, as in the tenant column)
    /// in the table `schema.table` (`None`: the `search_path`'s), for
    /// tools that have no Rust type of the table, like the command line.
    ///
    /// # Errors
    ///
    /// An error if a name is not a valid identifier. A key that is not of
    /// the tenant column's type is refused by the server when used.
    pub fn named(schema: Option<&str>, table: &str, tenant: &str) -> Result<Self, Error> {
        Ok(TenantShard {
            table: quoted_table(schema, table)?,
            tenant: tenant.trim().to_owned(),
        })
    }
}

/// The shard that holds the tenant's rows of the table, and its worker.
///
/// # Errors
///
/// [`Error::Database`] if the table is not distributed, the key is not of
/// the column's type, or the lookup fails.
pub async fn tenant_placement(
    connection: &mut PgConnection,
    shard: &TenantShard,
) -> Result<ShardPlacement, Error> {
    let (shard_id, host, port, isolated): (i64, String, i32, bool) = sqlx::query_as(
        "SELECT s.shardid, n.nodename::text, n.nodeport, d.shardminvalue = d.shardmaxvalue \
         FROM (SELECT get_shard_id_for_distribution_column($1::regclass, $2) AS shardid) s \
         JOIN pg_catalog.pg_dist_shard d ON d.shardid = s.shardid \
         JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid \
         JOIN pg_catalog.pg_dist_node n ON n.groupid = p.groupid",
    )
    .bind(&shard.table)
    .bind(&shard.tenant)
    .fetch_one(&mut *connection)
    .await?;
    Ok(ShardPlacement {
        shard_id,
        host,
        port,
        isolated,
    })
}

/// Gives the tenant shards of its own in the table's colocation group
/// (`isolate_tenant_to_new_shard(.., 'CASCADE')`, so every colocated table
/// follows), and returns the new placement of the table's shard. Writes to
/// the rows being copied wait (`block_writes`); reads continue. Doing it
/// again for the same tenant changes nothing.
///
/// # Errors
///
/// [`Error::Database`] if Citus refuses, e.g. because the table is not a
/// distributed table or the role may not move shards.
pub async fn isolate_tenant(
    connection: &mut PgConnection,
    shard: &TenantShard,
) -> Result<ShardPlacement, Error> {
    let current = tenant_placement(connection, shard).await?;
    if !current.isolated {
        sqlx::query(
            "SELECT isolate_tenant_to_new_shard($1::regclass, $2, 'CASCADE', \
             shard_transfer_mode => 'block_writes')",
        )
        .bind(&shard.table)
        .bind(&shard.tenant)
        .execute(&mut *connection)
        .await?;
    }
    tenant_placement(connection, shard).await
}

/// Moves the shards that hold the tenant's rows (of the table and every
/// table colocated with it) to the worker at `host`:`port`, and returns the
/// new placement of the table's shard. Writes wait while the rows are
/// copied. A move to the worker that already holds them changes nothing.
/// Isolate the tenant first, or its neighbours in the shard move with it.
///
/// # Errors
///
/// [`Error::Database`] if Citus refuses, e.g. the target is not a worker.
pub async fn move_tenant(
    connection: &mut PgConnection,
    shard: &TenantShard,
    host: &str,
    port: i32,
) -> Result<ShardPlacement, Error> {
    let current = tenant_placement(connection, shard).await?;
    if current.host != host || current.port != port {
        sqlx::query(
            "SELECT citus_move_shard_placement($1, $2, $3, $4, $5, \
             shard_transfer_mode => 'block_writes')",
        )
        .bind(current.shard_id)
        .bind(&current.host)
        .bind(current.port)
        .bind(host)
        .bind(port)
        .execute(&mut *connection)
        .await?;
    }
    tenant_placement(connection, shard).await
}
