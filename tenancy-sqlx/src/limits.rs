//! Per-tenant limits: how many transactions a tenant, and a tier of
//! tenants, may have in flight, with fair turns between tenants when the
//! pool is full and a bounded wait; and per tier timeouts.
//!
//! Without limits a tenant that floods the service with slow transactions
//! takes every connection of the pool, and the other tenants wait behind
//! it in one queue. With [`TenantLimits`] on the pool
//! ([`TenantPoolOptions::limits`](crate::TenantPoolOptions::limits)),
//! [`TenantPool::begin`](crate::TenantPool::begin) first takes a turn:
//!
//! - a tenant has at most its tier's [`per_tenant`](Tier::per_tenant)
//!   transactions in flight, and all the tenants of a tier together at most
//!   its [`in_total`](Tier::in_total);
//! - the pool's connections are handed out in turns between the tenants
//!   waiting, one transaction per tenant per turn, not first come first
//!   served: a tenant with a hundred waiting transactions does not make a
//!   tenant with one wait for all hundred;
//! - a `begin` that gets no turn within [`max_wait`](TenantLimits::max_wait)
//!   fails with [`Error::TenantBusy`](crate::Error::TenantBusy), which says
//!   which limit held it, and sends nothing to the server.
//!
//! A tier's [`transaction_settings`](Tier::transaction_settings) (its
//! `statement_timeout`, `lock_timeout`, `idle_in_transaction_session_timeout`)
//! replace the pool's, setting by setting, for its tenants' transactions,
//! in the same simple query as `BEGIN`: they cost no round trip. A
//! statement that runs into one fails with
//! [`Error::StatementTimeout`](crate::Error::StatementTimeout),
//! [`Error::LockTimeout`](crate::Error::LockTimeout) or
//! [`Error::IdleInTransactionTimeout`](crate::Error::IdleInTransactionTimeout).
//!
//! ```
//! use std::time::Duration;
//! use tenancy_sqlx::limits::{TenantLimits, Tier};
//! use tenancy_sqlx::{KeyValue, TransactionSettings};
//!
//! let limits = TenantLimits::new()
//!     // Every tenant: at most 2 transactions at once, 5 s per statement.
//!     .default_tier(
//!         Tier::new("standard")
//!             .per_tenant(2)
//!             .transaction_settings(TransactionSettings::new().statement_timeout(Duration::from_secs(5))),
//!     )
//!     // The free tier: 1 each, 4 for all free tenants together, 1 s.
//!     .tier(
//!         Tier::new("free")
//!             .per_tenant(1)
//!             .in_total(4)
//!             .transaction_settings(TransactionSettings::new().statement_timeout(Duration::from_secs(1))),
//!     )
//!     .assign(KeyValue::I64(7), "free")
//!     .max_wait(Duration::from_millis(500));
//! assert_eq!(limits.tier_of(KeyValue::I64(7)).name(), "free");
//! assert_eq!(limits.tier_of(KeyValue::I64(8)).name(), "standard");
//! ```
//!
//! The tiers and assignments are fixed when the pool is made; a tenant
//! with limits of its own is a tier of one.

use core::fmt;
use core::time::Duration;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tenancy_core::KeyValue;
use tokio::sync::oneshot;

use crate::Error;
use crate::pin::TransactionSettings;

/// A tier of tenants: how many transactions each of its tenants, and all
/// of them together, may have in flight, and the settings their
/// transactions open with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    name: String,
    per_tenant: Option<usize>,
    in_total: Option<usize>,
    settings: TransactionSettings,
}

