//! Every tenant transaction is a `tracing` span with its tenant, isolation
//! model, statement count, outcome and duration; every built statement is
//! a `DEBUG` event inside it, with its SQL and never its values; sqlx's own
//! events of the transaction (`BEGIN`, the statements, `COMMIT`) are inside
//! it too; and a task spawned for the tenant carries the span it was
//! spawned from.
//!
//! A small collector keeps every span (with its parent and fields) and
//! every event (with the span it is in) on the test's one thread.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tenancy_sqlx::job::spawn_for_tenant;
use tenancy_sqlx::{Error, RouterOptions};
use tenancy_test::TestResult;
use tenancy_test::models::{D, Models, S};
use tenancy_test::shop::tables::Order;
use tenancy_test::shop::{A, customer, order, shop, tenant, tenant_pool};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

#[derive(Debug, Clone)]
struct SpanSeen {
    name: &'static str,
    parent: Option<u64>,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
struct EventSeen {
    target: String,
    level: Level,
    parent: Option<u64>,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Seen {
    spans: BTreeMap<u64, SpanSeen>,
    events: Vec<EventSeen>,
}

impl Seen {
    fn spans_named(&self, name: &str) -> Vec<(u64, SpanSeen)> {
        let spans = self.spans.iter().filter(|(_, span)| span.name == name);
        spans.map(|(id, span)| (*id, span.clone())).collect()
    }

    /// Whether the span `id` is `ancestor` or lies inside it.
    fn within(&self, id: Option<u64>, ancestor: u64) -> bool {
        let mut at = id;
        while let Some(current) = at {
            if current == ancestor {
                return true;
            }
            at = self.spans.get(&current).and_then(|span| span.parent);
        }
        false
    }

    /// Every field value of every span and event.
    fn all_text(&self) -> String {
        let spans = self.spans.values().flat_map(|span| span.fields.values());
        let events = self.events.iter().flat_map(|event| event.fields.values());
        spans.chain(events).cloned().collect::<Vec<_>>().join(" | ")
    }
}

#[derive(Default)]
struct Collector {
    seen: Arc<Mutex<Seen>>,
    next: AtomicU64,
    entered: Mutex<Vec<u64>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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

impl Collector {
    fn current(&self) -> Option<u64> {
        lock(&self.entered).last().copied()
    }
}

impl Subscriber for Collector {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let parent = match span.parent() {
            Some(parent) => Some(parent.into_u64()),
            None if span.is_contextual() => self.current(),
            None => None,
        };
        let mut fields = BTreeMap::new();
        span.record(&mut Fields(&mut fields));
        let seen = SpanSeen {
            name: span.metadata().name(),
            parent,
            fields,
        };
        lock(&self.seen).spans.insert(id, seen);
        Id::from_u64(id)
    }

    fn record(&self, id: &Id, values: &Record<'_>) {
        let mut seen = lock(&self.seen);
        if let Some(span) = seen.spans.get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let parent = match event.parent() {
            Some(parent) => Some(parent.into_u64()),
            None if event.is_contextual() => self.current(),
            None => None,
        };
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        lock(&self.seen).events.push(EventSeen {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            parent,
            fields,
        });
    }

    fn enter(&self, span: &Id) {
        lock(&self.entered).push(span.into_u64());
    }

