//! The provided directory: a `tenancy_tenants` table.

use sqlx::{AssertSqlSafe, PgPool, Row as _};
use tenancy_core::KeyValue;

use super::{DatabaseUrl, Placement, TenantDirectory, TenantEntry, TenantStatus};
use crate::Error;
use crate::ident::Identifier;
use crate::setting::key_literal;

/// A [`TenantDirectory`] on a `tenancy_tenants` table, one row per tenant:
/// its key (as text, so any key type fits), placement (`shared`, `schema`,
/// `database`), schema name or database URL, and status.
///
/// The table is global (no tenant column, no row-level security): create it
/// as the owner with [`create_statements`](Self::create_statements), which
/// grants the application role `SELECT` only, so the router reads it with
/// the application's own pool while only the owner (provisioning, moves,
/// erasure) changes it. Every row is validated when read; a row that the
/// table's checks let through but that does not validate (a schema name
/// that is not an identifier, say) is refused with
/// [`Error::InvalidDirectoryEntry`], never used.
///
/// ```no_run
/// # async fn run(owner: sqlx::PgPool, app: sqlx::PgPool) -> Result<(), tenancy_sqlx::Error> {
/// use tenancy_sqlx::directory::{Placement, TableDirectory, TenantEntry};
/// use tenancy_sqlx::{Identifier, KeyValue};
///
/// for statement in TableDirectory::create_statements(&Identifier::new("role", "app")?) {
///     sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&owner).await?;
/// }
/// let schema = Identifier::new("schema", "tenant_42")?;
/// TableDirectory::new(owner)
///     .put(KeyValue::I64(42), &TenantEntry::active(Placement::Schema(schema)))
///     .await?;
/// let reader = TableDirectory::new(app); // for the router
/// # let _ = reader;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TableDirectory {
    pool: PgPool,
}

/// The table's qualified name, in `public` like the registered tables: a
/// macro, so that the statements below are `&'static str`.
macro_rules! table {
    () => {
        r#""public"."tenancy_tenants""#
    };
}

/// The columns an entry is read from, in [`Row`]'s order.
macro_rules! select_entries {
    () => {
        concat!(
            "SELECT tenant_key, placement, schema_name, database_url, status FROM ",
            table!()
        )
    };
}

impl TableDirectory {
    /// The directory, read (and, for a role allowed to, written) through
    /// `pool`.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        TableDirectory { pool }
    }

    /// The DDL of the table (idempotent), granting `reader` `SELECT`, and
    /// of the journal of [moves](crate::moves), which only the owner reads.
    #[must_use]
    pub fn create_statements(reader: &Identifier) -> Vec<String> {
        vec![
            concat!(
                "CREATE TABLE IF NOT EXISTS ",
                table!(),
                " (\
                 tenant_key text PRIMARY KEY, \
                 placement text NOT NULL CHECK (placement IN ('shared', 'schema', 'database')), \
                 schema_name text, \
                 database_url text, \
                 status text NOT NULL DEFAULT 'active' \
                 CHECK (status IN ('active', 'suspended', 'moving', 'deleted')), \
                 updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(), \
                 CHECK ((placement = 'schema') = (schema_name IS NOT NULL)), \
                 CHECK ((placement = 'database') = (database_url IS NOT NULL)))"
            )
            .to_owned(),
            format!("GRANT SELECT ON {} TO {}", table!(), reader.quoted()),
            // The journal of moves between placements: the owner's alone.
            "CREATE TABLE IF NOT EXISTS \"public\".\"tenancy_moves\" (\
             tenant_key text PRIMARY KEY, \
             phase text NOT NULL CHECK (phase IN ('started', 'copied', 'switched')), \
             to_placement text NOT NULL CHECK (to_placement IN ('shared', 'schema', 'database')), \
             to_schema text, \
             to_database text, \
             started_at timestamptz NOT NULL DEFAULT pg_catalog.now())"
                .to_owned(),
        ]
    }

    /// Records `entry` for `tenant`, replacing what was there, in one
    /// statement: a router sees the old entry or the new one, never half.
    ///
    /// The statement runs in a transaction of its own, so that behind a
    /// transaction-mode pooler its prepare and its execution reach the same
    /// server connection (the database URL is bound, never written into the
    /// text).
    pub async fn put(&self, tenant: KeyValue, entry: &TenantEntry) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        Self::put_in(&mut transaction, tenant, entry).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// [`put`](Self::put) on `connection`, inside the caller's transaction.
    pub(crate) async fn put_in(
        connection: &mut sqlx::PgConnection,
        tenant: KeyValue,
        entry: &TenantEntry,
    ) -> Result<(), Error> {
        let (schema, database) = placement_columns(&entry.placement);
        sqlx::query(concat!(
            "INSERT INTO ",
            table!(),
            " (tenant_key, placement, schema_name, database_url, status) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_key) DO UPDATE SET placement = excluded.placement, \
             schema_name = excluded.schema_name, database_url = excluded.database_url, \
             status = excluded.status, updated_at = pg_catalog.now()"
        ))
        .bind(key_literal(tenant)?)
        .bind(entry.placement.kind())
        .bind(schema)
        .bind(database)
        .bind(entry.status.as_str())
        .execute(connection)
        .await?;
        Ok(())
    }

    /// The pool the directory reads and writes through.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Sets the status of `tenant`; [`Error::TenantNotFound`] if it has no
    /// entry.
    ///
    /// One simple query, with the key and the status as literals (see
    /// [`entry`](TenantDirectory::entry)), so that it works through a
    /// transaction-mode pooler too.
    pub async fn set_status(&self, tenant: KeyValue, status: TenantStatus) -> Result<(), Error> {
        let update = format!(
            concat!(
                "UPDATE ",
                table!(),
                " SET status = '{}', updated_at = pg_catalog.now() WHERE tenant_key = '{}'"
            ),
            status.as_str(),
            key_literal(tenant)?
        );
        let done = sqlx::raw_sql(AssertSqlSafe(update))
            .execute(&self.pool)
            .await?;
        match done.rows_affected() {
            0 => Err(Error::TenantNotFound { tenant }),
            _ => Ok(()),
        }
    }

    /// Every entry, by key text, in key order: for listings and fleet work.
    ///
    /// One simple query without parameters, as [`entry`](TenantDirectory::entry)
    /// is: no statement is prepared, so the listing works through a
    /// transaction-mode pooler, where a statement prepared outside a
    /// transaction may be missing on the server connection that executes it.
    pub async fn list(&self) -> Result<Vec<(String, TenantEntry)>, Error> {
        let rows = sqlx::raw_sql(concat!(select_entries!(), " ORDER BY tenant_key"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let row = row_of(row)?;
                Ok((row.0.clone(), entry_of(row)?))
            })
            .collect()
    }
}