impl Tier {
    /// A tier named `name` (for errors and logs), with no limit of its own
    /// and the pool's settings.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Tier {
            name: name.into(),
            per_tenant: None,
            in_total: None,
            settings: TransactionSettings::new(),
        }
    }

    /// At most `max` transactions in flight for each tenant of the tier
    /// (at least 1: checked when the pool is made).
    #[must_use]
    pub fn per_tenant(mut self, max: usize) -> Self {
        self.per_tenant = Some(max);
        self
    }

    /// At most `max` transactions in flight for all the tenants of the tier
    /// together (at least 1: checked when the pool is made).
    #[must_use]
    pub fn in_total(mut self, max: usize) -> Self {
        self.in_total = Some(max);
        self
    }

    /// The settings the tier's transactions open with: each one set here
    /// replaces the pool's ([`TenantPoolOptions::transaction_settings`](crate::TenantPoolOptions::transaction_settings));
    /// the others stay the pool's. A read-only pool stays read-only.
    #[must_use]
    pub fn transaction_settings(mut self, settings: TransactionSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The tier's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The limit per tenant, if any.
    #[must_use]
    pub fn per_tenant_limit(&self) -> Option<usize> {
        self.per_tenant
    }

    /// The limit for the whole tier, if any.
    #[must_use]
    pub fn total_limit(&self) -> Option<usize> {
        self.in_total
    }

    /// The tier's own settings (before they are laid over the pool's).
    #[must_use]
    pub fn settings(&self) -> &TransactionSettings {
        &self.settings
    }
}

/// The limits of a pool's tenants: a default tier, named tiers, which
/// tenant is in which, and how long `begin` waits for a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantLimits {
    /// The default tier first, then the named ones.
    tiers: Vec<Tier>,
    assigned: HashMap<KeyValue, String>,
    max_wait: Duration,
}

impl Default for TenantLimits {
    fn default() -> Self {
        TenantLimits {
            tiers: vec![Tier::new("default")],
            assigned: HashMap::new(),
            max_wait: Duration::from_secs(5),
        }
    }
}

impl TenantLimits {
    /// No limit per tenant or tier yet, fair turns for the pool's
    /// connections, and a wait of at most 5 seconds for a turn.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The tier of every tenant not [`assign`](Self::assign)ed to another.
    #[must_use]
    pub fn default_tier(mut self, tier: Tier) -> Self {
        self.tiers[0] = tier;
        self
    }

    /// Adds a tier (replacing one of the same name), for tenants
    /// [`assign`](Self::assign)ed to it.
    #[must_use]
    pub fn tier(mut self, tier: Tier) -> Self {
        match self.tiers[1..]
            .iter_mut()
            .find(|known| known.name == tier.name)
        {
            Some(known) => *known = tier,
            None => self.tiers.push(tier),
        }
        self
    }

    /// Puts `tenant` in the tier named `tier` (a name no tier has is
    /// refused when the pool is made).
    #[must_use]
    pub fn assign(mut self, tenant: KeyValue, tier: impl Into<String>) -> Self {
        self.assigned.insert(tenant, tier.into());
        self
    }

    /// How long `begin` waits for a turn before it fails with
    /// [`Error::TenantBusy`](crate::Error::TenantBusy). Default: 5 seconds.
    #[must_use]
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// The tier `tenant` is in.
    #[must_use]
    pub fn tier_of(&self, tenant: KeyValue) -> &Tier {
        &self.tiers[self.tier_index(tenant)]
    }

    fn tier_index(&self, tenant: KeyValue) -> usize {
        let name = self.assigned.get(&tenant);
        name.and_then(|name| {
            self.tiers[1..]
                .iter()
                .position(|tier| &tier.name == name)
                .map(|at| at + 1)
        })
        .unwrap_or(0)
    }

    /// Refuses limits that could never admit anything, and assignments to
    /// tiers that do not exist.
    fn check(&self) -> Result<(), Error> {
        let invalid = |reason: String| Err(Error::InvalidTenantLimits { reason });
        for tier in &self.tiers {
            if tier.per_tenant == Some(0) || tier.in_total == Some(0) {
                return invalid(format!(
                    "tier `{}` admits no transaction: a limit must be at least 1",
                    tier.name
                ));
            }
        }
        for (tenant, name) in &self.assigned {
            if !self.tiers[1..].iter().any(|tier| &tier.name == name) {
                return invalid(format!(
                    "tenant {tenant} is assigned to tier `{name}`, which no `TenantLimits::tier` adds"
                ));
            }
        }
        Ok(())
    }
}

