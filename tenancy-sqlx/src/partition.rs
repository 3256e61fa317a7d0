//! A large tenant in its own partition: a registered tenant table turned
//! into a table LIST-partitioned by its tenant column, and a partition of
//! its own for one tenant.
//!
//! [`OwnerPool::partition_by_tenant`] rebuilds the table as a partitioned
//! table with its generated DDL (tenant-led keys and indexes, foreign keys
//! both ways) and a default partition, and moves every row, in one
//! transaction. [`OwnerPool::add_tenant_partition`] then gives one tenant
//! a partition of its own (`CREATE TABLE .. PARTITION OF .. FOR VALUES IN
//! (..)`) and moves its rows out of the default partition, in one
//! transaction too. Both hold an `ACCESS EXCLUSIVE` lock on the table
//! while they run (other statements on it wait), and both put row-level
//! security, forced, the policy and the grants on the parent and on every
//! partition they create: a statement that names a partition is checked
//! against the partition's policies, not the parent's.
//! [`audit::verify_tables`](crate::audit::verify_tables) checks every
//! partition.
//!
//! ```no_run
//! use tenancy_sqlx::ddl::TableSet;
//! use tenancy_sqlx::rls::RlsPolicy;
//! use tenancy_sqlx::{CrossTenant, OwnerPool, TenantId, tenant_scoped};
//!
//! #[tenant_scoped]
//! pub struct Order {
//!     pub tenant_id: i64,
//!     #[tenancy(primary_key, generated)]
//!     pub id: i64,
//!     pub status: String,
//! }
//!
//! # async fn run() -> Result<(), tenancy_sqlx::Error> {
//! let tables = TableSet::new().with::<Order>();
//! let policy = RlsPolicy::for_role("app")?;
//! let owner = OwnerPool::connect("postgres://owner@db/shop", CrossTenant::with_reason("partition orders")?).await?;
//! owner.partition_by_tenant::<Order>(&tables, &policy).await?; // orders, orders_default
//! let moved = owner
//!     .add_tenant_partition::<Order>(&tables, &policy, &TenantId::from_verified(42))
//!     .await?; // orders_tenant_42
//! # let _ = moved;
//! # Ok(()) }
//! ```

use sqlx::postgres::types::Oid;
use sqlx::{Connection, PgConnection};
use tenancy_core::ddl::{self, TableSet};
use tenancy_core::{KeyValue, TableMeta, TenantId, TenantScoped};

use crate::backend::Backend;
use crate::error::Error;
use crate::execute::execute_text;
use crate::ident::{Identifier, quote_catalog_name};
use crate::owner::OwnerPool;
use crate::rls::RlsPolicy;
use crate::setting::key_literal;
use sqlx::Postgres;

/// Why a table could not be partitioned, or a tenant's partition added.
/// Nothing was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PartitionError {
    /// The table does not exist.
    #[error("`{table}` does not exist: create it first (`OwnerPool::apply_schema`)")]
    TableMissing {
        /// The table.
        table: String,
    },
    /// `partition_by_tenant` on a table that is partitioned already.
    #[error(
        "`{table}` is partitioned already; add a tenant's partition with `add_tenant_partition`"
    )]
    AlreadyPartitioned {
        /// The table.
        table: String,
    },
    /// `add_tenant_partition` on a table that is not LIST-partitioned by
    /// its tenant column with a default partition.
    #[error(
        "`{table}` is not partitioned by its tenant column with a default partition ({found}): \
         run `partition_by_tenant` first"
    )]
    NotPartitionedByTenant {
        /// The table.
        table: String,
        /// What the catalog says.
        found: String,
    },
    /// The tenant has a partition already.
    #[error("`{partition}` exists already: the tenant has its own partition")]
    PartitionExists {
        /// The partition.
        partition: String,
    },
    /// The table has columns its struct does not declare; rebuilding it
    /// from the struct's DDL would lose them.
    #[error(
        "`{table}` differs from its struct in its columns ({columns}); partitioning rebuilds it \
         from the struct and would lose data: migrate it first"
    )]
    ColumnsDiffer {
        /// The table.
        table: String,
        /// The columns only one side has.
        columns: String,
    },
    /// Fewer or more rows arrived than left.
    #[error("moving the rows of `{table}` copied {copied} of {expected}: nothing was changed")]
    RowsLost {
        /// The table.
        table: String,
        /// Rows that left.
        expected: i64,
        /// Rows that arrived.
        copied: u64,
    },
}