type Row = (String, String, Option<String>, Option<String>, String);

/// The columns of [`select_entries!`] from a row of a simple query.
fn row_of(row: &sqlx::postgres::PgRow) -> Result<Row, Error> {
    Ok((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
    ))
}

/// The schema and database columns of `placement`.
pub(crate) fn placement_columns(placement: &Placement) -> (Option<&str>, Option<&str>) {
    match placement {
        Placement::Shared => (None, None),
        Placement::Schema(schema) => (Some(schema.as_str()), None),
        Placement::Database(url) => (None, Some(url.as_str())),
    }
}

fn entry_of((_, placement, schema, database, status): Row) -> Result<TenantEntry, Error> {
    Ok(TenantEntry {
        placement: placement_of(&placement, schema, database)?,
        status: TenantStatus::parse(&status).map_err(|error| Error::InvalidDirectoryEntry {
            reason: error.to_string(),
        })?,
    })
}

/// The placement stored as `kind` and its columns, validated.
pub(crate) fn placement_of(
    kind: &str,
    schema: Option<String>,
    database: Option<String>,
) -> Result<Placement, Error> {
    Ok(match (kind, schema, database) {
        ("shared", None, None) => Placement::Shared,
        ("schema", Some(schema), None) => Placement::Schema(Identifier::new("schema", &schema)?),
        ("database", None, Some(url)) => Placement::Database(DatabaseUrl::new(url)?),
        (kind, ..) => {
            return Err(Error::InvalidDirectoryEntry {
                reason: format!(
                    "placement {kind:?} with the wrong columns set (a schema placement needs \
                     schema_name only, a database placement database_url only)"
                ),
            });
        }
    })
}

impl TenantDirectory for TableDirectory {
    /// One simple query, with the key as a literal (digits, hex letters
    /// and `-` only: see `key_literal`): no prepared statement, so the read
    /// also works through a transaction-mode pooler, where a statement
    /// prepared outside a transaction may be missing on the server
    /// connection that executes it.
    async fn entry(&self, tenant: KeyValue) -> Result<Option<TenantEntry>, Error> {
        let select = format!(
            concat!(select_entries!(), " WHERE tenant_key = '{}'"),
            key_literal(tenant)?
        );
        let row = sqlx::raw_sql(AssertSqlSafe(select))
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => entry_of(row_of(&row)?).map(Some),
            None => Ok(None),
        }
    }
}
