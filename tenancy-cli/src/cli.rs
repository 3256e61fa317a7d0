//! The command line's arguments, and their `--help` texts.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::duration::parse_duration;

/// Tenant isolation, checked and migrated.
///
/// `tenancy` audits a PostgreSQL database the way a DBA would monthly
/// (row-level security, policies, tenant-led keys, drift from the
/// application's tables, privileged roles), migrates a fleet of tenant
/// schemas or databases with the application's sqlx migrations, and lists
/// where every tenant stands.
///
/// It cannot see the application's Rust types: the application writes its
/// registered tables as a manifest (`tenancy_sqlx::manifest::Manifest`,
/// `manifest.to_json()`), which `--manifest` reads.
///
/// Exit codes: 0 all is well, 1 findings or failed targets, 2 an error
/// (bad arguments, unreachable database, unreadable files).
#[derive(Debug, Parser)]
#[command(name = "tenancy", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit a database: RLS, policies, keys, drift, roles, functions, views.
    ///
    /// With `--manifest`, every registered table is checked in each target
    /// schema: row-level security enabled and forced, the tenant policy's
    /// form and the role it applies to, the application role's grants
    /// (and no write access to global tables, no TRUNCATE on tenant
    /// tables), primary keys, unique keys, indexes and foreign keys led by
    /// the tenant column, and drift from the table's generated DDL (missing,
    /// extra and changed columns, keys and indexes). Without it, and in any
    /// case: tables that have a tenant column but are not registered and
    /// have no row-level security, login roles that are superusers, have
    /// BYPASSRLS or CREATEROLE (or can SET ROLE to such a role), SECURITY
    /// DEFINER functions and views owned by roles that skip row-level
    /// security.
    ///
    /// Findings a deployment has decided to live with go into the file of
    /// `--accepted`, each with a reason; the audit then passes (exit 0)
    /// until something new appears, which makes it a CI gate.
    Audit(AuditArgs),

    /// Apply, revert or inspect migrations across a fleet of targets.
    ///
    /// Migrations are sqlx's: a directory of `<version>_<name>.up.sql` and
    /// `.down.sql` files (`--source`, default `migrations`), with sqlx's
    /// checksums and its `-- no-transaction` first line. Each migration
    /// runs on each target in its own transaction with `lock_timeout`, and
    /// is recorded in the ledger `tenancy.migration_log` in the same
    /// transaction: a run can be killed at any moment and started again.
    Migrate(MigrateArgs),

    /// Give a large tenant shards of its own on a Citus cluster, and
    /// optionally move them to another worker.
    ///
    /// Connect to the coordinator as a role that may move shards (a
    /// superuser). `isolate_tenant_to_new_shard` splits the tenant's rows of
    /// `--table` and of every table colocated with it into shards that hold
    /// only this tenant; with `--to-worker` those shards then move to that
    /// worker (`citus_move_shard_placement`). Writes to the rows being
    /// copied wait; reads continue; the application changes nothing. Running
    /// it again does nothing more.
    IsolateTenant(IsolateTenantArgs),

    /// List the targets and the migration version each is at.
    ///
    /// Reads the ledgers only: nothing is changed and no target is locked.
    Tenants(TenantsArgs),

    /// Erase one tenant and print its certificate of deletion (JSON).
    ///
    /// Every table of the database that has the tenant column is covered,
    /// registered or not, children before the tables they reference; the
    /// plan is checked first, and a table it cannot cover (a cycle of
    /// foreign keys that are not deferrable, a key from a kept table,
    /// missing privileges, a policy that hides rows) stops it before any
    /// delete. Tables given with `--retain` keep their rows, with the
    /// columns of `--anonymise` overwritten. Deletes go in batches of at
    /// most `--batch-rows` rows, each its own transaction with the tenant
    /// set, recorded in the ledger `tenancy.tenant_deletion_jobs`: the
    /// command can be killed at any moment and run again to finish. It ends
    /// by checking that no row of the tenant is left and storing the
    /// certificate in `tenancy.tenant_deletion_certificates`
    /// (append-only). Connect as the tables' owner; no role needs
    /// BYPASSRLS.
    Erase(EraseArgs),
}

