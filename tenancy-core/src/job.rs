//! Background jobs: a tenant's work written down for later, which a worker
//! turns back into a witness only after asking whether the tenant may still
//! run anything.
//!
//! A [`TenantJob`] is made from a [`TenantId`] when the work is enqueued and
//! can be serialized (feature `serde`) into any queue, table or message
//! broker. Its tenant is a bare key, not a witness: whoever can write to the
//! queue can write any key into it. [`TenantJob::verify`] asks a
//! [`VerifyTenant`] (the tenant directory, a lookup in a tenants table, a
//! callback of yours) and yields the [`TenantId`] only when the tenant is
//! known and [`TenantStatus::Active`].
//!
//! ```
//! use tenancy_core::{JobError, TenantId, TenantJob, TenantStatus};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let job = TenantJob::new(&TenantId::from_verified(42), "send the invoice");
//!
//! // Any `Fn(key) -> future of Result<Option<TenantStatus>, E>` is a
//! // verifier; `None` is a tenant it does not know.
//! let directory = |key: i64| async move {
//!     Ok::<_, std::io::Error>((key == 42).then_some(TenantStatus::Active))
//! };
//! let (tenant, task) = job.verify(&directory).await?;
//! assert_eq!((tenant.key(), task), (42, "send the invoice"));
//!
//! let stranger = TenantJob::new(&TenantId::from_verified(7), "wipe everything");
//! let refused = stranger.verify(&directory).await.unwrap_err();
//! assert!(matches!(refused, JobError::UnknownTenant { .. }));
//! # Ok(()) }
//! # block_on(run());
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     use std::task::{Context, Poll, Waker};
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = Context::from_waker(Waker::noop());
//! #     loop { if let Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
//! # }
//! ```

use core::future::Future;

use crate::status::TenantStatus;
use crate::tenant::{KeyValue, TenantId, TenantKey};

/// Answers, for a tenant key read from outside the program, where that
/// tenant stands now.
///
/// Implemented for every `Fn(K) -> impl Future<Output =
/// Result<Option<TenantStatus>, E>>` (a callback of yours) and, in
/// `tenancy-sqlx`, by the tenant directory and the router over it. An
/// implementation answers `None` for a key it has no record of, never
/// `Active`.
pub trait VerifyTenant<K: TenantKey>: Send + Sync {
    /// Why the status could not be found out (the directory is unreachable…).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The tenant's current status, or `None` for a tenant it does not know.
    fn status(
        &self,
        key: K,
    ) -> impl Future<Output = Result<Option<TenantStatus>, Self::Error>> + Send;
}

impl<K, F, Fut, E> VerifyTenant<K> for F
where
    K: TenantKey,
    F: Fn(K) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Option<TenantStatus>, E>> + Send,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = E;

    fn status(&self, key: K) -> impl Future<Output = Result<Option<TenantStatus>, E>> + Send {
        self(key)
    }
}

/// Why a job did not yield a witness.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError<E> {
    /// The tenant is suspended, moving or deleted: the job must not run
    /// (retry it later, or drop it, as the status says).
    #[error("job refused: tenant {tenant} is {status}{}", status.refusal_hint())]
    Refused {
        /// The key the job named.
        tenant: KeyValue,
        /// Its status.
        status: TenantStatus,
    },
    /// The verifier has no record of the tenant: the key was forged, or
    /// the tenant is gone.
    #[error("job refused: tenant {tenant} is not known to the verifier")]
    UnknownTenant {
        /// The key the job named.
        tenant: KeyValue,
    },
    /// The verifier failed; nothing is known about the tenant.
    #[error("job refused: the status of tenant {tenant} could not be verified")]
    Verifier {
        /// The key the job named.
        tenant: KeyValue,
        /// What went wrong.
        #[source]
        source: E,
    },
}

/// A tenant's job, to be run later by a worker: the tenant's key and the
/// job's own data.
///
/// Not a witness: it cannot be passed where a [`TenantId`] is expected, and
/// it yields one only through [`TenantJob::verify`]. With the `serde`
/// feature it serializes as `{"tenant": <key>, "payload": <payload>}` and
/// deserializes from the same (so a queue can carry it), which is why it
/// must never be trusted as it comes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TenantJob<K: TenantKey = i64, P = ()> {
    tenant: K,
    payload: P,
}

