//! Moving a tenant between placements: shared tables, its own schema, its
//! own database, in any direction.
//!
//! A move is journaled in `tenancy_moves` (next to the directory), one
//! phase at a time, so that running it again after a crash resumes it:
//!
//! 1. **started**: the tenant is marked `moving` in the directory, and the
//!    mover waits for routers' cached placements to expire, after which
//!    they refuse the tenant ([`Error::TenantUnavailable`]).
//! 2. **copied**: in one source transaction that holds `SHARE` locks on the
//!    tenant tables (so no write can land there until the move ends, and
//!    in-flight writers finish first, within the lock timeout), the
//!    tenant's rows are read from one snapshot and written to the target in
//!    one transaction; identity sequences in the target are moved past the
//!    copied ids.
//! 3. row counts and a checksum of every table are compared, source against
//!    target. A difference, or a writer that holds the source's tables past
//!    the lock timeout, fails the move cleanly: the target's copy is removed
//!    and the tenant is active again where it was, with every row.
//! 4. **switched**: the directory entry is switched to the target, active,
//!    in the same transaction as the journal.
//! 5. the source rows are removed, in the source transaction, which then
//!    commits and releases the locks; the journal entry is removed.
//!
//! With the `lifecycle` feature, the tenant's export audit records
//! (`tenancy.tenant_export_audit`, see
//! [`records_statements`](crate::lifecycle::records_statements)) follow it
//! when it moves to another database: once it is switched, they are copied
//! to the target's audit, oldest first, as they were (time, actor,
//! purpose, filter, counts, statements), and a record the target holds
//! already is not copied again. The source keeps its records, since the
//! audit is append-only for every role. A move whose records would have no
//! audit to go to is refused before anything changes.
//!
//! Every statement runs as the application role with the tenant pinned, and
//! names the tenant in its predicate as well, so the move can only read and
//! write the tenant's own rows, whatever the row-level security of either
//! place. The target must have been provisioned (its schema or database
//! created, migrated and given its policies) beforehand.

use std::time::Duration;

use sqlx::{AssertSqlSafe, PgPool, Postgres as Pg, Transaction};
use tenancy_core::KeyValue;
use tenancy_core::TableMeta;
use tenancy_core::ddl::TableSet;

use crate::backend::Internals;
use crate::directory::{
    Placement, TableDirectory, TenantDirectory, TenantEntry, TenantStatus, placement_columns,
    placement_of,
};
use crate::ident::Identifier;
use crate::pin::{Pin, TransactionSettings};
use crate::rls::policy_key_type;
use crate::setting::{SettingName, key_literal};
use crate::{Backend, Error, Postgres};

/// One end of a move: the placement, with pools of its database as the
/// application role (which copies the rows, under row-level security) and
/// as the owner (which moves identity sequences past the copied ids).
#[derive(Debug, Clone)]
pub struct Place {
    placement: Placement,
    app: PgPool,
    owner: PgPool,
}

impl Place {
    /// `placement`, reached through `app` and `owner`.
    #[must_use]
    pub fn new(placement: Placement, app: PgPool, owner: PgPool) -> Self {
        Place {
            placement,
            app,
            owner,
        }
    }

    /// The placement.
    #[must_use]
    pub fn placement(&self) -> &Placement {
        &self.placement
    }
}

/// How a move waits and locks.
#[derive(Debug, Clone)]
pub struct MoveOptions {
    settle: Duration,
    lock_timeout: Duration,
}

impl Default for MoveOptions {
    fn default() -> Self {
        MoveOptions {
            settle: Duration::from_millis(1100),
            lock_timeout: Duration::from_secs(5),
        }
    }
}

impl MoveOptions {
    /// Defaults: 1.1 s to settle (the router's default placement lifetime
    /// is 1 s) and 5 s to take the source's locks.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How long to wait after marking the tenant `moving` before copying:
    /// at least the routers' [placement lifetime](crate::RouterOptions::placement_ttl).
    #[must_use]
    pub fn settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// How long the copy waits for in-flight writers of the source tables
    /// (the longest writes are refused for); past it the move fails cleanly.
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }
}

/// What a move copied: per table, the rows and their checksum, which the
/// target matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveReport {
    /// `(table, rows, checksum)` in the registry's order.
    pub tables: Vec<(String, i64, String)>,
    /// The phase the move resumed from, if a journal entry was there.
    pub resumed: Option<String>,
}

/// Moves tenants between placements, recording each in the directory (see
/// the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct TenantMover {
    directory: TableDirectory,
    tables: Vec<&'static TableMeta>,
    default_schema: Identifier,
    setting: SettingName,
    options: MoveOptions,
}