impl OwnerPool<Postgres> {
    /// Turns the registered tenant table `T` into a table LIST-partitioned
    /// by its tenant column, keeping its rows, in one transaction: the
    /// table is rebuilt from its generated DDL (`PARTITION BY LIST
    /// (<tenant column>)`, keys and indexes led by the tenant column) with
    /// a default partition `<table>_default`, every row is copied into it,
    /// the old table dropped, foreign keys that referenced it are re-created
    /// against the new one, identity sequences continue where they were,
    /// and the RLS DDL of `policy` (enabled, forced, the policy, grants)
    /// is applied to the table and to the default partition.
    ///
    /// # Errors
    ///
    /// [`PartitionError`] when the table is missing, partitioned already or
    /// has columns its struct lacks; a database error otherwise. Either
    /// way nothing is changed.
    pub async fn partition_by_tenant<T: TenantScoped>(
        &self,
        tables: &TableSet,
        policy: &RlsPolicy,
    ) -> Result<(), Error> {
        let table = T::meta();
        let names = Names::of(table, tables)?;
        let mut connection = self.pool().acquire().await?;
        let mut tx = connection.begin().await?;
        let (oid, kind) = names.resolve(&mut tx).await?;
        let tag = oid.0;
        if kind == "p" {
            return Err(PartitionError::AlreadyPartitioned {
                table: names.display(),
            }
            .into());
        }
        self.partitioning(
            &mut tx,
            format!("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", names.table),
        )
        .await?;
        names.check_columns(&mut tx, oid).await?;
        let referencing = self.drop_referencing_keys(&mut tx, oid).await?;
        let sequences = self.sequences(&mut tx, &names).await?;

        // Free the old table's names for the new one, and let the owner
        // read every tenant's rows of it (it is dropped below).
        let old = format!("{}.\"tenancy_unpartitioned_{tag}\"", names.schema.quoted());
        let own: Vec<(String, String)> = sqlx::query_as(
            "SELECT conname::text, contype::text FROM pg_catalog.pg_constraint
             WHERE conrelid = $1 AND contype IN ('f', 'p', 'u', 'x') AND conparentid = 0
             ORDER BY contype = 'f' DESC, conname",
        )
        .bind(oid)
        .fetch_all(&mut *tx)
        .await?;
        for (constraint, _) in own {
            let sql = format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                names.table,
                quote_catalog_name(&constraint)
            );
            self.partitioning(&mut tx, sql).await?;
        }
        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT indexrelid::regclass::text FROM pg_catalog.pg_index WHERE indrelid = $1",
        )
        .bind(oid)
        .fetch_all(&mut *tx)
        .await?;
        for index in indexes {
            self.partitioning(&mut tx, format!("DROP INDEX {index}"))
                .await?;
        }
        for (column, _) in &sequences {
            let sql = format!(
                "ALTER TABLE {} ALTER COLUMN {} DROP IDENTITY",
                names.table,
                column.quoted()
            );
            self.partitioning(&mut tx, sql).await?;
        }
        self.partitioning(
            &mut tx,
            format!(
                "ALTER TABLE {} RENAME TO \"tenancy_unpartitioned_{tag}\"",
                names.table
            ),
        )
        .await?;
        self.partitioning(
            &mut tx,
            format!("ALTER TABLE {old} NO FORCE ROW LEVEL SECURITY"),
        )
        .await?;

        let mut create = ddl::create_table_in(table, Postgres::DIALECT, &names.schema)?;
        let mut statements = vec![format!(
            "{} PARTITION BY LIST ({})",
            create.remove(0),
            names.tenant.quoted()
        )];
        statements.push(format!(
            "CREATE TABLE {} PARTITION OF {} DEFAULT",
            names.default, names.table
        ));
        statements.extend(create);
        for statement in statements {
            self.partitioning(&mut tx, statement).await?;
        }
        let expected: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {old}")))
                .fetch_one(&mut *tx)
                .await?;
        let columns = names.column_list();
        let copied = self
            .partitioning_counted(
                &mut tx,
                format!(
                    "INSERT INTO {} ({columns}) SELECT {columns} FROM {old}",
                    names.table
                ),
            )
            .await?;
        if i64::try_from(copied).ok() != Some(expected) {
            return Err(PartitionError::RowsLost {
                table: names.display(),
                expected,
                copied,
            }
            .into());
        }
        for (column, last) in sequences {
            let Some(last) = last else { continue };
            let sql = format!(
                "SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('{}', '{}'), {last})",
                names.table.replace('\'', "''"),
                column.as_str()
            );
            self.partitioning(&mut tx, sql).await?;
        }
        self.partitioning(&mut tx, format!("DROP TABLE {old}"))
            .await?;
        for statement in policy.table_statements(tables, table)? {
            self.partitioning(&mut tx, statement).await?;
        }
        for statement in policy.partition_statements(table, &names.default, tables.setting())? {
            self.partitioning(&mut tx, statement).await?;
        }
        self.restore_referencing_keys(&mut tx, referencing).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives the tenant a partition of its own of the table `T`, which
    /// [`partition_by_tenant`](Self::partition_by_tenant) partitioned,
    /// in one transaction: `<table>_tenant_<key>` (a negative key as
    /// `n<digits>`, a UUID without hyphens) is created `PARTITION OF ..
    /// FOR VALUES IN (<key>)`, the tenant's rows are moved out of the
    /// default partition into it, and the RLS DDL of `policy` is applied
    /// to it. Returns how many rows moved.
    ///
    /// # Errors
    ///
    /// [`PartitionError`] when the table is not partitioned by its tenant
    /// column with a default partition, or the tenant has a partition
    /// already; [`Error::InvalidIdentifier`] when the partition's name
    /// would be longer than 63 bytes; a database error otherwise. Either
    /// way nothing is changed.
    pub async fn add_tenant_partition<T: TenantScoped>(
        &self,
        tables: &TableSet,
        policy: &RlsPolicy,
        tenant: &TenantId<T::Key>,
    ) -> Result<u64, Error> {
        let table = T::meta();
        let names = Names::of(table, tables)?;
        let key = tenant.key_value();
        let literal = format!("'{}'", key_literal(key)?);
        let partition = names.tenant_partition(key)?;
        let mut connection = self.pool().acquire().await?;
        let mut tx = connection.begin().await?;
        let (oid, _) = names.resolve(&mut tx).await?;
        let tag = oid.0;
        self.partitioning(
            &mut tx,
            format!("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", names.table),
        )
        .await?;
        names.check_partitioned(&mut tx, oid).await?;
        let exists: Option<Oid> = sqlx::query_scalar("SELECT pg_catalog.to_regclass($1)::oid")
            .bind(&partition)
            .fetch_one(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(PartitionError::PartitionExists { partition }.into());
        }
        let referencing = self.drop_referencing_keys(&mut tx, oid).await?;

        // The owner reads and deletes every tenant's rows of the default
        // partition only while it holds the table locked.
        let columns = names.column_list();
        let tenant_column = names.tenant.quoted();
        let default = &names.default;
        let moving = format!("\"tenancy_moving_{tag}\"");
        for statement in [
            format!("ALTER TABLE {default} NO FORCE ROW LEVEL SECURITY"),
            format!(
                "CREATE TEMPORARY TABLE {moving} ON COMMIT DROP AS \
                 SELECT {columns} FROM {default} WHERE {tenant_column} = {literal}"
            ),
        ] {
            self.partitioning(&mut tx, statement).await?;
        }
        let moved = self
            .partitioning_counted(
                &mut tx,
                format!("DELETE FROM {default} WHERE {tenant_column} = {literal}"),
            )
            .await?;
        self.partitioning(
            &mut tx,
            format!(
                "CREATE TABLE {partition} PARTITION OF {} FOR VALUES IN ({literal})",
                names.table
            ),
        )
        .await?;
        let copied = self
            .partitioning_counted(
                &mut tx,
                format!("INSERT INTO {partition} ({columns}) SELECT {columns} FROM {moving}"),
            )
            .await?;
        if copied != moved {
            return Err(PartitionError::RowsLost {
                table: names.display(),
                expected: i64::try_from(moved).unwrap_or(i64::MAX),
                copied,
            }
            .into());
        }
        self.partitioning(&mut tx, format!("DROP TABLE {moving}"))
            .await?;
        self.partitioning(
            &mut tx,
            format!("ALTER TABLE {default} FORCE ROW LEVEL SECURITY"),
        )
        .await?;
        for statement in policy.partition_statements(table, &partition, tables.setting())? {
            self.partitioning(&mut tx, statement).await?;
        }
        self.restore_referencing_keys(&mut tx, referencing).await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Runs one statement of the partitioning, logged as cross-tenant work.
    async fn partitioning(&self, tx: &mut PgConnection, statement: String) -> Result<(), Error> {
        tracing::info!(target: "tenancy::cross_tenant", reason = %self.reason(), %statement, "partitioning");
        execute_text::<Postgres>(tx, statement).await?;
        Ok(())
    }

    /// [`partitioning`](Self::partitioning), returning the rows the statement touched.
    async fn partitioning_counted(
        &self,
        tx: &mut PgConnection,
        statement: String,
    ) -> Result<u64, Error> {
        tracing::info!(target: "tenancy::cross_tenant", reason = %self.reason(), %statement, "partitioning");
        let done = sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await?;
        Ok(done.rows_affected())
    }

    /// Drops the foreign keys of other tables that reference `oid` (the
    /// rows they reference move), and returns them to be re-created.
    async fn drop_referencing_keys(
        &self,
        tx: &mut PgConnection,
        oid: Oid,
    ) -> Result<Vec<ForeignKey>, Error> {
        let keys: Vec<ForeignKey> = sqlx::query_as(
            "SELECT conrelid::regclass::text, conname::text, pg_catalog.pg_get_constraintdef(oid)
             FROM pg_catalog.pg_constraint
             WHERE contype = 'f' AND confrelid = $1 AND conrelid <> $1 AND conparentid = 0
             ORDER BY 1, 2",
        )
        .bind(oid)
        .fetch_all(&mut *tx)
        .await?;
        for (table, name, _) in &keys {
            let sql = format!(
                "ALTER TABLE {table} DROP CONSTRAINT {}",
                quote_catalog_name(name)
            );
            self.partitioning(tx, sql).await?;
        }
        Ok(keys)
    }

    /// Re-creates the foreign keys [`drop_referencing_keys`] dropped; each
    /// is checked against the moved rows again.
    async fn restore_referencing_keys(
        &self,
        tx: &mut PgConnection,
        keys: Vec<ForeignKey>,
    ) -> Result<(), Error> {
        for (table, name, definition) in keys {
            let sql = format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} {definition}",
                quote_catalog_name(&name)
            );
            self.partitioning(tx, sql).await?;
        }
        Ok(())
    }

    /// The identity columns of the table, with the last value their
    /// sequence gave (`None`: never used).
    async fn sequences(
        &self,
        tx: &mut PgConnection,
        names: &Names,
    ) -> Result<Vec<(Identifier, Option<i64>)>, Error> {
        let mut sequences = Vec::new();
        for column in names.meta.columns.iter().filter(|column| column.generated) {
            let last: Option<i64> = sqlx::query_scalar(
                "SELECT pg_catalog.pg_sequence_last_value(pg_catalog.pg_get_serial_sequence($1, $2)::regclass)",
            )
            .bind(&names.table)
            .bind(column.name)
            .fetch_one(&mut *tx)
            .await?;
            sequences.push((Identifier::new("column", column.name)?, last));
        }
        Ok(sequences)
    }
}

