//! A `tracing` subscriber that keeps what it is sent, for tests that assert
//! on logged events and on fields recorded on spans.
//!
//! Install it for the current thread with [`Capture::install`]; a
//! `#[tokio::test]` runs its tasks on that thread (the default
//! current-thread runtime), so their events are kept too.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::DefaultGuard;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_core::span::Current;

/// One event, as it was logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedEvent {
    /// Its target (`tenancy::cross_tenant`, `sqlx::query`…).
    pub target: String,
    /// Its level.
    pub level: Level,
    /// Its fields, `message` included, each as `Display` for strings and
    /// `Debug` for everything else.
    pub fields: BTreeMap<String, String>,
}

impl CapturedEvent {
    /// The event's message.
    pub fn message(&self) -> &str {
        self.field("message").unwrap_or_default()
    }

    /// A field's value.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// Every field value, for asserting that something appears nowhere.
    pub fn text(&self) -> String {
        self.fields
            .values()
            .cloned()
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// What the subscriber has kept; cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    events: Arc<Mutex<Vec<CapturedEvent>>>,
    recorded: Arc<Mutex<Vec<(String, String)>>>,
}

impl Captured {
    /// The events logged so far.
    pub fn events(&self) -> Vec<CapturedEvent> {
        lock(&self.events).clone()
    }

    /// The events of `target` logged so far.
    pub fn events_of(&self, target: &str) -> Vec<CapturedEvent> {
        lock(&self.events)
            .iter()
            .filter(|event| event.target == target)
            .cloned()
            .collect()
    }

    /// Forgets the events logged so far.
    pub fn clear(&self) {
        lock(&self.events).clear();
    }

    /// The values recorded on spans after they were created
    /// (`Span::record`), as `(field, value)`.
    pub fn recorded(&self) -> Vec<(String, String)> {
        lock(&self.recorded).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test poisons nothing worth refusing.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The subscriber; it enables every level and target.
#[derive(Debug, Default)]
pub struct Capture {
    captured: Captured,
    next_id: AtomicU64,
    spans: Mutex<Vec<(Id, &'static Metadata<'static>)>>,
    entered: Mutex<Vec<Id>>,
}

impl Capture {
    /// Captures for the current thread until the guard is dropped.
    pub fn install() -> (Captured, DefaultGuard) {
        let capture = Capture::default();
        let captured = capture.captured.clone();
        let guard = tracing::subscriber::set_default(capture);
        refresh_interest();
        (captured, guard)
    }
}

/// Makes every callsite ask the installed subscribers again. A callsite
/// that another test thread registers while this thread installs its
/// subscriber can cache that nobody listens; a test that must see a
/// callsite's events calls this after the callsite first fired with the
/// subscriber in place (see [`Captured::events_of`]).
pub fn refresh_interest() {
    tracing_core::callsite::rebuild_interest_cache();
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        lock(&self.spans).push((id.clone(), span.metadata()));
        id
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut fields = BTreeMap::new();
        values.record(&mut Fields(&mut fields));
        lock(&self.captured.recorded).extend(fields);
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        lock(&self.captured.events).push(CapturedEvent {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields,
        });
    }

    fn enter(&self, span: &Id) {
        lock(&self.entered).push(span.clone());
    }

    fn exit(&self, _: &Id) {
        lock(&self.entered).pop();
    }

    fn current_span(&self) -> Current {
        let entered = lock(&self.entered).last().cloned();
        let spans = lock(&self.spans);
        match entered.and_then(|id| spans.iter().find(|(known, _)| *known == id)) {
            Some((id, metadata)) => Current::new(id.clone(), metadata),
            None => Current::none(),
        }
    }
}
