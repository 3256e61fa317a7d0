//! Guards that keep a pooled connection in an unknown state from reaching the
//! next borrower.
//!
//! sqlx tracks a connection's transaction depth locally and counts a
//! transaction only once the server has confirmed `BEGIN`. If the future that
//! sends `BEGIN` is dropped after the statement left but before the answer
//! came back, sqlx 0.9.0 queues no rollback and returns the connection to the
//! pool with the server inside a transaction that carries the previous
//! tenant's setting. The guard here closes such a connection instead: it
//! costs nothing on the normal path, and a cancelled or failed `begin` pays
//! one reconnect.

use sqlx::pool::PoolConnection;

use crate::backend::Backend;

/// Borrows a pooled connection while a transaction is being opened on it.
/// Unless [`CloseUnlessBegun::begun`] is reached, dropping the guard marks the
/// connection to be closed instead of returned to the pool.
pub(crate) struct CloseUnlessBegun<'a, DB: sqlx::Database> {
    connection: &'a mut PoolConnection<DB>,
    begun: bool,
}

impl<'a, DB: sqlx::Database> CloseUnlessBegun<'a, DB> {
    pub(crate) fn new(connection: &'a mut PoolConnection<DB>) -> Self {
        CloseUnlessBegun {
            connection,
            begun: false,
        }
    }

    /// The connection, to send `BEGIN` on.
    pub(crate) fn connection(&mut self) -> &mut DB::Connection {
        self.connection
    }

    /// The transaction is open and sqlx counts it: from here on sqlx's own
    /// rollback-on-drop applies, so the connection may go back to the pool.
    pub(crate) fn begun(mut self) {
        self.begun = true;
    }
}

impl<DB: sqlx::Database> Drop for CloseUnlessBegun<'_, DB> {
    fn drop(&mut self) {
        if !self.begun {
            tracing::debug!(
                target: "tenancy::pool",
                "closing a connection whose BEGIN did not complete"
            );
            self.connection.close_on_drop();
        }
    }
}

/// The `after_release` check of pools this crate builds: a connection that
/// sqlx still counts as inside a transaction is closed, not reused. It reads
/// the locally tracked depth, once work queued on the connection has been
/// applied (no round trip on PostgreSQL, where that happens when it is
/// queued; a ping of SQLite's worker thread, which applies a queued rollback
/// in turn).
pub(crate) fn release_only_outside_transactions<DB: Backend>(
    options: sqlx::pool::PoolOptions<DB>,
) -> sqlx::pool::PoolOptions<DB> {
    options.after_release(|connection, _metadata| {
        Box::pin(async move {
            DB::settle(connection).await?;
            let reusable = !sqlx::Connection::is_in_transaction(connection);
            if !reusable {
                tracing::warn!(
                    target: "tenancy::pool",
                    "closing a connection returned to the pool inside a transaction"
                );
            }
            Ok(reusable)
        })
    })
}