#[derive(Debug, Args)]
pub struct EraseArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// The tenant's key (an integer).
    #[arg(long, value_name = "KEY")]
    pub tenant: i64,

    /// The reason, logged with every statement (a ticket, a request id).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,

    /// The name of the tenant column (repeatable; default `tenant_id`).
    #[arg(long = "tenant-column", value_name = "NAME")]
    pub tenant_columns: Vec<String>,

    /// The setting the policies read the tenant from.
    #[arg(long, value_name = "NAME", default_value = "app.tenant_id")]
    pub setting: String,

    /// A table whose rows are kept, as `table` or `schema.table`
    /// (repeatable).
    #[arg(long = "retain", value_name = "TABLE")]
    pub retained: Vec<String>,

    /// A personal-data column of a retained table and what it becomes:
    /// `table.column=null`, `=redacted`, `=default` or `=schema.function`
    /// (repeatable).
    #[arg(long = "anonymise", value_name = "TABLE.COLUMN=WITH")]
    pub anonymised: Vec<String>,

    /// The most rows one batch deletes.
    #[arg(long, value_name = "ROWS", default_value_t = 10_000)]
    pub batch_rows: u64,

    /// How long a batch should hold its locks; longer batches make the next
    /// one smaller.
    #[arg(long, value_name = "DURATION", default_value = "200ms", value_parser = parse_duration)]
    pub batch_time: Duration,

    /// A pause between batches, to leave room for other work (none by
    /// default).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub pause: Option<Duration>,

    /// Print the plan and stop: nothing is deleted.
    #[arg(long)]
    pub plan: bool,
}

/// Where to connect.
#[derive(Debug, Args)]
pub struct Connection {
    /// The database, as a PostgreSQL URL: the database of the shared
    /// schema and of schema-per-tenant targets (and of the ledger for
    /// them). For `migrate`, connect as the role that owns the tables.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: String,
}

/// Which schemas or databases to work on. Without any of these: the
/// `public` schema of `--database-url` (for `audit`, the schemas of its
/// `search_path`).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Targets")]
pub struct TargetArgs {
    /// A schema of `--database-url` (repeatable): `public`, `tenant_42`.
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,

    /// Every schema whose name matches this SQL LIKE pattern, by name
    /// (`'tenant\_%'`).
    #[arg(long, value_name = "PATTERN")]
    pub schemas_like: Option<String>,

    /// The schemas named by the first column of this query's rows, in its
    /// order (`"SELECT schema_name FROM tenants WHERE active ORDER BY id"`).
    #[arg(long, value_name = "SQL")]
    pub schemas_query: Option<String>,

    /// A file with one schema name per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub targets_file: Option<PathBuf>,

    /// A database of its own, as a URL (repeatable); its ledger lives in it.
    #[arg(long = "database", value_name = "URL")]
    pub databases: Vec<String>,

    /// The schema or database of every tenant that the tenant directory
    /// (`tenancy_tenants` in `--database-url`) places in one of its own,
    /// deleted tenants left out; a database is reached as `--database-url`'s
    /// role at the host and database the directory names — on
    /// `--database-url`'s own server or one given with `--trust-server`;
    /// an entry naming any other server is refused before anything is
    /// migrated, as the role's password would go there. The shared tables
    /// are not among them: add `--schema public`.
    #[arg(long)]
    pub directory: bool,

    /// A server besides `--database-url`'s own where `--directory` may
    /// reach tenant databases as `--database-url`'s role (repeatable):
    /// `HOST:PORT`, spelled as the directory's URLs spell it.
    #[arg(long = "trust-server", value_name = "HOST:PORT", value_parser = crate::server::parse_server, requires = "directory")]
    pub trusted_servers: Vec<(String, u16)>,

    /// Every database of the `--database-url` server whose name matches
    /// this SQL LIKE pattern, reached as `--database-url` with that
    /// database's name.
    #[arg(long, value_name = "PATTERN")]
    pub databases_like: Option<String>,
}

#[derive(Debug, Args)]
pub struct IsolateTenantArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// A distributed tenant table (`orders`, or `sales.orders`); every table
    /// colocated with it follows.
    #[arg(long, value_name = "TABLE")]
    pub table: String,

    /// The tenant's key, as in the tenant column (`42`).
    #[arg(long, value_name = "KEY")]
    pub tenant: String,

    /// Then move the tenant's shards to this worker, as the coordinator
    /// knows it (`pg_dist_node`): `HOST:PORT`.
    #[arg(long, value_name = "HOST:PORT")]
    pub to_worker: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// The application's registered tables (JSON written by
    /// `Manifest::to_json`). Without it, only the database-wide checks run.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,

    /// Findings to accept (TOML): `[[accept]]` entries with `kind`, an
    /// optional `table`, an optional `matching` (text the finding's message
    /// contains) and a required `reason`. Acceptances that match nothing
    /// are listed, so that the file does not outlive what it accepted.
    #[arg(long, value_name = "FILE")]
    pub accepted: Option<PathBuf>,

    /// The name of the tenant column, for finding unregistered tenant
    /// tables when no manifest names one (repeatable; default `tenant_id`).
    #[arg(long = "tenant-column", value_name = "NAME")]
    pub tenant_columns: Vec<String>,

    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub targets: TargetArgs,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: MigrateCommand,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Show each target's version and what is pending, from the ledgers.
    Status(StatusArgs),

    /// Apply every pending migration: the canary first, then the fleet.
    ///
    /// The first `--canary` targets are migrated before any other; if one
    /// fails, nothing else is started. Then `--concurrency` targets at a
    /// time, on at most `--concurrency` + 1 connections, until
    /// `--max-failures` targets have failed. A migration that waits longer
    /// than `--lock-timeout` for a lock gives up and is retried with
    /// backoff; lock waits seen in `pg_locks` are reported with the session
    /// that held the lock. Two runs started at once never apply a migration
    /// twice: each target is migrated under an advisory lock.
    Up(UpArgs),

    /// Apply every pending migration to the canary targets only.
    Canary(UpArgs),

    /// Revert every applied migration above `--to`, newest first, with the
    /// `.down.sql` scripts.
    Down(DownArgs),

    /// Write the first migration from the manifest: the tables, their
    /// tenant-led keys and indexes, row-level security, the policy and the
    /// grants — what `OwnerPool::apply_schema` runs. Review it, commit it.
    Init(InitArgs),

    /// Write a draft of the next migration from the drift between the
    /// manifest and the database (`ALTER TABLE .. ADD COLUMN ..`, keys,
    /// indexes, new tables, RLS the audit finds wanting). Compare against a
    /// database migrated to the latest version. Review it, commit it.
    Draft(DraftArgs),
}