impl<K: TenantKey, P> TenantJob<K, P> {
    /// A job for the witnessed tenant: enqueue work only for a tenant you
    /// hold a witness of.
    #[must_use]
    pub fn new(tenant: &TenantId<K>, payload: P) -> Self {
        TenantJob {
            tenant: tenant.key(),
            payload,
        }
    }

    /// The key the job names, unverified: for logs and routing, not for
    /// queries.
    #[must_use]
    pub fn unverified_tenant(&self) -> K {
        self.tenant
    }

    /// The job's data.
    #[must_use]
    pub fn payload(&self) -> &P {
        &self.payload
    }

    /// Asks `verifier` where the job's tenant stands, and yields the
    /// witness with the payload only if the tenant is active.
    ///
    /// # Errors
    ///
    /// [`JobError::Refused`] when the tenant is suspended, moving or
    /// deleted, [`JobError::UnknownTenant`] when the verifier does not know
    /// it, [`JobError::Verifier`] when the verifier failed.
    pub async fn verify<V: VerifyTenant<K>>(
        self,
        verifier: &V,
    ) -> Result<(TenantId<K>, P), JobError<V::Error>> {
        let tenant = self.tenant.to_key_value();
        match verifier.status(self.tenant).await {
            Ok(Some(TenantStatus::Active)) => {
                Ok((TenantId::from_verified(self.tenant), self.payload))
            }
            Ok(Some(status)) => Err(JobError::Refused { tenant, status }),
            Ok(None) => Err(JobError::UnknownTenant { tenant }),
            Err(source) => Err(JobError::Verifier { tenant, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::{Context, Poll, Waker};

    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("directory unreachable")]
    struct Unreachable;

    /// 1 active, 2 suspended, 3 moving, 4 deleted, 5 unreachable, else unknown.
    async fn directory(key: i64) -> Result<Option<TenantStatus>, Unreachable> {
        match key {
            1 => Ok(Some(TenantStatus::Active)),
            2 => Ok(Some(TenantStatus::Suspended)),
            3 => Ok(Some(TenantStatus::Moving)),
            4 => Ok(Some(TenantStatus::Deleted)),
            5 => Err(Unreachable),
            _ => Ok(None),
        }
    }

    fn job(key: i64) -> TenantJob<i64, &'static str> {
        TenantJob::new(&TenantId::from_verified(key), "work")
    }

    #[test]
    fn only_an_active_tenant_yields_a_witness() {
        let (tenant, payload) = block_on(job(1).verify(&directory)).unwrap();
        assert_eq!((tenant, payload), (TenantId::from_verified(1), "work"));
        for (key, expected) in [
            (2, TenantStatus::Suspended),
            (3, TenantStatus::Moving),
            (4, TenantStatus::Deleted),
        ] {
            match block_on(job(key).verify(&directory)) {
                Err(JobError::Refused { tenant, status }) => {
                    assert_eq!((tenant, status), (KeyValue::I64(key), expected));
                }
                other => panic!("tenant {key}: {other:?}"),
            }
        }
        match block_on(job(99).verify(&directory)) {
            Err(JobError::UnknownTenant { tenant }) => assert_eq!(tenant, KeyValue::I64(99)),
            other => panic!("tenant 99: {other:?}"),
        }
    }

    #[test]
    fn a_failing_verifier_refuses_the_job() {
        let error = block_on(job(5).verify(&directory)).unwrap_err();
        assert!(matches!(error, JobError::Verifier { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            "job refused: the status of tenant 5 could not be verified"
        );
        let refused = block_on(job(2).verify(&directory)).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "job refused: tenant 2 is suspended until it is made active again"
        );
        let moving = block_on(job(3).verify(&directory)).unwrap_err();
        assert_eq!(
            moving.to_string(),
            "job refused: tenant 3 is moving: retry once the move has switched it"
        );
        let unknown = block_on(job(99).verify(&directory)).unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "job refused: tenant 99 is not known to the verifier"
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn a_job_round_trips_through_its_serialized_form() {
        let job = TenantJob::new(&TenantId::from_verified(42_i64), "invoice".to_owned());
        let text = serde_json::to_string(&job).unwrap();
        assert_eq!(text, r#"{"tenant":42,"payload":"invoice"}"#);
        let back: TenantJob<i64, String> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, job);
        // A hostile key is refused by the key type, not turned into a witness.
        assert!(
            serde_json::from_str::<TenantJob<i64, String>>(
                r#"{"tenant":"42 OR 1=1","payload":""}"#
            )
            .is_err()
        );
    }
}