/// Which limit kept a tenant's transaction waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BusyLimit {
    /// The tenant had `max` transactions in flight, its tier's limit per
    /// tenant (or earlier transactions of its own were waiting).
    Tenant {
        /// The tier.
        tier: String,
        /// The limit.
        max: usize,
    },
    /// The tenants of the tier had `max` transactions in flight together.
    Tier {
        /// The tier.
        tier: String,
        /// The limit.
        max: usize,
    },
    /// Every connection of the pool was in use, and other tenants had
    /// their turns first.
    Pool {
        /// The pool's connections.
        max: usize,
    },
}

impl fmt::Display for BusyLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BusyLimit::Tenant { tier, max } => write!(
                f,
                "it has {max} transactions in flight, the limit per tenant of tier `{tier}`"
            ),
            BusyLimit::Tier { tier, max } => write!(
                f,
                "the tenants of tier `{tier}` have {max} transactions in flight, the tier's limit"
            ),
            BusyLimit::Pool { max } => write!(
                f,
                "all {max} connections of the pool are in use, and other tenants had their turn"
            ),
        }
    }
}

/// The limits in force on a pool: who is in flight, who waits, and whose
/// turn is next.
#[derive(Debug)]
pub(crate) struct Admission {
    limits: TenantLimits,
    /// Per tier, its settings laid over the pool's.
    settings: Vec<TransactionSettings>,
    /// How many transactions may be in flight at once: the pool's size.
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    in_flight: usize,
    tiers: Vec<usize>,
    tenants: HashMap<KeyValue, TenantState>,
    /// Tenants with waiters, in the order of their next turn.
    turns: VecDeque<KeyValue>,
    next_waiter: u64,
}

#[derive(Debug, Default)]
struct TenantState {
    in_flight: usize,
    waiting: VecDeque<(u64, oneshot::Sender<()>)>,
}

impl Admission {
    /// The limits of a pool of `capacity` connections whose transactions
    /// open with `settings`.
    pub(crate) fn new(
        limits: TenantLimits,
        settings: &TransactionSettings,
        capacity: usize,
    ) -> Result<Self, Error> {
        limits.check()?;
        let tier_settings = limits
            .tiers
            .iter()
            .map(|tier| settings.overridden_by(&tier.settings))
            .collect();
        let tiers = limits.tiers.len();
        Ok(Admission {
            limits,
            settings: tier_settings,
            capacity: capacity.max(1),
            state: Mutex::new(State {
                tiers: vec![0; tiers],
                ..State::default()
            }),
        })
    }

    /// The settings of every tier, laid over the pool's: to check each
    /// renders when the pool is made.
    pub(crate) fn all_settings(&self) -> &[TransactionSettings] {
        &self.settings
    }

