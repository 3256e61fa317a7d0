//! Test support for the tenancy workspace's integration tests (not
//! published): the shop schema and its seed, probes that read what the next
//! borrower of a pooled connection finds, the server's view of a pool's
//! backends, a `tracing` capture to assert on logged events, and the
//! migration runner's fixtures.
//!
//! Modelled on sqlx's `sqlx-test`: one crate, used by every suite, so that
//! fixtures and probes are written once.

pub mod capture;
pub mod migrate;
pub mod models;
pub mod pooled;
pub mod probe;
pub mod server;
pub mod shop;
pub mod sql;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// The error type of every test: anything that converts into a boxed error,
/// `Send` so that it crosses spawned tasks.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a test returns: `?` works on every error the suites meet.
pub type TestResult<T = ()> = Result<T, BoxError>;

/// Polls `future` once, with a waker that does nothing: the test decides
/// when it is polled again, or dropped.
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}