    fn exit(&self, _: &Id) {
        lock(&self.entered).pop();
    }
}

/// Installs a collector for this thread (the tests' runtime is the
/// default current-thread one, so every task runs here).
fn collect() -> (Arc<Mutex<Seen>>, tracing::subscriber::DefaultGuard) {
    let collector = Collector::default();
    let seen = Arc::clone(&collector.seen);
    let guard = tracing::subscriber::set_default(collector);
    tenancy_test::capture::refresh_interest();
    (seen, guard)
}

/// Values bound to statements: none of them may show in any span or event.
const SECRET_STATUS: &str = "status-that-must-not-be-logged";
const SECRET_EMAIL: &str = "never-logged@example.com";

#[tokio::test]
async fn a_transaction_is_a_span_and_its_statements_are_events_inside_it() -> TestResult {
    let db = shop(&[A]).await?;
    let pool = tenant_pool(&db).await?;
    let (seen, _guard) = collect();
    let request = tracing::info_span!("request");

    let tenant = tenant(A);
    let work = async {
        let mut tx = pool.begin(&tenant).await?;
        tx.execute(customer(&tenant, SECRET_EMAIL)).await?;
        let orders: Vec<Order> = tx
            .fetch_all(Order::select(&tenant).filter(Order::STATUS.eq(SECRET_STATUS)))
            .await?;
        tx.commit().await?;
        Ok::<_, Error>(orders)
    };
    let orders = tracing::Instrument::instrument(work, request.clone()).await?;
    assert!(orders.is_empty());

    let seen = lock(&seen);
    let transactions = seen.spans_named("tenant transaction");
    let [(tx_span, span)] = transactions.as_slice() else {
        panic!("one transaction span: {transactions:?}");
    };
    let request_id = request.id().map(|id| id.into_u64());
    assert_eq!(span.parent, request_id, "the caller's span is the parent");
    let field = |name: &str| span.fields.get(name).map(String::as_str);
    assert_eq!(field("db.system"), Some("postgresql"));
    assert_eq!(field("tenant.id"), Some("1"));
    assert_eq!(field("tenancy.isolation"), Some("shared"));
    assert_eq!(field("tenancy.statements"), Some("2"));
    assert_eq!(field("tenancy.outcome"), Some("commit"));
    let duration: f64 = field("tenancy.duration_ms").unwrap_or("none").parse()?;
    assert!(duration > 0.0, "{duration}");

    let statements: Vec<&EventSeen> = seen
        .events
        .iter()
        .filter(|event| event.target == "tenancy::statement")
        .collect();
    let operations: Vec<&str> = statements
        .iter()
        .map(|event| event.fields["db.operation"].as_str())
        .collect();
    assert_eq!(operations, ["INSERT", "SELECT"]);
    for event in &statements {
        assert_eq!(event.level, Level::DEBUG);
        assert_eq!(event.parent, Some(*tx_span), "{event:?}");
        assert_eq!(event.fields["db.system"], "postgresql");
        assert!(event.fields["db.statement"].contains("$1"), "{event:?}");
    }
    // sqlx's own events of the statements and of COMMIT are inside the
    // transaction's span: nothing of the work logs outside it.
    let sqlx_events: Vec<&EventSeen> = seen
        .events
        .iter()
        .filter(|event| event.target.starts_with("sqlx"))
        .collect();
    let summaries: Vec<&str> = sqlx_events
        .iter()
        .filter_map(|event| event.fields.get("summary").map(String::as_str))
        .collect();
    assert!(
        summaries.len() >= 3 && summaries.contains(&"COMMIT"),
        "sqlx logged the statements and COMMIT: {summaries:?}"
    );
    for event in &sqlx_events {
        assert!(seen.within(event.parent, *tx_span), "outside: {event:?}");
    }

    let text = seen.all_text();
    for value in [SECRET_STATUS, SECRET_EMAIL] {
        assert!(!text.contains(value), "{value} was logged: {text}");
    }
    Ok(())
}

#[tokio::test]
async fn the_outcome_says_how_the_transaction_ended() -> TestResult {
    let db = shop(&[A]).await?;
    let pool = tenant_pool(&db).await?;
    let (seen, _guard) = collect();
    let tenant = tenant(A);

    pool.begin(&tenant).await?.rollback().await?;
    drop(pool.begin(&tenant).await?);
    // A failing statement aborts the transaction: its commit rolls back.
    let mut tx = pool.begin(&tenant).await?;
    let failed = tx.execute(order(&tenant, 999_999, "open")).await;
    assert!(failed.is_err(), "no such customer");
    assert!(matches!(
        tx.commit().await,
        Err(Error::TransactionAborted { .. })
    ));

    let seen = lock(&seen);
    let outcomes: Vec<(String, String)> = seen
        .spans_named("tenant transaction")
        .into_iter()
        .map(|(_, span)| {
            (
                span.fields["tenancy.outcome"].clone(),
                span.fields["tenancy.statements"].clone(),
            )
        })
        .collect();
    let expected = [("rollback", "0"), ("dropped", "0"), ("rollback", "1")];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(outcome, count)| ((*outcome).to_owned(), (*count).to_owned()))
        .collect();
    assert_eq!(outcomes, expected);
    Ok(())
}

#[tokio::test]
async fn a_spawned_task_carries_the_span_into_the_tenants_transactions() -> TestResult {
    let db = shop(&[A]).await?;
    let pool = tenant_pool(&db).await?;
    let (seen, _guard) = collect();
    let job = tracing::info_span!("job");

    let spawned = {
        let _in_job = job.enter();
        spawn_for_tenant(tenant(A), move |tenant| async move {
            let mut tx = pool.begin(&tenant).await?;
            let orders: Vec<Order> = tx.fetch_all(Order::select(&tenant)).await?;
            tx.commit().await?;
            Ok::<_, Error>(orders.len())
        })?
    };
    spawned.await??;

    let seen = lock(&seen);
    let job_id = job.id().map(|id| id.into_u64());
    let tasks = seen.spans_named("tenant task");
    let [(task, task_span)] = tasks.as_slice() else {
        panic!("one task span: {tasks:?}");
    };
    assert_eq!(task_span.parent, job_id);
    assert_eq!(task_span.fields["tenant.id"], "1");
    let transactions = seen.spans_named("tenant transaction");
    let [(tx_span, span)] = transactions.as_slice() else {
        panic!("one transaction span: {transactions:?}");
    };
    assert_eq!(span.parent, Some(*task));
    let statement = seen
        .events
        .iter()
        .find(|event| event.target == "tenancy::statement")
        .expect("the select was logged");
    assert_eq!(statement.parent, Some(*tx_span));
    Ok(())
}

#[tokio::test]
async fn the_span_names_the_isolation_model_of_every_placement() -> TestResult {
    let models = Models::new(RouterOptions::new()).await?;
    let (seen, _guard) = collect();
    for key in [A, S, D] {
        models.router.begin(&tenant(key)).await?.commit().await?;
    }
    let seen = lock(&seen);
    let models: Vec<(String, String)> = seen
        .spans_named("tenant transaction")
        .into_iter()
        .map(|(_, span)| {
            (
                span.fields["tenant.id"].clone(),
                span.fields["tenancy.isolation"].clone(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [(A, "shared"), (S, "schema"), (D, "database")]
        .iter()
        .map(|(key, model)| (key.to_string(), (*model).to_owned()))
        .collect();
    assert_eq!(models, expected);
    Ok(())
}