    /// The settings `tenant`'s transactions open with.
    pub(crate) fn settings_of(&self, tenant: KeyValue) -> &TransactionSettings {
        &self.settings[self.limits.tier_index(tenant)]
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change under the lock is whole before anything can panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for `tenant`'s turn, at most the limits' `max_wait`. The turn
    /// lasts as long as the returned [`Turn`].
    pub(crate) async fn admit(self: &Arc<Self>, tenant: KeyValue) -> Result<Turn, Error> {
        let tier = self.limits.tier_index(tenant);
        let (id, receiver) = {
            let mut state = self.lock();
            let queued = state
                .tenants
                .get(&tenant)
                .is_some_and(|known| !known.waiting.is_empty());
            if !queued && self.fits(&state, tenant, tier) {
                self.take(&mut state, tenant, tier);
                return Ok(self.turn(tenant, tier));
            }
            let id = state.next_waiter;
            state.next_waiter += 1;
            let (sender, receiver) = oneshot::channel();
            let known = state.tenants.entry(tenant).or_default();
            known.waiting.push_back((id, sender));
            if known.waiting.len() == 1 {
                state.turns.push_back(tenant);
            }
            (id, receiver)
        };
        let mut waiter = Waiter {
            admission: self,
            tenant,
            tier,
            id,
            receiver,
            done: false,
        };
        let max_wait = self.limits.max_wait;
        match tokio::time::timeout(max_wait, &mut waiter.receiver).await {
            Ok(Ok(())) => {
                waiter.done = true;
                Ok(self.turn(tenant, tier))
            }
            // The sender goes only with a turn or with the pool's limits,
            // which outlive every waiter: a closed channel cannot happen,
            // and is a timeout if it did.
            Ok(Err(_)) | Err(_) => waiter.give_up(max_wait),
        }
    }

    fn turn(self: &Arc<Self>, tenant: KeyValue, tier: usize) -> Turn {
        Turn {
            admission: Arc::clone(self),
            tenant,
            tier,
        }
    }

    /// Whether one more transaction of `tenant` (in `tier`) fits now.
    fn fits(&self, state: &State, tenant: KeyValue, tier: usize) -> bool {
        self.holding(state, tenant, tier).is_none()
    }

    /// The limit that keeps one more transaction of `tenant` out, if any.
    fn holding(&self, state: &State, tenant: KeyValue, tier: usize) -> Option<BusyLimit> {
        let limits = &self.limits.tiers[tier];
        let own = state
            .tenants
            .get(&tenant)
            .map_or(0, |known| known.in_flight);
        if let Some(max) = limits.per_tenant
            && own >= max
        {
            return Some(BusyLimit::Tenant {
                tier: limits.name.clone(),
                max,
            });
        }
        if let Some(max) = limits.in_total
            && state.tiers[tier] >= max
        {
            return Some(BusyLimit::Tier {
                tier: limits.name.clone(),
                max,
            });
        }
        (state.in_flight >= self.capacity).then_some(BusyLimit::Pool { max: self.capacity })
    }

    fn take(&self, state: &mut State, tenant: KeyValue, tier: usize) {
        state.in_flight += 1;
        state.tiers[tier] += 1;
        state.tenants.entry(tenant).or_default().in_flight += 1;
    }

    /// Ends a turn of `tenant`, and gives the freed room to the waiters
    /// whose turn it is.
    fn release(&self, tenant: KeyValue, tier: usize) {
        let mut state = self.lock();
        self.untake(&mut state, tenant, tier);
        if state
            .tenants
            .get(&tenant)
            .is_some_and(|known| known.in_flight == 0 && known.waiting.is_empty())
        {
            state.tenants.remove(&tenant);
        }
        self.hand_out(&mut state);
    }

    /// Gives turns to waiting tenants, one transaction each in the order of
    /// `turns`, as long as any fits; a tenant still waiting goes to the back.
    fn hand_out(&self, state: &mut State) {
        let mut passed = 0;
        while passed < state.turns.len() && state.in_flight < self.capacity {
            let Some(tenant) = state.turns.pop_front() else {
                break;
            };
            let tier = self.limits.tier_index(tenant);
            if !self.fits(state, tenant, tier) {
                state.turns.push_back(tenant);
                passed += 1;
                continue;
            }
            let Some((_, sender)) = state
                .tenants
                .get_mut(&tenant)
                .and_then(|known| known.waiting.pop_front())
            else {
                continue;
            };
            self.take(state, tenant, tier);
            if sender.send(()).is_err() {
                // Its waiter is gone (it gave up under this lock's
                // protection, or was dropped): the room is free again.
                self.untake(state, tenant, tier);
            }
            let known = state.tenants.entry(tenant).or_default();
            if known.waiting.is_empty() {
                if known.in_flight == 0 {
                    state.tenants.remove(&tenant);
                }
            } else {
                state.turns.push_back(tenant);
            }
            passed = 0;
        }
    }

    /// Undoes [`take`](Self::take).
    fn untake(&self, state: &mut State, tenant: KeyValue, tier: usize) {
        state.in_flight = state.in_flight.saturating_sub(1);
        state.tiers[tier] = state.tiers[tier].saturating_sub(1);
        if let Some(known) = state.tenants.get_mut(&tenant) {
            known.in_flight = known.in_flight.saturating_sub(1);
        }
    }
}

/// A `begin` waiting for its turn. Dropped before the turn came (the
/// future was cancelled, or gave up), it leaves the queue; dropped after a
/// turn was handed to it but before it was taken, it hands the turn on.
struct Waiter<'a> {
    admission: &'a Arc<Admission>,
    tenant: KeyValue,
    tier: usize,
    id: u64,
    receiver: oneshot::Receiver<()>,
    done: bool,
}

