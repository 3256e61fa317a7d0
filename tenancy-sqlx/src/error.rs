//! The adapter's error type.

use tenancy_core::{
    BuildError, CrossTenantError, DdlError, IdentifierError, KeyValue, SettingNameError,
};

/// Why a role is refused as the application role of a [`TenantPool`](crate::TenantPool).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrivilegedRole {
    /// The role is a superuser.
    Superuser,
    /// The role has the `BYPASSRLS` attribute.
    BypassRls,
    /// The role has the `CREATEROLE` attribute, with which it can grant
    /// itself a role that skips the policies.
    CreateRole,
    /// The role owns these registered tables, or has the privileges of their
    /// owner through role membership.
    OwnsTables(Vec<String>),
    /// The role holds `ADMIN OPTION` on these roles, each one that skips the
    /// policies or can turn them off, so it can grant them to itself.
    AdminOf(Vec<String>),
    /// The role is a member of these roles, each a superuser, `BYPASSRLS`,
    /// `CREATEROLE`, a reader or writer of the server's files, or the owner
    /// of a registered table, so raw SQL can `SET ROLE` to one of them even
    /// where their privileges are not inherited.
    MemberOf(Vec<String>),
    /// The role can create objects in these places (`database "shop"`,
    /// `schema "public"`): with `CREATE` on the database it can create a
    /// schema, and in a schema functions, operators, views and tables that a
    /// `search_path` naming that schema finds before the built-in ones, or
    /// instead of the tables the policies protect.
    CanCreate(Vec<String>),
    /// The role the session logged in as could not be read (the server shows
    /// no `pg_stat_activity` row for it), so a superuser login that switched
    /// with `SET SESSION AUTHORIZATION` cannot be ruled out.
    LoginRoleUnknown,
}

impl PrivilegedRole {
    /// How to fix the role, for the refusal's message.
    fn fix(&self) -> &'static str {
        match self {
            PrivilegedRole::CanCreate(_) => {
                "Connect the tenant pool as a role without CREATE on the database or any schema, \
                 and create objects as the owner role (`OwnerPool`, migrations) (to accept this \
                 role anyway, say why with `TenantPoolOptions::allow_role_that_creates_objects`)"
            }
            _ => {
                "Connect the tenant pool as a role created with NOSUPERUSER NOBYPASSRLS \
                 NOCREATEROLE that does not own the tables, or use `OwnerPool` for migrations \
                 (to accept this role anyway, say why with \
                 `TenantPoolOptions::allow_rls_bypassing_role`)"
            }
        }
    }
}

impl core::fmt::Display for PrivilegedRole {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PrivilegedRole::Superuser => {
                f.write_str("is a superuser: PostgreSQL skips every row-level security policy for it")
            }
            PrivilegedRole::BypassRls => f.write_str(
                "has the BYPASSRLS attribute: PostgreSQL skips every row-level security policy for it",
            ),
            PrivilegedRole::CreateRole => f.write_str(
                "has the CREATEROLE attribute: it can grant itself membership in a role that skips \
                 row-level security or can turn it off (on PostgreSQL 15 any role but a superuser: \
                 the tables' owner, or pg_execute_server_program)",
            ),
            PrivilegedRole::OwnsTables(tables) => write!(
                f,
                "owns (or has the privileges of the owner of) {}: an owner can disable row-level \
                 security or drop the policy, and skips the policies unless FORCE ROW LEVEL SECURITY is set",
                tables.join(", ")
            ),
            PrivilegedRole::AdminOf(roles) => write!(
                f,
                "holds ADMIN OPTION on {}, which row-level security does not confine (a superuser, \
                 BYPASSRLS, CREATEROLE, a reader or writer of the server's files, or the owner of a \
                 registered table): it can grant that role to itself; revoke the admin option",
                roles.join(", ")
            ),
            PrivilegedRole::MemberOf(roles) => write!(
                f,
                "is a member of {}, which row-level security does not confine (a superuser, \
                 BYPASSRLS, CREATEROLE, a reader or writer of the server's files, or the owner of a \
                 registered table): raw SQL can `SET ROLE` to it; revoke the membership",
                roles.join(", ")
            ),
            PrivilegedRole::CanCreate(places) => write!(
                f,
                "can create objects in {}: a schema, function, operator or table it creates can \
                 stand in for a built-in function or a registered table wherever a search_path \
                 names that schema; revoke CREATE, and let the owner role create objects",
                places.join(", ")
            ),
            PrivilegedRole::LoginRoleUnknown => f.write_str(
                "logged in as a role the server does not show (no pg_stat_activity row for this \
                 session), so a superuser login behind SET SESSION AUTHORIZATION cannot be ruled out",
            ),
        }
    }
}

