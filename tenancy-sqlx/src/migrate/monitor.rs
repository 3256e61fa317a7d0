//! Lock waits, as the server sees them: while migrations run, the runner
//! reads `pg_locks` for its own sessions' ungranted locks and who holds
//! what they wait for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::PgConnection;
use tokio::sync::watch;

use super::{Event, LockWait, RunnerOptions};

/// What each of the runner's sessions is doing, by backend pid.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    running: Mutex<HashMap<i32, Current>>,
    waits: Mutex<Vec<Seen>>,
}

/// A migration being applied on one session.
#[derive(Debug, Clone)]
struct Current {
    target: String,
    version: i64,
    attempt: u32,
}

/// A lock wait seen in one or more polls.
#[derive(Debug, Clone)]
struct Seen {
    pid: i32,
    wait: LockWait,
    first: Instant,
    last: Instant,
}

impl Activity {
    /// Session `pid` starts `attempt` of `version` on `target`.
    pub(crate) fn start(&self, pid: i32, target: &str, version: i64, attempt: u32) {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                pid,
                Current {
                    target: target.to_owned(),
                    version,
                    attempt,
                },
            );
    }

    /// Session `pid` is done with what it was doing.
    pub(crate) fn finish(&self, pid: i32) {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&pid);
    }

    fn pids(&self) -> Vec<i32> {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    fn current(&self, pid: i32) -> Option<Current> {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&pid)
            .cloned()
    }

    /// The last lock wait seen for `attempt` of `version` on `target`, for
    /// the message of a lock timeout.
    pub(crate) fn last_wait(&self, target: &str, version: i64, attempt: u32) -> Option<LockWait> {
        self.waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .rev()
            .find(|seen| {
                seen.wait.target == target
                    && seen.wait.version == version
                    && seen.wait.attempt == attempt
            })
            .map(|seen| seen.wait.clone())
    }

    /// Every wait seen, in the order first seen.
    pub(crate) fn waits(&self) -> Vec<LockWait> {
        self.waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|seen| seen.wait.clone())
            .collect()
    }

    /// Records what one poll saw; returns the waits seen for the first time.
    fn record(&self, rows: Vec<WaitRow>, poll: Duration) -> Vec<LockWait> {
        let now = Instant::now();
        let mut waits = self.waits.lock().unwrap_or_else(PoisonError::into_inner);
        let mut new = Vec::new();
        for row in rows {
            let Some(current) = self.current(row.pid) else {
                continue;
            };
            let same = |seen: &&mut Seen| {
                seen.pid == row.pid
                    && seen.wait.target == current.target
                    && seen.wait.version == current.version
                    && seen.wait.attempt == current.attempt
                    && seen.wait.lock_type == row.lock_type
                    && seen.wait.relation == row.relation
                    && seen.wait.mode == row.mode
            };
            if let Some(seen) = waits.iter_mut().find(|seen| same(seen)) {
                seen.last = now;
                seen.wait.waited = now.duration_since(seen.first) + poll;
                if !row.blocked_by.is_empty() {
                    seen.wait.blocked_by = row.blocked_by;
                }
                continue;
            }
            let wait = LockWait {
                target: current.target,
                version: current.version,
                attempt: current.attempt,
                lock_type: row.lock_type,
                relation: row.relation,
                mode: row.mode,
                blocked_by: row.blocked_by,
                waited: poll,
            };
            new.push(wait.clone());
            waits.push(Seen {
                pid: row.pid,
                wait,
                first: now,
                last: now,
            });
        }
        new
    }
}

#[derive(sqlx::FromRow)]
struct WaitRow {
    pid: i32,
    lock_type: String,
    relation: Option<String>,
    mode: String,
    blocked_by: Vec<String>,
}

/// Every ungranted lock of `pids`, with the sessions blocking each.
const WAITS: &str = "\
SELECT l.pid, l.locktype AS lock_type,
       CASE WHEN l.relation IS NOT NULL THEN l.relation::regclass::text END AS relation,
       l.mode,
       ARRAY(SELECT b::text || ' (' || coalesce(nullif(a.application_name, ''), 'no application name')
                    || ', ' || coalesce(a.state, 'unknown state') || ': '
                    || left(coalesce(a.query, ''), 120) || ')'
             FROM unnest(pg_catalog.pg_blocking_pids(l.pid)) AS b
             LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = b
             ORDER BY b) AS blocked_by
FROM pg_catalog.pg_locks l
WHERE NOT l.granted AND l.pid = ANY ($1)";

/// Polls `pg_locks` on `connection` until `done` turns true, then hands
/// the connection back. A failed poll ends the watch (lock waits are then
/// not reported) but never the run.
pub(crate) async fn watch_locks(
    mut connection: PgConnection,
    activity: Arc<Activity>,
    options: RunnerOptions,
    mut done: watch::Receiver<bool>,
) -> PgConnection {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(options.lock_poll) => {}
            _ = done.changed() => return connection,
        }
        if *done.borrow() {
            return connection;
        }
        let pids = activity.pids();
        if pids.is_empty() {
            continue;
        }
        let rows: Vec<WaitRow> = match sqlx::query_as(WAITS)
            .bind(&pids)
            .fetch_all(&mut connection)
            .await
        {
            Ok(rows) => rows,
            Err(error) => {
                tracing::warn!(target: "tenancy::migrate", %error, "cannot read pg_locks; lock waits are not reported");
                // Wait for the end of the run without polling.
                let _ = done.wait_for(|done| *done).await;
                return connection;
            }
        };
        for wait in activity.record(rows, options.lock_poll) {
            options.emit(Event::LockWait(wait));
        }
    }
}