impl Waiter<'_> {
    /// The wait is over: the turn, if it came after all, else the limit
    /// that held it.
    fn give_up(mut self, waited: Duration) -> Result<Turn, Error> {
        let admission = self.admission;
        let mut state = admission.lock();
        if self.receiver.try_recv().is_ok() {
            // Handed a turn just as the wait ran out: take it.
            self.done = true;
            return Ok(admission.turn(self.tenant, self.tier));
        }
        let limit = admission
            .holding(&state, self.tenant, self.tier)
            .unwrap_or_else(|| {
                // Nothing holds it now but its own tenant's earlier waiters.
                let tier = &admission.limits.tiers[self.tier];
                BusyLimit::Tenant {
                    tier: tier.name.clone(),
                    max: tier.per_tenant.unwrap_or(admission.capacity),
                }
            });
        remove_waiter(&mut state, self.tenant, self.id);
        self.done = true;
        Err(Error::TenantBusy {
            tenant: self.tenant,
            limit,
            waited,
        })
    }
}

fn remove_waiter(state: &mut State, tenant: KeyValue, id: u64) {
    if let Some(known) = state.tenants.get_mut(&tenant) {
        known.waiting.retain(|(waiter, _)| *waiter != id);
        if known.waiting.is_empty() {
            state.turns.retain(|waiting| *waiting != tenant);
            if known.in_flight == 0 {
                state.tenants.remove(&tenant);
            }
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let admission = self.admission;
        let mut state = admission.lock();
        if self.receiver.try_recv().is_ok() {
            // A turn was handed over and nobody will take it: pass it on.
            admission.untake(&mut state, self.tenant, self.tier);
            admission.hand_out(&mut state);
            return;
        }
        remove_waiter(&mut state, self.tenant, self.id);
    }
}

/// One transaction's turn: while it lives, it counts against its tenant's,
/// its tier's and the pool's limits.
#[derive(Debug)]
pub(crate) struct Turn {
    admission: Arc<Admission>,
    tenant: KeyValue,
    tier: usize,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.admission.release(self.tenant, self.tier);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::future::Future;

    fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        mutex.lock().unwrap()
    }

    fn admission(limits: TenantLimits, capacity: usize) -> Arc<Admission> {
        Arc::new(Admission::new(limits, &TransactionSettings::new(), capacity).unwrap())
    }

    const A: KeyValue = KeyValue::I64(1);
    const B: KeyValue = KeyValue::I64(2);
    const C: KeyValue = KeyValue::I64(3);

    /// Lets every task that can run, run.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_flooding_tenant_gets_one_turn_in_each_round() {
        let admission = admission(TenantLimits::new().max_wait(Duration::from_secs(60)), 2);
        let order = Arc::new(Mutex::new(Vec::new()));
        // Ten transactions of A ask first (two get the pool's two turns,
        // eight wait), then one of B and one of C. Each waiting one ends as
        // soon as it has its turn.
        let mut tasks = Vec::new();
        for tenant in [A; 10].into_iter().chain([B, C]) {
            let (admission, order) = (Arc::clone(&admission), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                let turn = admission.admit(tenant).await.unwrap();
                lock(&order).push(tenant);
                turn
            }));
            settle().await;
        }
        let mut running = Vec::new();
        for task in tasks {
            if task.is_finished() {
                running.push(task.await.unwrap());
            } else {
                tokio::spawn(async move { drop(task.await.unwrap()) });
            }
        }
        assert_eq!(*lock(&order), [A, A]);
        // One of A's first two ends: the freed turn goes round the tenants
        // waiting, A (waiting first), B, C, and then A's remaining ones;
        // first come first served would have run all of A's first.
        running.pop();
        settle().await;
        assert_eq!(lock(&order)[..], [A, A, A, B, C, A, A, A, A, A, A, A]);
        drop(running);
        settle().await;
        assert_eq!(lock(&admission.state).in_flight, 0);
    }

    #[tokio::test]
    async fn the_limits_of_a_tenant_and_of_its_tier_hold_with_a_bounded_wait() {
        let limits = TenantLimits::new()
            .tier(Tier::new("free").per_tenant(1).in_total(2))
            .assign(A, "free")
            .assign(B, "free")
            .assign(C, "free")
            .max_wait(Duration::from_millis(100));
        let admission = admission(limits, 10);
        let first = admission.admit(A).await.unwrap();
        let started = std::time::Instant::now();
        match admission.admit(A).await {
            Err(Error::TenantBusy {
                tenant,
                limit,
                waited,
            }) => {
                assert_eq!((tenant, waited), (A, Duration::from_millis(100)));
                assert_eq!(
                    limit,
                    BusyLimit::Tenant {
                        tier: "free".into(),
                        max: 1
                    }
                );
                assert_eq!(
                    limit.to_string(),
                    "it has 1 transactions in flight, the limit per tenant of tier `free`"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() >= Duration::from_millis(100));
        let second = admission.admit(B).await.unwrap();
        let refused = admission.admit(C).await.unwrap_err();
        assert!(
            matches!(
                &refused,
                Error::TenantBusy {
                    limit: BusyLimit::Tier { max: 2, .. },
                    ..
                }
            ),
            "{refused}"
        );
        // A tenant of the default tier is not held by the free tier.
        let other = admission.admit(KeyValue::I64(9)).await.unwrap();
        drop(first);
        let third = admission.admit(C).await.unwrap();
        drop((second, third, other));
        assert!(lock(&admission.state).tenants.is_empty());
        assert_eq!(lock(&admission.state).in_flight, 0);
    }

    #[tokio::test]
    async fn a_cancelled_or_timed_out_wait_leaves_nothing_behind() {
        let limits = TenantLimits::new()
            .default_tier(Tier::new("one").per_tenant(1))
            .max_wait(Duration::from_millis(50));
        let admission = admission(limits, 4);
        let held = admission.admit(A).await.unwrap();
        // Cancelled while waiting.
        {
            let waiting = admission.admit(A);
            let mut waiting = std::pin::pin!(waiting);
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(waiting.as_mut().poll(&mut cx).is_pending());
        }
        // Timed out.
        assert!(admission.admit(A).await.is_err());
        drop(held);
        {
            let state = lock(&admission.state);
            assert_eq!(state.in_flight, 0);
            assert!(
                state.tenants.is_empty() && state.turns.is_empty(),
                "{state:?}"
            );
        }
        // The turn a cancelled waiter was handed goes to the next.
        let held = admission.admit(A).await.unwrap();
        let handed = {
            let admission = Arc::clone(&admission);
            tokio::spawn(async move { admission.admit(A).await })
        };
        let dropped = {
            let admission = Arc::clone(&admission);
            tokio::spawn(async move { admission.admit(A).await })
        };
        settle().await;
        drop(held); // handed to the first waiter
        handed.abort();
        settle().await;
        let turn = dropped.await.unwrap().unwrap();
        drop(turn);
        assert_eq!(lock(&admission.state).in_flight, 0);
    }

    #[test]
    fn limits_that_admit_nothing_or_name_no_tier_are_refused() {
        let settings = TransactionSettings::new();
        for limits in [
            TenantLimits::new().default_tier(Tier::new("none").per_tenant(0)),
            TenantLimits::new().tier(Tier::new("t").in_total(0)),
            TenantLimits::new().assign(A, "gold"),
        ] {
            let refused = Admission::new(limits, &settings, 4).unwrap_err();
            assert!(
                matches!(refused, Error::InvalidTenantLimits { .. }),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_tiers_settings_replace_the_pools_one_by_one() {
        let pool = TransactionSettings::new()
            .statement_timeout(Duration::from_secs(5))
            .lock_timeout(Duration::from_secs(1))
            .read_only();
        let limits = TenantLimits::new()
            .tier(Tier::new("strict").transaction_settings(
                TransactionSettings::new().statement_timeout(Duration::from_millis(200)),
            ))
            .assign(A, "strict");
        let admission = Admission::new(limits, &pool, 4).unwrap();
        let strict = admission.settings_of(A);
        assert_eq!(
            strict.statement_timeout_value(),
            Some(Duration::from_millis(200))
        );
        assert_eq!(strict.lock_timeout_value(), Some(Duration::from_secs(1)));
        assert!(strict.is_read_only());
        assert_eq!(admission.settings_of(B), &pool);
    }
}