/// A foreign key of another table: its table (as `regclass` text), name
/// and definition.
type ForeignKey = (String, String, String);

/// The names a partitioning works with, validated.
struct Names {
    meta: &'static TableMeta,
    schema: Identifier,
    name: Identifier,
    tenant: Identifier,
    /// `"schema"."table"`.
    table: String,
    /// `"schema"."table_default"`.
    default: String,
}

impl Names {
    fn of(meta: &'static TableMeta, tables: &TableSet) -> Result<Self, Error> {
        let schema = match meta.schema {
            Some(schema) => Identifier::new("schema", schema)?,
            None => tables.schema(Postgres::DIALECT).clone(),
        };
        let name = Identifier::new("table", meta.name)?;
        let tenant = match meta.tenant {
            Some(tenant) => Identifier::new("column", tenant.name)?,
            None => {
                return Err(Error::InvalidManifest {
                    reason: format!("`{}` is not tenant-scoped", meta.name),
                });
            }
        };
        let default = Identifier::new("partition", &format!("{}_default", meta.name))?;
        Ok(Names {
            meta,
            table: format!("{}.{}", schema.quoted(), name.quoted()),
            default: format!("{}.{}", schema.quoted(), default.quoted()),
            schema,
            name,
            tenant,
        })
    }

    fn display(&self) -> String {
        format!("{}.{}", self.schema.as_str(), self.name.as_str())
    }