/// Where the move stands, as the journal says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Started,
    Copied,
    Switched,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Started => "started",
            Phase::Copied => "copied",
            Phase::Switched => "switched",
        }
    }

    fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "started" => Ok(Phase::Started),
            "copied" => Ok(Phase::Copied),
            "switched" => Ok(Phase::Switched),
            other => Err(Error::InvalidDirectoryEntry {
                reason: format!("unknown move phase {other:?}"),
            }),
        }
    }
}

impl TenantMover {
    /// A mover of the tenant tables of `tables`, recording moves in
    /// `directory` (which must be able to write: the owner's pool).
    pub fn new(
        directory: TableDirectory,
        tables: &TableSet,
        options: MoveOptions,
    ) -> Result<Self, Error> {
        Ok(TenantMover {
            directory,
            tables: tables.scoped_tables()?.collect(),
            default_schema: tables.schema(Postgres::DIALECT).clone(),
            setting: tables.setting().clone(),
            options,
        })
    }

    /// Moves `tenant` from `from` to `to`, or resumes its interrupted move
    /// there. Refused unless the directory places the tenant at `from`
    /// (or, resuming, the journal names `to`).
    pub async fn move_tenant(
        &self,
        tenant: KeyValue,
        from: &Place,
        to: &Place,
    ) -> Result<MoveReport, Error> {
        let key = key_literal(tenant)?;
        #[cfg(feature = "lifecycle")]
        crate::lifecycle::check_export_audit_can_move(&from.owner, &to.owner, tenant).await?;
        let resumed = self.journal(&key).await?;
        let phase = match resumed {
            Some((phase, ref target)) => {
                if *target != to.placement {
                    return Err(Error::MoveRefused {
                        tenant,
                        reason: format!(
                            "an interrupted move to a {} placement is in the journal; resume it \
                             with that target",
                            target.kind()
                        ),
                    });
                }
                phase
            }
            None => {
                let entry = self
                    .directory
                    .entry(tenant)
                    .await?
                    .ok_or(Error::TenantNotFound { tenant })?;
                if entry != TenantEntry::active(from.placement.clone()) {
                    return Err(Error::MoveRefused {
                        tenant,
                        reason: format!(
                            "the directory has it {} in a {} placement, not active at the source",
                            entry.status,
                            entry.placement.kind()
                        ),
                    });
                }
                self.start(&key, tenant, to).await?;
                tokio::time::sleep(self.options.settle).await;
                Phase::Started
            }
        };
        let resumed = resumed.map(|(phase, _)| phase.as_str().to_owned());

        let mut source = self.pinned(&from.app, tenant).await?;
        let tables = match phase {
            Phase::Switched => Vec::new(),
            _ => match self
                .copy_verified(&mut source, &key, tenant, from, to, phase)
                .await
            {
                Ok(tables) => tables,
                Err(error) => {
                    // Nothing was switched: the tenant stays where it was,
                    // with every row, and is served again.
                    drop(source);
                    self.abandon(&key, tenant, from, to).await?;
                    return Err(error);
                }
            },
        };
        if phase != Phase::Switched {
            self.switch(&key, tenant, to).await?;
        }
        // Once switched, and again when a switched move resumes: the copy
        // adds only what the target lacks.
        #[cfg(feature = "lifecycle")]
        crate::lifecycle::carry_export_audit(&from.owner, &to.owner, tenant).await?;
        self.remove_rows(&mut source, &key, &from.placement).await?;
        source.commit().await?;
        self.finish(&key).await?;
        Ok(MoveReport { tables, resumed })
    }

    /// Locks the source tables, copies (unless an earlier run's copy still
    /// verifies), and verifies; returns what was verified.
    async fn copy_verified(
        &self,
        source: &mut Transaction<'static, Pg>,
        key: &str,
        tenant: KeyValue,
        from: &Place,
        to: &Place,
        mut phase: Phase,
    ) -> Result<Vec<(String, i64, String)>, Error> {
        for table in &self.tables {
            let name = self.qualified(table, &from.placement)?;
            sqlx::raw_sql(AssertSqlSafe(format!("LOCK TABLE {name} IN SHARE MODE")))
                .execute(&mut **source)
                .await?;
        }
        if phase == Phase::Copied && self.verify(source, tenant, from, to).await.is_err() {
            phase = Phase::Started;
        }
        if phase == Phase::Started {
            self.copy(source, tenant, from, to).await?;
            self.record(key, Phase::Copied).await?;
        }
        self.verify(source, tenant, from, to).await
    }

