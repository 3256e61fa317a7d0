//! A tenant's own SQL, ad hoc: the query a BI panel of the product lets a
//! tenant type, confined to that tenant and run read-only with a time and
//! a row limit.
//!
//! [`tenancy_sql::confine`] parses the text (PostgreSQL dialect), accepts
//! exactly one read-only `SELECT` over the allow-list's tables and
//! functions, and rewrites every reference to a tenant table into a
//! derived table that holds only the tenant's rows; everything else is
//! refused with what is not allowed ([`Error::AdHocRefused`]). What it
//! returns is then run in a tenant transaction of its own that is
//! `READ ONLY`, has the query's `statement_timeout`, sets the tenant for
//! row-level security as every tenant transaction does, and ends as a
//! [`TenantRead`](crate::TenantRead) ends: its `ROLLBACK` is queued, not
//! waited for, and sent before the connection is borrowed again. At most
//! [`AdHocQuery::row_limit`] rows come back, each as a JSON object.
//!
//! *Available with the `adhoc` feature (PostgreSQL).*

use std::time::Duration;

use tenancy_core::ddl::TableSet;
use tenancy_core::{Dialect, TenantId, TenantKey};
use tenancy_sql::{AllowList, Backend as SqlBackend, QualifiedName};

use crate::{Error, Postgres, TenantPool};

/// What a tenant's ad hoc query may read, how long it may run and how many
/// rows it may return.
///
/// ```
/// # #[tenancy_sqlx::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key)] pub id: i64, pub status: String }
/// use std::time::Duration;
/// use tenancy_sqlx::adhoc::AdHocQuery;
/// use tenancy_sqlx::ddl::TableSet;
///
/// let tables = TableSet::new().with::<Order>();
/// let query = AdHocQuery::new(&tables)?
///     .row_limit(500)
///     .timeout(Duration::from_secs(2));
/// assert_eq!(query.max_rows(), 500);
/// # Ok::<(), tenancy_sqlx::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AdHocQuery {
    allow: AllowList,
    schemas: Vec<(String, String)>,
    row_limit: u64,
    timeout: Duration,
}

/// The rows of an ad hoc query.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AdHocRows {
    /// Each row as a JSON object of its columns, in the order the query
    /// returned them.
    pub rows: Vec<serde_json::Value>,
    /// Whether the query had more rows than the limit (they were not read).
    pub truncated: bool,
    /// The statement that ran, the tenant as its parameter.
    pub sql: String,
}

impl AdHocQuery {
    /// Every table of `tables` (tenant tables confined by their tenant
    /// column, global tables readable whole) and the functions of
    /// [`tenancy_sql::ANALYTICS_FUNCTIONS`]; at most 1,000 rows and 5
    /// seconds.
    pub fn new(tables: &TableSet) -> Result<Self, Error> {
        let mut allow = AllowList::analytics();
        let mut schemas = Vec::new();
        let default = tables.schema(Dialect::Postgres).as_str();
        for table in tables.tables()? {
            allow = match &table.tenant {
                Some(tenant) => allow.tenant_table(table.name, tenant.name),
                None => allow.global_table(table.name),
            }
            .map_err(|error| Error::AdHocAllowList {
                reason: error.to_string(),
            })?;
            schemas.push((
                table.name.to_owned(),
                table.schema.unwrap_or(default).to_owned(),
            ));
        }
        Ok(AdHocQuery {
            allow,
            schemas,
            row_limit: 1_000,
            timeout: Duration::from_secs(5),
        })
    }

    /// Narrows what the query may read to `allow` (whose tables must be
    /// among the registered ones: they are written with their registered
    /// schema).
    #[must_use]
    pub fn allow(mut self, allow: AllowList) -> Self {
        self.allow = allow;
        self
    }

    /// At most `rows` rows come back (at least 1).
    #[must_use]
    pub fn row_limit(mut self, rows: u64) -> Self {
        self.row_limit = rows.max(1);
        self
    }

    /// The query's `statement_timeout` (at least 1 ms).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The row limit.
    #[must_use]
    pub fn max_rows(&self) -> u64 {
        self.row_limit
    }
}

impl TenantPool<Postgres> {
    /// Runs a tenant's ad hoc `sql` as `query` allows, confined to `tenant`
    /// (see the [module docs](crate::adhoc)).
    ///
    /// Refused before anything is sent, with [`Error::AdHocRefused`] and
    /// every problem the check found, unless the text is one read-only
    /// `SELECT` over the allowed tables and functions. A query that runs
    /// longer than the timeout ends with [`Error::StatementTimeout`] (the
    /// server's `query_canceled`, SQLSTATE 57014, as its source), as a
    /// tenant transaction's statement does.
    ///
    /// *Available with the `adhoc` feature.*
    pub async fn ad_hoc<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
        sql: &str,
        query: &AdHocQuery,
    ) -> Result<AdHocRows, Error> {
        let confined =
            tenancy_sql::confine(sql, &query.allow).map_err(|diagnostics| Error::AdHocRefused {
                reasons: diagnostics.to_string(),
            })?;
        let mut unknown = None;
        let rendered = confined
            .render(SqlBackend::Postgres, |table| {
                match query.schemas.iter().find(|(name, _)| name == table) {
                    Some((name, schema)) => QualifiedName::new(schema, name),
                    None => {
                        unknown = Some(table.to_owned());
                        QualifiedName::new("", table)
                    }
                }
            })
            .map_err(|error| Error::AdHocRefused {
                reasons: error.to_string(),
            })?;
        if let Some(table) = unknown {
            return Err(Error::AdHocRefused {
                reasons: format!("table {table} is allowed but not registered with the pool"),
            });
        }
        // One more row than the limit says whether there were more.
        let statement = format!(
            "SELECT to_jsonb(q)::text FROM ({}) AS q LIMIT {}",
            rendered.sql,
            query.row_limit.saturating_add(1)
        );
        let key = tenant.key().to_value();
        let values = sea_query::Values(vec![key; rendered.binds.len()]);

        // READ ONLY and the timeout go in the same simple query as BEGIN.
        let settings = self
            .settings_of(tenant.key_value())
            .clone()
            .read_only()
            .statement_timeout(query.timeout);
        let mut read = self.begin_with_settings(tenant, &settings).await?;
        let lines: Vec<(String,)> = read.fetch_library_sql(statement.clone(), values).await?;
        // Nothing was written: end as a `TenantRead` ends, the ROLLBACK
        // queued and sent before the connection is borrowed again.
        read.end_queued();
        let truncated = lines.len() as u64 > query.row_limit;
        let rows = lines
            .iter()
            .take(usize::try_from(query.row_limit).unwrap_or(usize::MAX))
            .map(|(line,)| serde_json::from_str(line))
            .collect::<Result<Vec<serde_json::Value>, _>>()
            .map_err(|error| Error::AdHocRefused {
                reasons: format!("a row did not read back as JSON: {error}"),
            })?;
        tracing::debug!(target: "tenancy::adhoc", tenant = %tenant.key_value(), rows = rows.len(), truncated, "ad hoc query");
        Ok(AdHocRows {
            rows,
            truncated,
            sql: statement,
        })
    }
}