/// Everything that can go wrong in the adapter.
///
/// Messages name the tenant, table or role involved and say how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database or the driver reported an error.
    #[error(transparent)]
    Database(#[from] sqlx::Error),

    /// A statement could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),

    /// Table metadata could not be turned into DDL, or the registered
    /// tables describe one table twice.
    #[error(transparent)]
    Ddl(#[from] DdlError),

    /// A cross-tenant capability could not be created (its reason was empty).
    #[error(transparent)]
    CrossTenant(#[from] CrossTenantError),

    /// Erasure, export or import refused or stopped
    /// ([`lifecycle`](crate::lifecycle), feature `lifecycle`).
    #[cfg(feature = "lifecycle")]
    #[error(transparent)]
    Lifecycle(#[from] crate::lifecycle::LifecycleError),

    /// A statement built for one tenant was given to a transaction of another.
    /// Nothing was sent to the database.
    #[error(
        "statement built for tenant {statement} refused by the transaction of tenant {transaction}; \
         nothing was sent: build it with the transaction's own witness (`tx.tenant()`)"
    )]
    TenantMismatch {
        /// The tenant the statement was built for.
        statement: KeyValue,
        /// The tenant of the transaction.
        transaction: KeyValue,
    },

    /// `commit` was called on a transaction that an earlier statement's error
    /// had aborted. The server discarded the transaction's work; it was
    /// rolled back, and nothing was committed.
    #[error(
        "the transaction of tenant {tenant} was aborted by an earlier error and has been rolled back; \
         nothing was committed: handle that error, then retry the work in a new transaction"
    )]
    TransactionAborted {
        /// The tenant of the transaction.
        tenant: KeyValue,
    },

    /// Raw SQL ended the transaction (`COMMIT`, `ROLLBACK`, `PREPARE
    /// TRANSACTION` through the raw connection, or sqlx's own transaction
    /// calls on it). What ran before that was committed or rolled back by
    /// that statement, not by this call, and what ran after it ran outside
    /// any transaction. The connection was closed.
    #[error(
        "raw SQL ended the transaction of tenant {tenant} (COMMIT, ROLLBACK or PREPARE TRANSACTION \
         through `raw_connection`): what ran before it was committed or rolled back by that \
         statement, not by this call; the connection was closed: end tenant transactions with \
         `commit()` or `rollback()`"
    )]
    TransactionEndedByRawSql {
        /// The tenant of the transaction.
        tenant: KeyValue,
    },

    /// Raw SQL began nested transactions (savepoints) through sqlx on the raw
    /// connection and did not end them. Nothing was committed; the
    /// connection was closed, which rolled everything back.
    #[error(
        "raw SQL left {open} nested transaction(s) open inside the transaction of tenant {tenant}; \
         nothing was committed and the connection was closed: commit or roll back the nested \
         transactions opened on `raw_connection` before `commit()`",
        open = depth.saturating_sub(1)
    )]
    NestedTransactionLeftOpen {
        /// The tenant of the transaction.
        tenant: KeyValue,
        /// sqlx's transaction depth at `commit` (1 is the transaction itself).
        depth: usize,
    },

    /// The future of a statement was dropped (cancelled, timed out) after the
    /// statement may have been sent, so the server may have run it, or may
    /// still be running it, and its answer would be read as the next
    /// statement's. The transaction refuses further statements and `commit`;
    /// the connection is closed, which rolls the transaction back.
    #[error(
        "a statement of the transaction of tenant {tenant} was cancelled (its future dropped) \
         after it may have been sent, so its outcome is unknown: the transaction refuses further \
         statements and commit, and its connection is closed, which rolls it back; retry the \
         work in a new transaction"
    )]
    StatementCancelled {
        /// The tenant of the transaction.
        tenant: KeyValue,
    },

    /// A cross-tenant statement was given to a tenant transaction. Nothing was
    /// sent to the database.
    #[error(
        "statement built across all tenants refused by the transaction of tenant {transaction}; \
         nothing was sent: cross-tenant statements run through `OwnerPool`"
    )]
    CrossTenantInTenantTransaction {
        /// The tenant of the transaction.
        transaction: KeyValue,
    },

    /// A statement built for one tenant was given to the owner pool, which
    /// runs outside any tenant context. Nothing was sent to the database.
    #[error(
        "statement built for tenant {statement} refused by `OwnerPool`; nothing was sent: \
         run tenant statements in `TenantPool::begin(&tenant)`, where RLS backs the predicate up"
    )]
    TenantStatementOnOwnerPool {
        /// The tenant the statement was built for.
        statement: KeyValue,
    },

    /// A statement (or a request for a table's RLS statements) names a table
    /// that the registered tables ([`TableSet`](tenancy_core::ddl::TableSet))
    /// do not hold. Only registered tables get row-level security from
    /// `apply_schema` and are audited, so an unregistered tenant table may
    /// have no policy at all. Nothing was sent to the database.
    #[error(
        "table `{table}` (`{type_name}`) is not registered; nothing was sent: add it to the \
         `TableSet` the pool was made with (`.with::<{type_name}>()`): only registered tables \
         get row-level security from `apply_schema` and are audited"
    )]
    UnregisteredTable {
        /// The table, schema-qualified where the statement would have named
        /// its schema.
        table: String,
        /// The Rust type the statement was built from.
        type_name: &'static str,
    },

    /// A statement was built from a table type that names a registered table
    /// but describes it differently from the type that is registered (a
    /// `#[global_table]` on a tenant table's name, a second
    /// `#[tenant_scoped]` struct with another tenant column): its statements
    /// would not be scoped the way the table's policy is. Nothing was sent
    /// to the database.
    #[error(
        "`{type_name}` describes table `{table}` differently from `{registered}`, which is \
         registered ({difference}); nothing was sent: build the statement from `{registered}`, \
         or give `{type_name}` a table of its own"
    )]
    TableRegisteredDifferently {
        /// The table, schema-qualified.
        table: String,
        /// The Rust type the statement was built from.
        type_name: &'static str,
        /// The Rust type registered for the table.
        registered: &'static str,
        /// How the two descriptions differ.
        difference: String,
    },

    /// A role of the pool's session (the current role, the session role or
    /// the role it logged in as) would skip row-level security, or can make
    /// itself such a role. Checked on every new connection the pool opens.
    #[error("role `{role}` {problem}. {}", problem.fix())]
    PrivilegedRole {
        /// The refused role: the role the pool connected as, or the role it
        /// switched to.
        role: String,
        /// What makes it unsafe.
        problem: PrivilegedRole,
    },

    /// The pool's sessions start with the tenant setting already set: a
    /// default from `ALTER DATABASE`/`ALTER ROLE .. SET`, the connection's
    /// options or `postgresql.conf`.
    #[error(
        "sessions of role `{role}` start with `{setting}` set to {value:?}: outside a tenant \
         transaction they would act as that tenant, where row-level security should show no \
         row; remove the default where it is set (ALTER DATABASE or ALTER ROLE .. RESET \
         {setting}, the connection's options, or postgresql.conf)"
    )]
    SessionTenantDefault {
        /// The role the pool connected as.
        role: String,
        /// The tenant setting.
        setting: String,
        /// The value sessions start with, truncated.
        value: String,
    },

    /// The pool connects to a Citus coordinator whose sessions do not pass
    /// `SET LOCAL` on to the workers: the tenant setting would never reach
    /// the shards' policies, and every tenant transaction would see no row.
    #[error(
        "sessions of role `{role}` on this Citus coordinator have citus.propagate_set_commands = \
         {value:?}, so the tenant setting never reaches the workers and row-level security there \
         shows no row; set it to 'local' for the database (OwnerPool::apply_schema does: ALTER \
         DATABASE .. SET citus.propagate_set_commands = 'local') or the role (ALTER ROLE {role} \
         SET citus.propagate_set_commands = 'local')"
    )]
    CitusSetCommandsNotPropagated {
        /// The role the pool connected as.
        role: String,
        /// The setting's value in the session.
        value: String,
    },

    /// A directory entry places a tenant's database on a server the owner's
    /// credentials are not sent to.
    #[cfg(any(feature = "lifecycle", feature = "migrate"))]
    #[error(
        "the tenant directory places a database on {server}, but the owner's role and password \
         are sent only to its own server ({owner_server}) and the servers trusted with \
         TrustedServers::with (the command line's --trust-server HOST:PORT); trust {server} if \
         it is yours, or correct the directory entry"
    )]
    UntrustedDatabaseServer {
        /// The server the entry names, `host:port`.
        server: String,
        /// The owner's own server, `host:port`.
        owner_server: String,
    },

    /// A reason that must be stated was empty.
    #[error("{what} needs a reason: say why, in words that will make sense in the logs")]
    MissingReason {
        /// What the reason is for.
        what: &'static str,
    },

    /// A setting name that is not `<ident>.<ident>`.
    #[error(
        "invalid setting name {name:?}: expected `<prefix>.<name>` made of ASCII letters, digits \
         and `_`, such as `app.tenant_id`"
    )]
    InvalidSetting {
        /// The offending name, truncated.
        name: String,
    },

    /// A role, schema or table name that cannot be used as an identifier.
    #[error(
        "invalid {kind} name {name:?}: expected 1 to 63 bytes: an ASCII letter or `_`, then \
         ASCII letters, digits or `_`"
    )]
    InvalidIdentifier {
        /// What the name is for ("role", "schema", "table").
        kind: &'static str,
        /// The offending name, truncated.
        name: String,
    },

    /// A tenant key whose text form is not safe to place in the tenant
    /// setting's `SET LOCAL`.
    #[error(
        "tenant key {key:?} cannot be rendered into the tenant setting: only integer and UUID keys are supported"
    )]
    UnrenderableKey {
        /// The key's text, truncated.
        key: String,
    },

    /// A transaction setting of the pool that cannot be sent: a duration
    /// over PostgreSQL's maximum, or a setting the backend does not have.
    /// Refused when the pool is made.
    #[error("the transaction setting `{name}` cannot be applied: {reason}")]
    InvalidTransactionSetting {
        /// The setting (`statement_timeout`, `search_path`, ...).
        name: &'static str,
        /// Why.
        reason: String,
    },

    /// Per-tenant limits that could never admit a transaction (a limit of
    /// 0), or a tenant assigned to a tier that does not exist. Refused when
    /// the pool is made.
    #[error("invalid tenant limits: {reason}")]
    InvalidTenantLimits {
        /// What is wrong.
        reason: String,
    },

    /// The tenant's transaction got no turn within the limits' `max_wait`
    /// ([`limits`](crate::limits)): its tenant, its tier or the whole pool
    /// had as many transactions in flight as allowed, and none ended in
    /// time. Nothing was sent to the server; retry later, or shed the
    /// request (HTTP 429 or 503).
    #[error("tenant {tenant} is busy: {limit}; no turn came within {waited:?}")]
    TenantBusy {
        /// The tenant.
        tenant: KeyValue,
        /// The limit that held it.
        limit: crate::limits::BusyLimit,
        /// How long it waited.
        waited: core::time::Duration,
    },

    /// The statement ran longer than the transaction's `statement_timeout`
    /// and the server cancelled it. The transaction is aborted: roll it
    /// back (a `commit` reports [`Error::TransactionAborted`]); its
    /// connection goes back to the pool clean.
    #[error(
        "tenant {tenant}'s statement ran past its statement_timeout of {timeout:?} and was \
         cancelled; the transaction is aborted"
    )]
    StatementTimeout {
        /// The tenant.
        tenant: KeyValue,
        /// The timeout.
        timeout: core::time::Duration,
        /// The server's error.
        #[source]
        source: sqlx::Error,
    },

    /// The statement waited longer than the transaction's `lock_timeout`
    /// for a lock. The transaction is aborted, as for
    /// [`Error::StatementTimeout`].
    #[error(
        "tenant {tenant}'s statement waited past its lock_timeout of {timeout:?} for a lock; \
         the transaction is aborted"
    )]
    LockTimeout {
        /// The tenant.
        tenant: KeyValue,
        /// The timeout.
        timeout: core::time::Duration,
        /// The server's error.
        #[source]
        source: sqlx::Error,
    },

    /// The transaction stayed idle longer than its
    /// `idle_in_transaction_session_timeout`, and the server ended its
    /// session: nothing of it was committed, and the connection is closed,
    /// not reused.
    #[error(
        "tenant {tenant}'s transaction was idle past its idle_in_transaction_session_timeout \
         of {timeout:?}; the server ended the session and nothing was committed"
    )]
    IdleInTransactionTimeout {
        /// The tenant.
        tenant: KeyValue,
        /// The timeout.
        timeout: core::time::Duration,
        /// The server's error.
        #[source]
        source: sqlx::Error,
    },

    /// A statement failed because sqlx's named prepared statement was
    /// missing on the server connection, or was already there: the pool
    /// reaches PostgreSQL through a pooler in transaction mode (PgBouncer
    /// before 1.21, RDS Proxy...), which gives consecutive transactions
    /// different server connections and shares them between clients. A
    /// transaction it happened in is aborted; a pool whose connection check
    /// it happened in is not made.
    #[error(
        "a statement failed ({message}): the pool seems to reach \
         PostgreSQL through a transaction-mode pooler, where sqlx's named prepared statements do \
         not survive from one transaction to the next; make the pool with \
         `TenantPoolOptions::behind_transaction_pooler()` (and use `.persistent(false)` on raw \
         queries)"
    )]
    PreparedStatementBehindPooler {
        /// The server's message.
        message: String,
    },

    /// The tenant directory has no entry for this tenant. Nothing was sent
    /// to any tenant's place.
    #[cfg(feature = "postgres")]
    #[error("tenant {tenant} is not in the tenant directory: provision it before serving it")]
    TenantNotFound {
        /// The tenant.
        tenant: KeyValue,
    },

    /// The tenant's directory entry is not active: suspended, being moved,
    /// or deleted. Nothing was sent to its place.
    #[cfg(feature = "postgres")]
    #[error(
        "tenant {tenant} is {status}, so its transactions are refused{}",
        status.refusal_hint()
    )]
    TenantUnavailable {
        /// The tenant.
        tenant: KeyValue,
        /// Its status.
        status: crate::directory::TenantStatus,
    },

    /// A tenant directory entry that does not validate: a schema name that
    /// is not an identifier, a database URL that does not parse, an unknown
    /// status or placement. It is never used.
    #[cfg(feature = "postgres")]
    #[error("invalid tenant directory entry: {reason}")]
    InvalidDirectoryEntry {
        /// What is wrong.
        reason: String,
    },

    /// A move of a tenant between placements that cannot start or resume
    /// as asked. Nothing was changed.
    #[cfg(feature = "postgres")]
    #[error("tenant {tenant} cannot be moved: {reason}")]
    MoveRefused {
        /// The tenant.
        tenant: KeyValue,
        /// Why.
        reason: String,
    },

    /// The target of a move did not hold exactly the source's rows after
    /// the copy. The move was undone: the copy removed, the tenant active
    /// at the source, which was never changed.
    #[cfg(feature = "postgres")]
    #[error(
        "moving tenant {tenant} failed verification on `{table}` (source: {at_source}; target: \
         {at_target}); the move was undone and the tenant is active where it was"
    )]
    MoveVerificationFailed {
        /// The tenant.
        tenant: KeyValue,
        /// The first table that differed.
        table: String,
        /// Rows and checksum at the source.
        at_source: String,
        /// Rows and checksum at the target.
        at_target: String,
    },

    /// The migrations of a new tenant's schema or database did not all
    /// apply: the tenant was not recorded in the directory, so it is not
    /// served.
    #[cfg(feature = "postgres")]
    #[error("provisioning `{target}` failed, so the tenant was not recorded: {report}")]
    ProvisioningFailed {
        /// The schema or database.
        target: String,
        /// What the migration runner reported.
        report: String,
    },

    /// Every place in the router's cache of database pools stayed taken
    /// (pools being made, or closing while their connections are borrowed)
    /// for the whole acquire timeout.
    #[cfg(feature = "postgres")]
    #[error(
        "no place for another tenant database pool: all {max_pools} stayed in use for {waited:?};          raise `RouterOptions::max_database_pools` or the acquire timeout"
    )]
    PoolCacheFull {
        /// The cache's bound.
        max_pools: usize,
        /// How long the request waited.
        waited: core::time::Duration,
    },

    /// Router options that cannot hold: fewer database connections than
    /// pools, or no pool.
    #[cfg(feature = "postgres")]
    #[error("invalid router options: {reason}")]
    InvalidRouterOptions {
        /// Why.
        reason: String,
    },

    /// `OwnerPool::apply_schema` found existing tables that differ from
    /// their registered structs in ways its `CREATE .. IF NOT EXISTS` DDL
    /// cannot repair. Nothing was changed.
    #[cfg(feature = "postgres")]
    #[error(
        "the database does not match the registered tables, and `apply_schema` never alters an \
         existing table; nothing was changed. Write a migration for these differences \
         (`tenancy migrate draft` drafts one), run it, then apply the schema again:{}",
        crate::audit::list(findings)
    )]
    SchemaDrift {
        /// Each difference, with the SQL that repairs it.
        findings: Vec<crate::audit::Finding>,
    },

    /// `apply_schema` applied the schema, then found, in the same
    /// transaction, that the catalog checks ([`audit::verify`](crate::audit::verify))
    /// still report problems: a table would stay protected otherwise than
    /// the library protects it (another permissive policy, privileges
    /// granted by hand, an application role that can create objects...).
    /// Everything was rolled back.
    #[cfg(feature = "postgres")]
    #[error(
        "after applying the schema the catalog checks still found problems, so nothing was \
         changed (all of it was rolled back); fix each, then apply the schema again:{}",
        crate::audit::list(findings)
    )]
    SchemaNotProtected {
        /// Each problem, with the SQL that fixes it.
        findings: Vec<crate::audit::Finding>,
    },

    /// The generated DDL of a table could not be read back into its
    /// columns, keys and indexes: this version of tenancy-sqlx does not
    /// understand the DDL its own generator wrote.
    #[cfg(feature = "postgres")]
    #[error(
        "cannot read the generated DDL of `{table}` ({reason}); tenancy-core and tenancy-sqlx \
         must be the same version"
    )]
    UnreadableDdl {
        /// The table.
        table: String,
        /// What could not be read.
        reason: String,
    },

    /// A manifest (the JSON form of the registered tables) that cannot be
    /// read.
    #[cfg(feature = "postgres")]
    #[error("invalid manifest: {reason}")]
    InvalidManifest {
        /// What is wrong.
        reason: String,
    },

    /// The Citus layout asked for cannot be built from the registered
    /// tables.
    #[error("cannot distribute `{table}` on Citus: {reason}")]
    CitusLayout {
        /// The table.
        table: String,
        /// Why, and what to change.
        reason: String,
    },

    /// A table could not be partitioned by tenant, or a tenant's partition
    /// added; nothing was changed.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Partition(#[from] crate::partition::PartitionError),

    /// A tenant column whose SQL type cannot key a policy.
    #[error(
        "the tenant column `{column}` of `{table}` has SQL type {sql_type}, which a policy cannot \
         compare with the setting: tenant columns must be BIGINT, INTEGER or UUID"
    )]
    UnsupportedTenantType {
        /// The table.
        table: String,
        /// The tenant column.
        column: &'static str,
        /// Its SQL type, for the message.
        sql_type: String,
    },

    /// A Citus coordinator refused an `INSERT` whose values hold a subquery:
    /// Citus runs none, on one shard or many. The hint it gives, writing
    /// `INSERT .. SELECT`, does not help under row-level security.
    #[error(
        "Citus runs no INSERT whose values hold a subquery ({message}), on one shard or many, and \
         its hint to write INSERT .. SELECT fails under row-level security (COPY FROM not \
         supported with row-level security): select the value first in the same transaction, \
         then insert it as a bound value"
    )]
    CitusInsertWithSubquery {
        /// The coordinator's message.
        message: String,
    },

    /// A tenant's ad hoc query was refused before anything was sent: it is
    /// not one read-only `SELECT` over the allowed tables and functions.
    #[error("ad hoc query refused: {reasons}")]
    AdHocRefused {
        /// Every problem found, each with what is not allowed.
        reasons: String,
    },

    /// The registered tables could not make an ad hoc query's allow-list.
    #[error("ad hoc query allow-list: {reason}")]
    AdHocAllowList {
        /// What is wrong.
        reason: String,
    },
}