    /// A transaction on `pool` pinned to `tenant`, with the lock timeout,
    /// from the same pin the tenant transactions use.
    async fn pinned(
        &self,
        pool: &PgPool,
        tenant: KeyValue,
    ) -> Result<Transaction<'static, Pg>, Error> {
        let settings = TransactionSettings::new().lock_timeout(self.options.lock_timeout);
        let begin = Postgres::begin_statement(&Pin::new(&self.setting, tenant, &settings))?;
        Ok(pool.begin_with(AssertSqlSafe(begin)).await?)
    }

    /// Copies every table's rows of `tenant` from the source transaction to
    /// a new target transaction (after removing what an interrupted copy
    /// left there), then moves the target's identity sequences.
    async fn copy(
        &self,
        source: &mut Transaction<'static, Pg>,
        tenant: KeyValue,
        from: &Place,
        to: &Place,
    ) -> Result<(), Error> {
        let key = key_literal(tenant)?;
        let mut target = self.pinned(&to.app, tenant).await?;
        self.remove_rows(&mut target, &key, &to.placement).await?;
        let mut highest = Vec::new();
        for table in &self.tables {
            let source_name = self.qualified(table, &from.placement)?;
            let target_name = self.qualified(table, &to.placement)?;
            let filter = tenant_filter(table)?;
            let rows: sqlx::types::JsonValue = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT coalesce(jsonb_agg(to_jsonb(t)), '[]') FROM {source_name} t WHERE {filter}"
            )))
            .bind(&key)
            .fetch_one(&mut **source)
            .await?;
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {target_name} OVERRIDING SYSTEM VALUE \
                 SELECT * FROM jsonb_populate_recordset(NULL::{target_name}, $1)"
            )))
            .bind(&rows)
            .execute(&mut *target)
            .await?;
            for column in table.columns.iter().filter(|column| column.generated) {
                let column = Identifier::new("column", column.name)?;
                let max: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT max({c})::bigint FROM {source_name} WHERE {filter}",
                    c = column.quoted()
                )))
                .bind(&key)
                .fetch_one(&mut **source)
                .await?;
                if let Some(max) = max {
                    highest.push((target_name.clone(), column, max));
                }
            }
        }
        target.commit().await?;
        for (table, column, max) in highest {
            sqlx::query(
                "SELECT setval(s, GREATEST($3, coalesce(pg_sequence_last_value(s), 0), 1)) \
                 FROM (SELECT pg_get_serial_sequence($1, $2)::regclass AS s) AS seq \
                 WHERE s IS NOT NULL",
            )
            .bind(table)
            .bind(column.as_str())
            .bind(max)
            .execute(&to.owner)
            .await?;
        }
        Ok(())
    }

    /// Rows and checksum of every table, read in the source transaction and
    /// in a new transaction at the target; [`Error::MoveVerificationFailed`]
    /// names the first table that differs.
    async fn verify(
        &self,
        source: &mut Transaction<'static, Pg>,
        tenant: KeyValue,
        from: &Place,
        to: &Place,
    ) -> Result<Vec<(String, i64, String)>, Error> {
        let mut target = self.pinned(&to.app, tenant).await?;
        let mut tables = Vec::new();
        for table in &self.tables {
            let seen_at_source = checksum(
                source,
                &self.qualified(table, &from.placement)?,
                table,
                tenant,
            )
            .await?;
            let seen_at_target = checksum(
                &mut target,
                &self.qualified(table, &to.placement)?,
                table,
                tenant,
            )
            .await?;
            if seen_at_source != seen_at_target {
                return Err(Error::MoveVerificationFailed {
                    tenant,
                    table: table.name.to_owned(),
                    at_source: format!("{} rows, {}", seen_at_source.0, seen_at_source.1),
                    at_target: format!("{} rows, {}", seen_at_target.0, seen_at_target.1),
                });
            }
            tables.push((table.name.to_owned(), seen_at_source.0, seen_at_source.1));
        }
        target.rollback().await?;
        Ok(tables)
    }

    /// Removes the tenant's rows at `placement`, referencing tables first.
    async fn remove_rows(
        &self,
        transaction: &mut Transaction<'static, Pg>,
        key: &str,
        placement: &Placement,
    ) -> Result<(), Error> {
        for table in self.tables.iter().rev() {
            let name = self.qualified(table, placement)?;
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {name} WHERE {}",
                tenant_filter(table)?
            )))
            .bind(key)
            .execute(&mut **transaction)
            .await?;
        }
        Ok(())
    }

    /// `schema.table` of `table` at `placement`.
    fn qualified(&self, table: &TableMeta, placement: &Placement) -> Result<String, Error> {
        let schema = match (table.schema, placement) {
            (Some(declared), _) => Identifier::new("schema", declared)?,
            (None, Placement::Schema(schema)) => schema.clone(),
            (None, _) => self.default_schema.clone(),
        };
        Ok(format!(
            "{}.{}",
            schema.quoted(),
            Identifier::new("table", table.name)?.quoted()
        ))
    }

    async fn journal(&self, key: &str) -> Result<Option<(Phase, Placement)>, Error> {
        let row: Option<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT phase, to_placement, to_schema, to_database FROM public.tenancy_moves \
             WHERE tenant_key = $1",
        )
        .bind(key)
        .fetch_optional(self.directory.pool())
        .await?;
        let Some((phase, kind, schema, database)) = row else {
            return Ok(None);
        };
        let placement = placement_of(&kind, schema, database)?;
        Ok(Some((Phase::parse(&phase)?, placement)))
    }

    async fn start(&self, key: &str, tenant: KeyValue, to: &Place) -> Result<(), Error> {
        let (schema, database) = placement_columns(&to.placement);
        let mut tx = self.directory.pool().begin().await?;
        sqlx::query(
            "INSERT INTO public.tenancy_moves (tenant_key, phase, to_placement, to_schema, to_database) \
             VALUES ($1, 'started', $2, $3, $4)",
        )
        .bind(key)
        .bind(to.placement.kind())
        .bind(schema)
        .bind(database)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.directory
            .set_status(tenant, TenantStatus::Moving)
            .await
    }

    async fn record(&self, key: &str, phase: Phase) -> Result<(), Error> {
        sqlx::query("UPDATE public.tenancy_moves SET phase = $2 WHERE tenant_key = $1")
            .bind(key)
            .bind(phase.as_str())
            .execute(self.directory.pool())
            .await?;
        Ok(())
    }

    /// The directory entry and the journal, switched in one transaction.
    async fn switch(&self, key: &str, tenant: KeyValue, to: &Place) -> Result<(), Error> {
        let mut tx = self.directory.pool().begin().await?;
        TableDirectory::put_in(&mut tx, tenant, &TenantEntry::active(to.placement.clone())).await?;
        sqlx::query("UPDATE public.tenancy_moves SET phase = 'switched' WHERE tenant_key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// After a failed verification: the target's copy removed, the tenant
    /// active at the source again, the journal entry gone.
    async fn abandon(
        &self,
        key: &str,
        tenant: KeyValue,
        from: &Place,
        to: &Place,
    ) -> Result<(), Error> {
        let mut target = self.pinned(&to.app, tenant).await?;
        self.remove_rows(&mut target, key, &to.placement).await?;
        target.commit().await?;
        let mut tx = self.directory.pool().begin().await?;
        TableDirectory::put_in(
            &mut tx,
            tenant,
            &TenantEntry::active(from.placement.clone()),
        )
        .await?;
        sqlx::query("DELETE FROM public.tenancy_moves WHERE tenant_key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn finish(&self, key: &str) -> Result<(), Error> {
        sqlx::query("DELETE FROM public.tenancy_moves WHERE tenant_key = $1")
            .bind(key)
            .execute(self.directory.pool())
            .await?;
        Ok(())
    }
}

/// `(rows, md5 of the rows' text in order)` of the tenant's rows of `table`.
async fn checksum(
    connection: &mut sqlx::PgConnection,
    name: &str,
    table: &TableMeta,
    tenant: KeyValue,
) -> Result<(i64, String), Error> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') \
         FROM {name} t WHERE {}",
        tenant_filter(table)?
    )))
    .bind(key_literal(tenant)?)
    .fetch_one(connection)
    .await?)
}

/// `"tenant_id" = $1::text::bigint`: the tenant predicate of `table`, the
/// key bound as text and cast to the tenant column's type (the policies'
/// own cast).
fn tenant_filter(table: &TableMeta) -> Result<String, Error> {
    let tenant = table
        .tenant
        .as_ref()
        .ok_or_else(|| Error::InvalidDirectoryEntry {
            reason: format!("{} has no tenant column to move by", table.qualified_name()),
        })?;
    let key_type = policy_key_type(table, tenant.name, tenant.sql_type)?;
    Ok(format!(
        "{} = $1::text::{key_type}",
        Identifier::new("column", tenant.name)?.quoted()
    ))
}
