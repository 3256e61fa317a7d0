//! Opening tenant pools on SQLite.

use std::sync::Mutex;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Connection, Sqlite, SqliteConnection};
use tenancy_core::CrossTenant;

use crate::refusal::Shared;
use crate::{Error, OwnerPool, TenantPool, TenantPoolOptions};

impl TenantPool<Sqlite> {
    /// Opens the SQLite database at `url` (`sqlite://data.db?mode=rwc`,
    /// `sqlite::memory:`) with foreign keys enforced and, for a file,
    /// write-ahead logging, so readers and a writer do not block each other.
    ///
    /// The SQLite constructors carry the backend in their names so that
    /// turning on the `sqlite` feature never makes a call to PostgreSQL's
    /// `TenantPool::connect` ambiguous.
    ///
    /// **SQLite has no Row Level Security**: the builder's tenant predicate
    /// is the only runtime guard, and raw SQL through
    /// [`TenantTransaction::raw_connection`](crate::TenantTransaction::raw_connection)
    /// sees every tenant's rows. Of `options`, only
    /// [`TransactionSettings::read_only`](crate::TransactionSettings::read_only)
    /// applies: there is no setting to carry the tenant and no role to
    /// check, and a pool with timeouts or a plan cache mode, which SQLite
    /// does not have, is refused ([`Error::InvalidTransactionSetting`]).
    ///
    /// An in-memory database lives as long as a connection to it is open, so
    /// for one the pool keeps a connection of its own, unused, until the pool
    /// is dropped: a connection that the pool closes (after a failed
    /// `begin`, say) does not take the data with it. Create its tables
    /// through [`owner_pool`](Self::owner_pool), which shares the
    /// connections: another pool opened with `sqlite::memory:` is another
    /// database.
    ///
    /// ```
    /// # async fn run() -> Result<(), tenancy_sqlx::Error> {
    /// use tenancy_sqlx::ddl::TableSet;
    /// use tenancy_sqlx::{TenantId, TenantPool, TenantPoolOptions};
    ///
    /// let pool = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&TableSet::new())).await?;
    /// let tx = pool.begin(&TenantId::from_verified(7)).await?;
    /// tx.commit().await?;
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(sqlx::Error::from)?.block_on(run())?;
    /// # Ok::<(), tenancy_sqlx::Error>(())
    /// ```
    pub async fn connect_sqlite(url: &str, options: TenantPoolOptions) -> Result<Self, Error> {
        let connect = options_for_url(url)?;
        let mut pool_options = SqlitePoolOptions::new();
        if is_in_memory(url) {
            let keeper = Mutex::new(SqliteConnection::connect_with(&connect).await?);
            // The pool owns this hook, so the hook's keeper lives exactly as
            // long as the pool.
            pool_options = pool_options.after_connect(move |_connection, _metadata| {
                let _owned_by_the_pool = &keeper;
                Box::pin(async { Ok(()) })
            });
        }
        Self::connect_sqlite_with(pool_options, connect, options).await
    }

    /// Connects with the given sqlx pool and connection options (pool size,
    /// busy timeout, journal mode…), with foreign keys switched on whatever
    /// the options said. The pool's `after_release` hook is replaced by the
    /// tenant pool's own, which closes any connection sqlx still counts as
    /// inside a transaction. There is no way to wrap a pool built elsewhere:
    /// code borrowing from it directly would share connections with tenant
    /// transactions.
    ///
    /// For an in-memory database, keep a connection to it open for as long
    /// as the pool is used (or use [`connect_sqlite`](Self::connect_sqlite), which does):
    /// the database disappears with its last connection, and the pool closes
    /// connections — every transaction dropped without `commit` or
    /// `rollback`, and every one that used raw SQL, closes its own.
    pub async fn connect_sqlite_with(
        pool_options: SqlitePoolOptions,
        connect_options: SqliteConnectOptions,
        options: TenantPoolOptions,
    ) -> Result<Self, Error> {
        let shared = Shared::new(options.table_set().clone());
        Self::built(
            pool_options,
            connect_options.foreign_keys(true),
            shared,
            &options,
        )
        .await
    }

    /// An owner pool on the same connections, made with a [`CrossTenant`]
    /// capability: for creating the tables
    /// ([`OwnerPool::<Sqlite>::apply_schema`](OwnerPool::apply_schema)) and
    /// for statements across tenants. SQLite has no roles, so the two pools
    /// differ only in what they accept. It checks its statements against
    /// this pool's registered tables ([`OwnerPool::with_tables`]).
    #[must_use]
    pub fn owner_pool(&self, capability: CrossTenant) -> OwnerPool<Sqlite> {
        OwnerPool::from_pool(self.sqlx_pool().clone(), capability).with_tables(self.tables())
    }
}

/// The connection options for `url`: foreign keys on, and write-ahead
/// logging for a file (SQLite ignores it for an in-memory database).
pub(super) fn options_for_url(url: &str) -> Result<SqliteConnectOptions, Error> {
    let options: SqliteConnectOptions = url.parse()?;
    Ok(options
        .foreign_keys(true)
        .journal_mode(SqliteJournalMode::Wal))
}

/// Whether `url` names an in-memory database (`sqlite::memory:`,
/// `sqlite://name?mode=memory`), in sqlx's URL syntax.
fn is_in_memory(url: &str) -> bool {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    path.ends_with(":memory:") || query.split('&').any(|pair| pair == "mode=memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_urls_are_recognised() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://shared?mode=memory&cache=shared",
        ] {
            assert!(is_in_memory(url), "{url}");
        }
        for url in [
            "sqlite://data.db",
            "sqlite://data.db?mode=rwc",
            "sqlite://memory.db",
        ] {
            assert!(!is_in_memory(url), "{url}");
        }
    }
}