/// What a Citus coordinator says of an `INSERT .. VALUES` whose values hold
/// a subquery.
const CITUS_INSERT_WITH_SUBQUERY: &str = "subqueries are not supported within INSERT queries";

impl Error {
    /// The error of a statement the adapter ran: a prepared statement that
    /// a transaction-mode pooler lost or duplicated says so, and so does an
    /// insert Citus cannot run.
    pub(crate) fn from_execution<DB: crate::Backend>(error: sqlx::Error) -> Self {
        let message = error.as_database_error().map(|error| error.message());
        if DB::is_prepared_statement_mismatch(&error) {
            return Error::PreparedStatementBehindPooler {
                message: message.unwrap_or_default().to_owned(),
            };
        }
        if message == Some(CITUS_INSERT_WITH_SUBQUERY) {
            return Error::CitusInsertWithSubquery {
                message: CITUS_INSERT_WITH_SUBQUERY.to_owned(),
            };
        }
        Error::Database(error)
    }
}

impl From<IdentifierError> for Error {
    fn from(error: IdentifierError) -> Self {
        Error::InvalidIdentifier {
            kind: error.kind,
            name: error.name,
        }
    }
}

impl From<SettingNameError> for Error {
    fn from(error: SettingNameError) -> Self {
        Error::InvalidSetting { name: error.name }
    }
}
