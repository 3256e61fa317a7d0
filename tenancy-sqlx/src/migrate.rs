//! Migrations, from the first deploy to the hundredth tenant schema.
//!
//! *Available with the `migrate` feature.*
//!
//! [`OwnerPool::apply_schema`](crate::OwnerPool::apply_schema) creates the
//! registered tables and protects them, and it refuses to run over a table
//! that has drifted from its struct ([`drift`](crate::drift)). That is
//! enough for a first deploy and for development. Once there is data to
//! keep, schema changes are versioned migrations, and once there are many
//! tenant schemas or databases, each migration has to reach every one of
//! them safely. This module does both, in sqlx's file layout so that
//! `sqlx migrate` and `sqlx::migrate!()` keep working.
//!
//! # 1. The first migration, generated
//!
//! The application writes its registered tables as a [`Manifest`]; the
//! first migration is every statement `apply_schema` would run: tables with
//! tenant-led keys and indexes, row-level security, the policy, the grants.
//!
//! ```no_run
//! # fn run(tables: tenancy_sqlx::ddl::TableSet) -> Result<(), Box<dyn std::error::Error>> {
//! use std::path::Path;
//! use tenancy_sqlx::{manifest::Manifest, migrate, rls::RlsPolicy};
//!
//! let manifest = Manifest::new(&tables, &RlsPolicy::for_role("app")?)?;
//! let dir = Path::new("migrations");
//! let files = migrate::initial(&manifest, migrate::next_version(dir)?, "tenant_tables")?;
//! files.write_to(dir)?; // migrations/<version>_tenant_tables.up.sql and .down.sql
//! std::fs::write("tenancy.json", manifest.to_json())?; // for the `tenancy` command line
//! # Ok(()) }
//! ```
//!
//! Review the files and commit them. `tenancy migrate init --manifest
//! tenancy.json` writes the same files from the command line.
//!
//! # 2. The next migration, drafted from drift
//!
//! Add `pub priority: i64` to `Comment` and the database no longer matches.
//! [`drift::detect`](crate::drift::detect) lists the differences, and
//! [`draft`] turns them into a migration: `ALTER TABLE "comments" ADD
//! COLUMN "priority" BIGINT`, the `SET NOT NULL` after a backfill you write,
//! the new index, new tables with their policies; destructive changes (a
//! column the struct no longer has) only as comments. It is a draft: the
//! library knows what the structs declare, not what the data needs.
//!
//! ```no_run
//! # async fn run(manifest: tenancy_sqlx::manifest::Manifest, owner: tenancy_sqlx::OwnerPool) -> Result<(), Box<dyn std::error::Error>> {
//! use std::path::Path;
//! use tenancy_sqlx::{audit, drift, migrate};
//!
//! // Against a database migrated to the latest version (development, CI):
//! let mut connection = owner.pool().acquire().await?;
//! let drift = drift::detect(&mut connection, &manifest, None).await?;
//! let findings = audit::verify(&mut connection, &manifest, None).await?;
//! let dir = Path::new("migrations");
//! if let Some(files) = migrate::draft(&manifest, None, &drift, &findings, migrate::next_version(dir)?, "add_priority")? {
//!     files.write_to(dir)?;
//! }
//! # Ok(()) }
//! ```
//!
//! (`tenancy migrate draft --manifest tenancy.json --name add_priority`.)
//!
//! # 3. Running them: one database
//!
//! A [`Runner`] applies [`Migrations`] (read from the directory, or
//! embedded with `sqlx::migrate!()`) to [`Target`]s. With one shared schema
//! there is one target:
//!
//! ```no_run
//! # async fn run(owner: tenancy_sqlx::OwnerPool) -> Result<(), tenancy_sqlx::migrate::MigrateError> {
//! use tenancy_sqlx::migrate::{Migrations, Runner, Target};
//!
//! // Or `Migrations::from_migrator(&sqlx::migrate!())` to embed them.
//! let runner = Runner::for_owner(&owner, Migrations::from_dir("migrations").await?);
//! let report = runner.up(&[Target::schema("public")?]).await?;
//! assert!(report.succeeded(), "{}", report.summary());
//! # Ok(()) }
//! ```
//!
//! Each migration runs in its own transaction, which begins with `SET LOCAL
//! lock_timeout` (and `statement_timeout`, if set) and `SET LOCAL
//! search_path` to the target's schema, and records the migration in the
//! ledger, `tenancy.migration_log (target, version, checksum, status,
//! started_at, finished_at, duration_ms, attempts, error)`, before it
//! commits: the migration is applied exactly when its ledger row says so,
//! even if the process is killed at any moment. A version that is applied is
//! skipped; one whose script changed since (sqlx's checksum) stops that
//! target with an error naming the version. A script that ends the
//! transaction itself (`COMMIT` in the file) is detected and reported, not
//! recorded as applied.
//!
//! # 4. Many tenant schemas
//!
//! Targets are a list, so they can come from a tenant directory, a query
//! ([`schemas_from_query`]) or the catalog ([`schemas_like`]):
//!
//! ```no_run
//! # async fn run(owner: tenancy_sqlx::OwnerPool, runner: tenancy_sqlx::migrate::Runner) -> Result<(), tenancy_sqlx::migrate::MigrateError> {
//! use std::time::Duration;
//! use tenancy_sqlx::migrate::{self, RunnerOptions};
//!
//! let mut connection = owner.pool().acquire().await?;
//! let targets = migrate::schemas_like(&mut connection, "tenant\\_%").await?;
//! let runner = runner.options(
//!     RunnerOptions::new()
//!         .concurrency(20)     // targets at once; never more than 21 connections
//!         .canary(5)           // the first 5 targets first; stop if any fails
//!         .max_failures(3)     // then stop after 3 failed targets
//!         .lock_timeout(Duration::from_secs(2)),
//! );
//! let report = runner.up(&targets).await?;
//! for (version, count) in report.versions() {
//!     println!("{count} targets at version {version:?}");
//! }
//! # Ok(()) }
//! ```
//!
//! - **Bounded connections.** `concurrency` workers each hold one
//!   connection and take the next target when done; the runner holds one
//!   more, for the ledger and the lock monitor. Never one per tenant.
//! - **Canary first.** The first `canary` targets are migrated before any
//!   other; if one fails, the run stops and the rest are untouched.
//! - **Stop after failures.** Once `max_failures` targets have failed, no
//!   other target is started, and targets being migrated stop after the
//!   migration they are in. The report says, per target, where it is:
//!   [`FleetReport::versions`], [`FleetReport::failed`], [`Outcome`].
//! - **Locks.** A migration that waits longer than `lock_timeout` gives up
//!   and is retried with backoff ([`RetryPolicy`]); deadlocks too. While
//!   migrations run, the runner reads `pg_locks` for its sessions and
//!   reports each wait and who held the lock ([`LockWait`], [`Event`]);
//!   for database targets on another server than the runner's, lock
//!   timeouts are still retried, but waits are not watched.
//! - **Resumable.** Kill the runner at any moment and run it again: each
//!   target continues from its ledger, and no migration is applied twice.
//!   Connections carry `client_connection_check_interval`, so the server
//!   ends the session of a killed runner within a second.
//! - **Two runners at once.** Each target is migrated under a session
//!   advisory lock taken by whichever runner gets it first; the other waits
//!   for it, then finds the target up to date. The ledger's primary key
//!   backs this up inside each migration's transaction.
//! - **Down.** [`Runner::down_to`] runs the `.down.sql` scripts of every
//!   applied version above the one given, newest first.
//!
//! # 5. A database per tenant
//!
//! [`Target::database`] (or [`databases_like`]) names a database with its
//! connection options; its ledger lives in that database, so its rows are
//! written in the same transaction as its migrations. At most `concurrency`
//! databases are connected at a time.
//!
//! # `-- no-transaction` migrations
//!
//! `CREATE INDEX CONCURRENTLY` cannot run in a transaction; sqlx's
//! `-- no-transaction` first line marks such a file. The runner then:
//!
//! 1. records the version as `running` in the ledger;
//! 2. sets `lock_timeout` and the target's `search_path` for the session;
//! 3. runs the file's statements one at a time (PostgreSQL would run a
//!    multi-statement string as one implicit transaction and refuse
//!    `CREATE INDEX CONCURRENTLY` in it);
//! 4. records the version as `applied`.
//!
//! If the process dies in between, the next run finds it `running` and runs
//! the file again. For every `CREATE [UNIQUE] INDEX CONCURRENTLY <name>`
//! statement it first looks at the index of that name: valid (the build
//! had finished) — the statement is skipped; invalid (the build was
//! interrupted, or gave up on `lock_timeout`) — the index is dropped and
//! built again. So name the index in such a statement, and make other
//! statements of a `-- no-transaction` file safe to run twice (`IF NOT
//! EXISTS`, `IF EXISTS`): they are applied at least once, not exactly once.
//!
//! # Ownership, and data migrations
//!
//! The runner connects as the role that owns the tables (an
//! [`OwnerPool`](crate::OwnerPool)'s), made with the
//! [`CrossTenant`](crate::CrossTenant) capability, and logs each migration
//! on target `tenancy::cross_tenant` with its reason. The ledger's schema
//! is created by the first run; give the application role no privileges
//! on it.
//!
//! Row-level security is forced on tenant tables, for their owner too, and
//! a migration runs with no tenant set: an `UPDATE` that backfills a column
//! sees no row and silently changes nothing. A data migration over a whole
//! tenant table lifts the forcing for its own transaction, as the drafts
//! write it:
//!
//! ```sql
//! ALTER TABLE "comments" NO FORCE ROW LEVEL SECURITY;
//! UPDATE "comments" SET "priority" = 0 WHERE "priority" IS NULL;
//! ALTER TABLE "comments" FORCE ROW LEVEL SECURITY;
//! ```
//!
//! `ALTER TABLE` holds the table's `ACCESS EXCLUSIVE` lock until the
//! migration commits, so no other session ever sees the table unforced,
//! and no role needs `BYPASSRLS`.

#![cfg_attr(docsrs, doc(cfg(feature = "migrate")))]

mod apply;
mod error;
mod generate;
mod ledger;
mod monitor;
mod options;
mod report;
mod runner;
mod source;
mod split;
mod target;
mod worker;

pub use error::MigrateError;
pub use generate::{MigrationFiles, draft, initial, next_version};
pub use ledger::{LEDGER_TABLE, Row as LedgerRow, Status};
pub use options::{DEFAULT_LEDGER_SCHEMA, Observer, RetryPolicy, RunnerOptions};
pub use report::{
    Event, Failure, FailureKind, FleetReport, LockWait, Operation, Outcome, Step, StopReason,
    TargetReport, TargetStatus,
};
pub use runner::Runner;
pub use source::Migrations;
pub use target::{Target, databases_like, directory_targets, schemas_from_query, schemas_like};

#[doc(no_inline)]
pub use crate::manifest::Manifest;
