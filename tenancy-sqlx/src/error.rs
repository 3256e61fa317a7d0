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
    /// The role the session logged in as could not be read (the server shows
    /// no `pg_stat_activity` row for it), so a superuser login that switched
    /// with `SET SESSION AUTHORIZATION` cannot be ruled out.
    LoginRoleUnknown,
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

    /// A role of the pool's session (the current role, the session role or
    /// the role it logged in as) would skip row-level security, or can make
    /// itself such a role. Checked on every new connection the pool opens.
    #[error(
        "role `{role}` {problem}. Connect the tenant pool as a role created with NOSUPERUSER \
         NOBYPASSRLS NOCREATEROLE that does not own the tables, or use `OwnerPool` for migrations \
         (to accept this role anyway, say why with `TenantPoolOptions::allow_rls_bypassing_role`)"
    )]
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
