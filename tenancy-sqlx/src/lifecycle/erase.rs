//! The erasure job: plan, ledger, batches, verification, certificate.

use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tenancy_core::{TenantId, TenantKey};

use super::certificate::{CERTIFICATE_FORMAT, Certificate, CertificateContent, CertifiedTable};
use super::error::LifecycleError;
use super::plan::{ErasureAction, ErasureOptions, ErasurePlan, ErasureStep};
use super::records::{self, DELETION_CERTIFICATES, DELETION_JOBS};
use crate::backend::Internals;
use crate::pin::{Pin, TransactionSettings};
use crate::setting::key_literal;
use crate::{Error, OwnerPool, Postgres};

/// What an erasure did: its certificate, and how its batches went.
///
/// *Available with the `lifecycle` feature.*
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Erasure {
    /// The certificate of deletion, as stored.
    pub certificate: Certificate,
    /// How many batch transactions ran.
    pub batches: u64,
    /// The longest a batch transaction held its locks (from `BEGIN` to the
    /// end of `COMMIT`).
    pub longest_batch: Duration,
}

/// How many times the job re-plans and re-verifies when rows appear while
/// it runs, before it reports them.
const PASSES: usize = 3;

/// Text of a `timestamptz` column in UTC, RFC 3339.
const UTC: &str = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";

impl OwnerPool<Postgres> {
    /// The erasure plan from the live catalog: every table that has a
    /// tenant column, whether registered or not, in the order erasure would
    /// process it, and every table it could not cover
    /// ([`ErasurePlan::problems`]).
    ///
    /// *Available with the `lifecycle` feature.*
    pub async fn erasure_plan(&self, options: &ErasureOptions) -> Result<ErasurePlan, Error> {
        let mut connection = self.pool().acquire().await?;
        ErasurePlan::read(&mut connection, options).await
    }

    /// Erases `tenant`: deletes its rows from every table that has a tenant
    /// column (registered or not, children before the tables they
    /// reference), overwrites the personal data of retained tables, checks
    /// that nothing is left and returns the certificate of deletion, which
    /// it also stores (append-only) in the records schema.
    ///
    /// - **Refusal first.** If any table cannot be covered (a cycle of
    ///   foreign keys that are not deferrable, a key from a kept table into
    ///   a deleted one, missing privileges, row-level security that would
    ///   hide rows from this role), it returns
    ///   [`LifecycleError::PlanRefused`] naming each one, before anything is
    ///   deleted.
    /// - **Under row-level security, without `BYPASSRLS`.** Every batch is
    ///   its own transaction with the tenant set (`SET LOCAL`), as a tenant
    ///   transaction is; the owner policy of [`rls`](crate::rls) gives the
    ///   owner the tenant's rows and nothing else.
    /// - **Bounded batches.** At most [`ErasureOptions::batch_rows`] rows per
    ///   transaction, fewer when a batch takes longer than
    ///   [`ErasureOptions::batch_time`]. Tables in a cycle of deferrable
    ///   foreign keys are deleted together in one transaction.
    /// - **A ledger, resumable.** Each batch updates the ledger
    ///   (`tenant_deletion_jobs`: table, pending/done, rows, finish time) in
    ///   the statement that deletes, so a crash — a killed process, a lost
    ///   connection, a dropped future — leaves it exact, and the next call
    ///   for the tenant resumes the same job. Two erasures of one tenant at
    ///   once are refused ([`LifecycleError::AlreadyRunning`]).
    /// - **Verified.** When every table is done it counts, in one
    ///   transaction, the tenant's rows left in deleted tables and the rows
    ///   whose personal data is not yet overwritten in retained ones; rows
    ///   written meanwhile are erased in another pass, and reported
    ///   ([`LifecycleError::RowsRemain`]) if they keep coming.
    ///
    /// Running it again for an erased tenant deletes nothing and certifies
    /// that again, in a new job.
    ///
    /// *Available with the `lifecycle` feature.*
    pub async fn erase_tenant<K: TenantKey>(
        &self,
        tenant: &TenantId<K>,
        options: &ErasureOptions,
    ) -> Result<Erasure, Error> {
        let key = key_literal(tenant.key_value())?;
        let settings = TransactionSettings::new();
        let begin =
            Postgres::begin_statement(&Pin::new(options.setting(), tenant.key_value(), &settings))?;
        tracing::info!(target: "tenancy::cross_tenant", reason = %self.reason(), tenant = %key, "erasure");
        let mut connection = self.pool().acquire().await?;
        // The job's session lock must not outlive the job on a pooled
        // connection, whatever way the job ends.
        connection.close_on_drop();
        records::install(&mut connection, &options.records_schema, None).await?;
        let locked: bool = sqlx::query_scalar(
            "SELECT pg_try_advisory_lock(hashtext('tenancy.erase'), hashtext($1))",
        )
        .bind(&key)
        .fetch_one(&mut *connection)
        .await?;
        if !locked {
            return Err(LifecycleError::AlreadyRunning { tenant: key }.into());
        }
        let mut job = Job {
            connection,
            ledger: records::table(&options.records_schema, DELETION_JOBS),
            options,
            key,
            begin,
            batches: 0,
            longest: Duration::ZERO,
        };
        let certificate = job.run().await?;
        Ok(Erasure {
            certificate,
            batches: job.batches,
            longest_batch: job.longest,
        })
    }
}