    /// `"schema"."table_tenant_<key>"`.
    fn tenant_partition(&self, key: KeyValue) -> Result<String, Error> {
        let text = key_literal(key)?;
        let text = match text.strip_prefix('-') {
            Some(digits) => format!("n{digits}"),
            None => text.replace('-', ""),
        };
        let name = Identifier::new(
            "partition",
            &format!("{}_tenant_{text}", self.name.as_str()),
        )?;
        Ok(format!("{}.{}", self.schema.quoted(), name.quoted()))
    }

    /// `"tenant_id", "id", ..`: every registered column.
    fn column_list(&self) -> String {
        core::iter::once(self.tenant.quoted())
            .chain(
                self.meta
                    .columns
                    .iter()
                    .map(|column| quote_catalog_name(column.name)),
            )
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The table's `oid` and `relkind`.
    async fn resolve(&self, tx: &mut PgConnection) -> Result<(Oid, String), Error> {
        let found: Option<(Oid, String)> = sqlx::query_as(
            "SELECT c.oid, c.relkind::text FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
        )
        .bind(self.schema.as_str())
        .bind(self.name.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        found.ok_or_else(|| {
            PartitionError::TableMissing {
                table: self.display(),
            }
            .into()
        })
    }

    /// Refuses a table whose columns are not exactly the registered ones.
    async fn check_columns(&self, tx: &mut PgConnection, oid: Oid) -> Result<(), Error> {
        let live: Vec<String> = sqlx::query_scalar(
            "SELECT attname::text FROM pg_catalog.pg_attribute
             WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped",
        )
        .bind(oid)
        .fetch_all(&mut *tx)
        .await?;
        let registered: Vec<&str> = core::iter::once(self.tenant.as_str())
            .chain(self.meta.columns.iter().map(|column| column.name))
            .collect();
        let mut differ: Vec<String> = live
            .iter()
            .filter(|column| !registered.contains(&column.as_str()))
            .map(|column| format!("`{column}` is not declared"))
            .collect();
        differ.extend(
            registered
                .iter()
                .filter(|column| !live.iter().any(|live| live == *column))
                .map(|column| format!("`{column}` is missing")),
        );
        if differ.is_empty() {
            return Ok(());
        }
        Err(PartitionError::ColumnsDiffer {
            table: self.display(),
            columns: differ.join(", "),
        }
        .into())
    }

    /// Refuses a table that is not LIST-partitioned by the tenant column
    /// with the default partition this module names.
    async fn check_partitioned(&self, tx: &mut PgConnection, oid: Oid) -> Result<(), Error> {
        let key: Option<String> = sqlx::query_scalar("SELECT pg_catalog.pg_get_partkeydef($1)")
            .bind(oid)
            .fetch_one(&mut *tx)
            .await?;
        let default: Option<String> = sqlx::query_scalar(
            "SELECT c.oid::regclass::text FROM pg_catalog.pg_inherits i
             JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = $1 AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'",
        )
        .bind(oid)
        .fetch_optional(&mut *tx)
        .await?;
        let expected_key = format!("LIST ({})", self.tenant.as_str());
        let expected_default: Option<String> =
            sqlx::query_scalar("SELECT pg_catalog.to_regclass($1)::text")
                .bind(&self.default)
                .fetch_one(&mut *tx)
                .await?;
        if key.as_deref() == Some(expected_key.as_str())
            && default.is_some()
            && default == expected_default
        {
            return Ok(());
        }
        Err(PartitionError::NotPartitionedByTenant {
            table: self.display(),
            found: format!(
                "partition key {}, default partition {}",
                key.as_deref().unwrap_or("none"),
                default.as_deref().unwrap_or("none")
            ),
        }
        .into())
    }
}
