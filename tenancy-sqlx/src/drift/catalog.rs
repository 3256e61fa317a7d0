//! What the catalog says about one existing table: its columns, keys and
//! indexes, read in three queries that any role may run.

use std::collections::HashMap;

use sqlx::postgres::types::Oid;
use sqlx::{Connection, PgConnection};

use crate::Error;

/// One column of the live table.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LiveColumn {
    pub(crate) name: String,
    pub(crate) type_oid: Oid,
    /// `format_type` with the modifier: `numeric(12,2)`, `character varying(20)`.
    pub(crate) type_name: String,
    pub(crate) not_null: bool,
    pub(crate) identity: bool,
    pub(crate) has_default: bool,
}

/// A primary key, unique or foreign key constraint.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LiveConstraint {
    pub(crate) name: String,
    /// `p`, `u` or `f`.
    pub(crate) kind: String,
    pub(crate) columns: Vec<String>,
    /// The referenced table of a foreign key.
    pub(crate) target: Option<Oid>,
    pub(crate) target_name: Option<String>,
    pub(crate) target_columns: Vec<String>,
}

/// An index of the live table.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LiveIndex {
    /// The index's name in its schema.
    pub(crate) name: String,
    /// Its `regclass` text, qualified and quoted where needed.
    pub(crate) qualified: String,
    pub(crate) unique: bool,
    pub(crate) primary: bool,
    pub(crate) valid: bool,
    /// A partial index, or one over expressions: never what the DDL makes.
    pub(crate) special: bool,
    /// The index behind a primary key or unique constraint.
    pub(crate) backs_constraint: bool,
    /// Key columns (not `INCLUDE`d ones), in order.
    pub(crate) columns: Vec<String>,
}

/// The structure of one live table.
#[derive(Debug, Clone)]
pub(crate) struct LiveTable {
    pub(crate) columns: Vec<LiveColumn>,
    pub(crate) constraints: Vec<LiveConstraint>,
    pub(crate) indexes: Vec<LiveIndex>,
}

impl LiveTable {
    pub(crate) async fn read(connection: &mut PgConnection, table: Oid) -> Result<Self, Error> {
        let columns = sqlx::query_as(
            "SELECT a.attname::text AS name, a.atttypid AS type_oid,
                    pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_name,
                    a.attnotnull AS not_null, a.attidentity <> '' AS identity,
                    a.atthasdef AS has_default
             FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum",
        )
        .bind(table)
        .fetch_all(&mut *connection)
        .await?;
        // A foreign key to a partitioned table has an internal copy per
        // partition it references (`conparentid` set): not a key of its own.
        let constraints = sqlx::query_as(
            "SELECT c.conname::text AS name, c.contype::text AS kind,
                    ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o)
                          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                          ORDER BY k.o) AS columns,
                    NULLIF(c.confrelid, 0) AS target,
                    CASE WHEN c.confrelid <> 0 THEN c.confrelid::regclass::text END AS target_name,
                    ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(n, o)
                          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                          ORDER BY k.o) AS target_columns
             FROM pg_catalog.pg_constraint c
             WHERE c.conrelid = $1 AND c.contype IN ('p', 'u', 'f') AND c.conparentid = 0
             ORDER BY c.conname",
        )
        .bind(table)
        .fetch_all(&mut *connection)
        .await?;
        let indexes = sqlx::query_as(
            "SELECT ic.relname::text AS name, i.indexrelid::regclass::text AS qualified,
                    i.indisunique AS unique, i.indisprimary AS primary, i.indisvalid AS valid,
                    (i.indpred IS NOT NULL OR i.indexprs IS NOT NULL) AS special,
                    EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
                            WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                              AND c.contype IN ('p', 'u')) AS backs_constraint,
                    ARRAY(SELECT a.attname::text
                          FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(n, o)
                          JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
                          ORDER BY k.o) AS columns
             FROM pg_catalog.pg_index i
             JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = $1
             ORDER BY ic.relname",
        )
        .bind(table)
        .fetch_all(&mut *connection)
        .await?;
        Ok(LiveTable {
            columns,
            constraints,
            indexes,
        })
    }

    pub(crate) fn column(&self, name: &str) -> Option<&LiveColumn> {
        self.columns.iter().find(|column| column.name == name)
    }

    pub(crate) fn constraints(&self, kind: &str) -> impl Iterator<Item = &LiveConstraint> {
        let kind = kind.to_owned();
        self.constraints
            .iter()
            .filter(move |constraint| constraint.kind == kind)
    }
}

/// The type each of `names` (as DDL writes them: `BIGINT`, `NUMERIC(12, 2)`,
/// a domain or enum) resolves to on this server, as `to_regtype` reads it;
/// `None` for a type that does not exist or does not parse.
///
/// `to_regtype` raises an error on text that does not parse as a type, so
/// the names are resolved inside a savepoint: in one query, and one by one
/// only when that query fails.
pub(crate) async fn resolve_types(
    connection: &mut PgConnection,
    names: &[String],
) -> Result<HashMap<String, Option<Oid>>, Error> {
    let mut resolved = HashMap::new();
    if names.is_empty() {
        return Ok(resolved);
    }
    let mut savepoint = connection.begin().await?;
    let all: Result<Vec<(String, Option<Oid>)>, sqlx::Error> = sqlx::query_as(
        "SELECT t.name, pg_catalog.to_regtype(t.name)::oid FROM unnest($1::text[]) AS t(name)",
    )
    .bind(names)
    .fetch_all(&mut *savepoint)
    .await;
    match all {
        Ok(rows) => {
            savepoint.commit().await?;
            resolved.extend(rows);
            return Ok(resolved);
        }
        Err(sqlx::Error::Database(_)) => savepoint.rollback().await?,
        Err(other) => return Err(other.into()),
    }
    for name in names {
        let mut savepoint = connection.begin().await?;
        let oid: Result<Option<Oid>, sqlx::Error> =
            sqlx::query_scalar("SELECT pg_catalog.to_regtype($1)::oid")
                .bind(name)
                .fetch_one(&mut *savepoint)
                .await;
        match oid {
            Ok(oid) => {
                savepoint.commit().await?;
                resolved.insert(name.clone(), oid);
            }
            Err(sqlx::Error::Database(_)) => {
                savepoint.rollback().await?;
                resolved.insert(name.clone(), None);
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(resolved)
}

/// The `oid` of a table by its quoted name, or `None` if it does not exist.
pub(crate) async fn table_oid(
    connection: &mut PgConnection,
    quoted: &str,
) -> Result<Option<Oid>, Error> {
    Ok(sqlx::query_scalar("SELECT pg_catalog.to_regclass($1)::oid")
        .bind(quoted)
        .fetch_one(&mut *connection)
        .await?)
}