/// One running erasure, on its own connection.
struct Job<'o> {
    connection: PoolConnection<Postgres>,
    /// The ledger table, qualified and quoted.
    ledger: String,
    options: &'o ErasureOptions,
    key: String,
    begin: String,
    batches: u64,
    longest: Duration,
}

/// A ledger row.
#[derive(sqlx::FromRow)]
struct LedgerRow {
    table_name: String,
    action: String,
    rows_affected: i64,
    anonymised_columns: String,
    finished_at: Option<String>,
}

impl Job<'_> {
    async fn run(&mut self) -> Result<Certificate, Error> {
        let job_id = self.open_job().await?;
        let mut remaining = Vec::new();
        for _ in 0..PASSES {
            let plan = ErasurePlan::read(&mut self.connection, self.options)
                .await?
                .accepted()?;
            self.record_plan(job_id, &plan).await?;
            let done = self.done_tables(job_id).await?;
            let steps: Vec<&ErasureStep> = plan
                .steps()
                .iter()
                .filter(|step| !done.contains(&step.table()))
                .collect();
            let mut at = 0;
            while at < steps.len() {
                if steps[at].in_cycle {
                    let end = steps[at..]
                        .iter()
                        .position(|step| !step.in_cycle)
                        .map_or(steps.len(), |len| at + len);
                    self.erase_together(job_id, &steps[at..end]).await?;
                    at = end;
                } else {
                    self.erase_in_batches(job_id, steps[at]).await?;
                    at += 1;
                }
            }
            match self.verify_and_certify(job_id, &plan).await? {
                Ok(certificate) => return Ok(certificate),
                Err(left) => remaining = left,
            }
        }
        Err(LifecycleError::RowsRemain {
            tenant: self.key.clone(),
            remaining,
        }
        .into())
    }

    /// The tenant's unfinished job, or a new one.
    async fn open_job(&mut self) -> Result<i64, Error> {
        let schema = self.options.records_schema.quoted();
        let certificates = records::table(&self.options.records_schema, DELETION_CERTIFICATES);
        let sql = format!(
            "SELECT j.job_id FROM {} j WHERE j.tenant = $1 \
             AND NOT EXISTS (SELECT 1 FROM {certificates} c WHERE c.job_id = j.job_id) \
             ORDER BY j.job_id DESC LIMIT 1",
            self.ledger
        );
        let open: Option<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(&self.key)
            .fetch_optional(&mut *self.connection)
            .await?;
        if let Some(job) = open {
            tracing::info!(target: "tenancy::erasure", tenant = %self.key, job, "resuming erasure");
            return Ok(job);
        }
        let sql = format!("SELECT nextval('{schema}.\"tenant_deletion_job_ids\"')");
        Ok(sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(&mut *self.connection)
            .await?)
    }

    /// Adds the plan's tables the ledger does not list yet, as pending.
    async fn record_plan(&mut self, job_id: i64, plan: &ErasurePlan) -> Result<(), Error> {
        let sql = format!(
            "INSERT INTO {} (job_id, tenant, position, table_name, action, state, anonymised_columns) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6) ON CONFLICT (job_id, table_name) DO NOTHING",
            self.ledger
        );
        let mut tx = self.connection.begin().await?;
        for (position, step) in plan.steps().iter().enumerate() {
            let (action, columns) = match step.action() {
                ErasureAction::Delete => ("delete", "[]".to_owned()),
                ErasureAction::Anonymise { columns } => (
                    "anonymise",
                    serde_json::to_string(columns).map_err(LifecycleError::from)?,
                ),
            };
            sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(job_id)
                .bind(&self.key)
                .bind(i32::try_from(position).unwrap_or(i32::MAX))
                .bind(step.table())
                .bind(action)
                .bind(columns)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn done_tables(&mut self, job_id: i64) -> Result<Vec<String>, Error> {
        let sql = format!(
            "SELECT table_name FROM {} WHERE job_id = $1 AND state = 'done'",
            self.ledger
        );
        Ok(sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(job_id)
            .fetch_all(&mut *self.connection)
            .await?)
    }

    /// The statement of one batch: deletes (or anonymises) up to `$2` rows
    /// of the tenant and records them in the ledger, atomically; the table
    /// is done when the batch found fewer rows than it could take.
    fn batch_statement(&self, step: &ErasureStep) -> Result<String, Error> {
        let table = step.table.quoted();
        let tenant = step.table.tenant_condition("$1").ok_or_else(|| {
            Error::from(LifecycleError::PlanRefused {
                problems: vec![super::error::PlanProblem {
                    table: step.table(),
                    reason: "the tenant column's type is not supported".to_owned(),
                }],
            })
        })?;
        let pending = step.pending_condition();
        let pick = format!(
            "ctid = ANY(ARRAY(SELECT ctid FROM {table} WHERE {tenant} AND ({pending}) LIMIT $2))"
        );
        let change = match step.action() {
            ErasureAction::Delete => format!("DELETE FROM {table} WHERE {pick} RETURNING 1"),
            ErasureAction::Anonymise { columns } if columns.is_empty() => {
                format!("SELECT 1 FROM {table} WHERE false")
            }
            ErasureAction::Anonymise { .. } => format!(
                "UPDATE {table} SET {} WHERE {pick} RETURNING 1",
                step.assignments()
            ),
        };
        Ok(format!(
            "WITH changed AS ({change}), counted AS (SELECT count(*) AS n FROM changed) \
             UPDATE {ledger} SET rows_affected = rows_affected + counted.n, \
               state = CASE WHEN counted.n < $2 THEN 'done' ELSE 'pending' END, \
               finished_at = CASE WHEN counted.n < $2 THEN clock_timestamp() END \
             FROM counted WHERE job_id = $3 AND table_name = $4 RETURNING counted.n",
            ledger = self.ledger
        ))
    }

    /// Erases one table in bounded batches, each its own transaction with
    /// the tenant set.
    async fn erase_in_batches(&mut self, job_id: i64, step: &ErasureStep) -> Result<(), Error> {
        let sql = self.batch_statement(step)?;
        let max = i64::try_from(self.options.batch_rows).unwrap_or(i64::MAX);
        let mut limit = max;
        // An anonymising function that is not idempotent would find its own
        // output pending forever: take each row at most once per pass.
        let budget = match step.action() {
            ErasureAction::Delete => None,
            ErasureAction::Anonymise { .. } => Some(self.count_pending(step).await?),
        };
        let mut taken = 0;
        loop {
            let started = Instant::now();
            let mut tx = self
                .connection
                .begin_with(AssertSqlSafe(self.begin.clone()))
                .await?;
            let changed: i64 = sqlx::query_scalar(AssertSqlSafe(sql.clone()))
                .bind(&self.key)
                .bind(limit)
                .bind(job_id)
                .bind(step.table())
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            let took = started.elapsed();
            self.batches += 1;
            self.longest = self.longest.max(took);
            taken += changed;
            tracing::debug!(target: "tenancy::erasure", table = %step.table(), rows = changed, ?took, "batch");
            if changed < limit {
                break;
            }
            if budget.is_some_and(|budget| taken >= budget) {
                self.mark_done(job_id, step).await?;
                break;
            }
            limit = if took > self.options.batch_time {
                (limit / 2).max(1)
            } else if took < self.options.batch_time / 4 {
                limit.saturating_mul(2).min(max)
            } else {
                limit
            };
            if !self.options.pause.is_zero() {
                tokio::time::sleep(self.options.pause).await;
            }
        }
        tracing::info!(target: "tenancy::erasure", table = %step.table(), "table done");
        Ok(())
    }

    async fn count_pending(&mut self, step: &ErasureStep) -> Result<i64, Error> {
        let mut tx = self
            .connection
            .begin_with(AssertSqlSafe(self.begin.clone()))
            .await?;
        let count = remaining(&mut tx, step, &self.key).await?;
        tx.commit().await?;
        Ok(count)
    }

    async fn mark_done(&mut self, job_id: i64, step: &ErasureStep) -> Result<(), Error> {
        let sql = format!(
            "UPDATE {} SET state = 'done', finished_at = clock_timestamp() WHERE job_id = $1 AND table_name = $2",
            self.ledger
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(job_id)
            .bind(step.table())
            .execute(&mut *self.connection)
            .await?;
        Ok(())
    }

    /// Deletes the tables of a cycle of deferrable foreign keys in one
    /// transaction, the constraints checked at its commit.
    async fn erase_together(&mut self, job_id: i64, steps: &[&ErasureStep]) -> Result<(), Error> {
        let statements = steps
            .iter()
            .map(|step| self.batch_statement(step))
            .collect::<Result<Vec<_>, _>>()?;
        let started = Instant::now();
        let mut tx = self
            .connection
            .begin_with(AssertSqlSafe(self.begin.clone()))
            .await?;
        sqlx::query("SET CONSTRAINTS ALL DEFERRED")
            .execute(&mut *tx)
            .await?;
        for (step, sql) in steps.iter().zip(statements) {
            sqlx::query(AssertSqlSafe(sql))
                .bind(&self.key)
                .bind(i64::MAX)
                .bind(job_id)
                .bind(step.table())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.batches += 1;
        self.longest = self.longest.max(started.elapsed());
        Ok(())
    }

    /// Counts what is left and, if nothing is, writes the certificate in
    /// the same transaction. What is left goes back to pending.
    async fn verify_and_certify(
        &mut self,
        job_id: i64,
        plan: &ErasurePlan,
    ) -> Result<Result<Certificate, Vec<(String, i64)>>, Error> {
        let ledger = self.ledger.clone();
        let certificates = records::table(&self.options.records_schema, DELETION_CERTIFICATES);
        let key = self.key.clone();
        let mut tx = self
            .connection
            .begin_with(AssertSqlSafe(self.begin.clone()))
            .await?;
        let mut left = Vec::new();
        for step in plan.steps() {
            let count = remaining(&mut tx, step, &key).await?;
            if count > 0 {
                left.push((step.table(), count));
            }
        }
        if !left.is_empty() {
            let sql = format!(
                "UPDATE {ledger} SET state = 'pending', finished_at = NULL WHERE job_id = $1 AND table_name = ANY($2)"
            );
            let tables: Vec<String> = left.iter().map(|(table, _)| table.clone()).collect();
            sqlx::query(AssertSqlSafe(sql))
                .bind(job_id)
                .bind(tables)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Err(left));
        }
        // A table still pending here is not in the catalog any more (it was
        // dropped since the job began): none of its rows exist.
        let sql = format!(
            "UPDATE {ledger} SET state = 'done', finished_at = clock_timestamp() \
             WHERE job_id = $1 AND state = 'pending'"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        let content = content(&mut tx, job_id, &ledger, &key).await?;
        let certificate = Certificate::seal(content).map_err(LifecycleError::from)?;
        let json = certificate.to_json().map_err(LifecycleError::from)?;
        let sql = format!(
            "INSERT INTO {certificates} (job_id, tenant, certificate, sha256) VALUES ($1, $2, $3, $4)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(job_id)
            .bind(&key)
            .bind(json)
            .bind(&certificate.sha256)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(target: "tenancy::erasure", tenant = %key, job = job_id, sha256 = %certificate.sha256, "tenant erased");
        Ok(Ok(certificate))
    }
}

/// The certificate's content, from the ledger.
async fn content(
    connection: &mut PgConnection,
    job_id: i64,
    ledger: &str,
    key: &str,
) -> Result<CertificateContent, Error> {
    let sql = format!(
        "SELECT table_name, action, rows_affected, anonymised_columns, \
                to_char(finished_at AT TIME ZONE 'UTC', {UTC}) AS finished_at \
         FROM {ledger} WHERE job_id = $1 ORDER BY position, table_name"
    );
    let rows: Vec<LedgerRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(job_id)
        .fetch_all(&mut *connection)
        .await?;
    let sql = format!(
        "SELECT to_char(min(started_at) AT TIME ZONE 'UTC', {UTC}), \
                to_char(clock_timestamp() AT TIME ZONE 'UTC', {UTC}), \
                current_database()::text, current_user::text \
         FROM {ledger} WHERE job_id = $1"
    );
    let (started_at, finished_at, database, erased_by): (Option<String>, String, String, String) =
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(job_id)
            .fetch_one(&mut *connection)
            .await?;
    let mut tables = Vec::new();
    for row in rows {
        tables.push(CertifiedTable {
            table: row.table_name,
            action: if row.action == "delete" {
                "deleted"
            } else {
                "anonymised"
            }
            .to_owned(),
            rows: row.rows_affected,
            anonymised_columns: serde_json::from_str(&row.anonymised_columns)
                .map_err(LifecycleError::from)?,
            finished_at: row.finished_at,
        });
    }
    Ok(CertificateContent {
        format: CERTIFICATE_FORMAT.to_owned(),
        job_id,
        tenant: key.to_owned(),
        database,
        erased_by,
        started_at: started_at.unwrap_or_else(|| finished_at.clone()),
        finished_at,
        library: concat!("tenancy-sqlx ", env!("CARGO_PKG_VERSION")).to_owned(),
        tables,
        remaining_rows: 0,
    })
}

/// The tenant's rows of `step`'s table that the job has still to process.
async fn remaining(
    connection: &mut PgConnection,
    step: &ErasureStep,
    key: &str,
) -> Result<i64, Error> {
    let Some(tenant) = step.table.tenant_condition("$1") else {
        return Ok(0);
    };
    let sql = format!(
        "SELECT count(*) FROM {} WHERE {tenant} AND ({})",
        step.table.quoted(),
        step.pending_condition()
    );
    Ok(sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(key)
        .fetch_one(connection)
        .await?)
}
