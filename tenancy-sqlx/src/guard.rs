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
//!
//! The PostgreSQL pools this crate makes do not ping a connection before
//! handing it out (sqlx's `test_before_acquire`): the release check below,
//! sqlx's own ping of every returned connection, and [`begin_attempt`] cover
//! what the ping would for `begin`, without its round trip; the few
//! statements sent outside a tenant transaction (the API-key lookup) retry
//! a lost connection themselves.

use core::future::Future;
use core::pin::pin;

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

/// How an attempt to open a transaction on a pooled connection failed.
pub(crate) struct BeginFailed {
    pub(crate) error: sqlx::Error,
    /// The attempt failed within the poll that wrote `BEGIN`: the failure
    /// was already waiting on the connection. With an error that says the
    /// session is gone, the connection was dead before anything of the
    /// transaction was sent. (A server that ended the session in the few
    /// microseconds between that write and the read would look the same;
    /// a `BEGIN` sent to a session that then ended has no effect either.)
    pub(crate) before_sent: bool,
}

/// Runs `begin` (sqlx's `BEGIN` on a connection taken without a ping)
/// and tells, if it fails, whether the failure came within its first
/// poll. One poll writes the statement and reads what is already on the
/// socket: a session the server ended while the connection sat idle in
/// the pool left its notice (or the end of the stream) there, whereas
/// an answer to `BEGIN` itself needs the server to run first.
pub(crate) async fn begin_attempt<F>(begin: F) -> Result<(), BeginFailed>
where
    F: Future<Output = Result<(), sqlx::Error>>,
{
    let mut begin = pin!(begin);
    let mut polls = 0_u32;
    let result = core::future::poll_fn(|cx| {
        polls = polls.saturating_add(1);
        begin.as_mut().poll(cx)
    })
    .await;
    result.map_err(|error| BeginFailed {
        error,
        before_sent: polls == 1,
    })
}
