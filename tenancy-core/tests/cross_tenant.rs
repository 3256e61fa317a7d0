//! The cross-tenant capability is created only with a stated reason, and
//! both its creation and every statement started with it are logged, with
//! the reason, on target `tenancy::cross_tenant`. A test subscriber records
//! the events, so these tests fail if a log line or one of its fields goes.

mod tables;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tables::{Customer, Order};
use tenancy_core::{
    BuildStatement, CrossTenant, CrossTenantError, Delete, Select, TenantId, Update,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One event as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Recorded {
    target: String,
    level: Level,
    fields: BTreeMap<String, String>,
}

/// A subscriber that keeps every event.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Recorded>>>);

impl Recorder {
    /// Runs `f` with this recorder as the thread's subscriber and returns
    /// the events it recorded on `tenancy::cross_tenant`.
    fn capture(f: impl FnOnce()) -> Vec<Recorded> {
        let recorder = Recorder::default();
        tracing::subscriber::with_default(recorder.clone(), f);
        let events = recorder.0.lock().map(|events| events.clone());
        events
            .unwrap_or_default()
            .into_iter()
            .filter(|event| event.target == "tenancy::cross_tenant")
            .collect()
    }
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

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let recorded = Recorded {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields,
        };
        if let Ok(mut events) = self.0.lock() {
            events.push(recorded);
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

#[test]
fn creating_the_capability_is_logged_with_its_reason() {
    let events = Recorder::capture(|| {
        let capability = CrossTenant::with_reason("nightly billing export");
        assert_eq!(
            capability.map(|c| c.reason().to_owned()),
            Ok("nightly billing export".to_owned())
        );
    });
    assert_eq!(
        events,
        [Recorded {
            target: "tenancy::cross_tenant".to_owned(),
            level: Level::WARN,
            fields: fields(&[
                ("message", "cross-tenant capability created"),
                ("reason", "nightly billing export"),
            ]),
        }]
    );
}

#[test]
fn an_empty_reason_is_refused_and_nothing_is_logged() {
    let events = Recorder::capture(|| {
        for reason in ["", " ", "\t\n", "\u{3000}"] {
            let refused = CrossTenant::with_reason(reason);
            assert_eq!(
                refused.map(|c| c.reason().to_owned()),
                Err(CrossTenantError::EmptyReason),
                "{reason:?}"
            );
        }
        let message = CrossTenantError::EmptyReason.to_string();
        assert!(message.contains("needs a reason"), "{message}");
    });
    assert_eq!(events, []);
}

#[test]
fn every_cross_tenant_statement_is_logged_with_the_reason_and_its_table() {
    let capability = CrossTenant::with_reason("erase closed accounts").expect("a stated reason");
    let events = Recorder::capture(|| {
        let statements: [&dyn BuildStatement; 3] = [
            &Select::<Order>::across_tenants(&capability),
            &Update::<Customer>::across_tenants(&capability).set(Customer::NAME, "erased"),
            &Delete::<Order>::across_tenants(&capability),
        ];
        for statement in statements {
            assert!(statement.to_postgres().is_ok());
        }
    });
    let started = |table: &str| Recorded {
        target: "tenancy::cross_tenant".to_owned(),
        level: Level::DEBUG,
        fields: fields(&[
            ("message", "cross-tenant statement started"),
            ("reason", "erase closed accounts"),
            ("table", table),
        ]),
    };
    assert_eq!(
        events,
        [started("orders"), started("customers"), started("orders")]
    );
}

#[test]
fn tenant_statements_log_nothing_there() {
    let events = Recorder::capture(|| {
        let tenant = TenantId::<i64>::from_verified(7);
        assert!(Order::select(&tenant).to_postgres().is_ok());
        assert!(Order::delete(&tenant).to_sqlite().is_ok());
    });
    assert_eq!(events, []);
}