/// Where the migrations are.
#[derive(Debug, Args)]
pub struct Source {
    /// The directory of the migrations, in sqlx's layout.
    #[arg(long, value_name = "DIR", default_value = "migrations")]
    pub source: PathBuf,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(flatten)]
    pub source: Source,
    /// Exit with 1 unless every target is at the latest version with no
    /// problem in its ledger.
    #[arg(long)]
    pub check: bool,
    /// Print the status as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub targets: TargetArgs,
}

/// How a run is paced.
#[derive(Debug, Args)]
#[command(next_help_heading = "Pacing")]
pub struct RunArgs {
    /// How many targets are migrated at once, each on its own connection.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub concurrency: usize,

    /// The schema of the ledger table `migration_log`.
    #[arg(long, value_name = "SCHEMA", default_value = "tenancy")]
    pub ledger_schema: String,

    /// The `application_name` of the runner's sessions.
    #[arg(long, value_name = "NAME", default_value = "tenancy-migrate")]
    pub application_name: String,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(flatten)]
    pub source: Source,

    /// Apply migrations up to and including this version only.
    #[arg(long, value_name = "VERSION")]
    pub to: Option<i64>,

    /// How many targets, the first of the list, are migrated before all
    /// others; if one fails, nothing else is started (0: no canary).
    #[arg(long, value_name = "K", default_value_t = 5)]
    pub canary: usize,

    /// Start no further target once this many have failed.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub max_failures: usize,

    /// Create a schema target that does not exist instead of failing it.
    #[arg(long)]
    pub create_schemas: bool,

    /// Print the report as JSON (progress still goes to stderr).
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub locks: LockArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub targets: TargetArgs,
}

/// Locks and timeouts.
#[derive(Debug, Args)]
#[command(next_help_heading = "Locks")]
pub struct LockArgs {
    /// How long a migration's statement may wait for a lock before it gives
    /// up and is retried (`500ms`, `5s`, `1m`).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub lock_timeout: Duration,

    /// The longest a migration's statement may run (default: no limit).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub statement_timeout: Option<Duration>,

    /// Attempts per migration when it hits the lock timeout or a deadlock,
    /// the first included.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub attempts: u32,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(flatten)]
    pub source: Source,

    /// The version every target ends at (0: none applied).
    #[arg(long, value_name = "VERSION")]
    pub to: i64,

    /// Start no further target once this many have failed.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub max_failures: usize,

    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub locks: LockArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub targets: TargetArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The application's registered tables (JSON written by
    /// `Manifest::to_json`).
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
    #[command(flatten)]
    pub source: Source,
    /// The migration's name (lower-case letters, digits and `_`).
    #[arg(long, value_name = "NAME", default_value = "tenant_tables")]
    pub name: String,
    /// Its version (default: the next one in `--source`, numbered like the
    /// existing ones, else the UTC time as `sqlx migrate add` does).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<i64>,
}

#[derive(Debug, Args)]
pub struct DraftArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// The application's registered tables (JSON written by
    /// `Manifest::to_json`), as they are now.
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
    #[command(flatten)]
    pub source: Source,
    /// The migration's name (lower-case letters, digits and `_`).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Its version (default: the next one in `--source`).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<i64>,
    /// The schema to compare with, for tables declared without one (a
    /// tenant schema migrated to the latest version); default: the
    /// connection's `search_path`.
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,
}

#[derive(Debug, Args)]
pub struct TenantsArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(flatten)]
    pub source: Source,
    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub targets: TargetArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_arguments_are_consistent() {
        super::Cli::command().debug_assert();
    }
}
