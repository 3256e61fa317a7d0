//! A tenant moved between isolation models while the service serves it:
//! from the shared tables to a schema of its own, then to a database of its
//! own, with the library's move (`tenancy_sqlx::moves`). Requests keep
//! coming during each move; every write the service acknowledged is there
//! afterwards, with every row the tenant had, and its requests work in the
//! new place.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use orders_service::schema::{self, Account, Customer, Order, OrderItem};
use orders_service::startup::Isolation;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Party, PostgresStore, TestApp};
use tenancy_sqlx::directory::{Placement, TenantDirectory};
use tenancy_sqlx::moves::{MoveOptions, TenantMover};
use tenancy_sqlx::{KeyValue, TenantId};
use tenancy_test::{BoxError, TestResult};

/// Everything of one tenant, as its own transaction reads it.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    customers: Vec<Value>,
    orders: Value,
    order_items: Value,
    accounts: Value,
}

async fn snapshot(store: &PostgresStore, tenant: &TenantId) -> TestResult<Snapshot> {
    let mut tx = store.router.begin(tenant).await?;
    let customers: Vec<Customer> = tx
        .fetch_all(Customer::select(tenant).order_by_asc(Customer::ID))
        .await?;
    let orders: Vec<Order> = tx
        .fetch_all(Order::select(tenant).order_by_asc(Order::ID))
        .await?;
    let order_items: Vec<OrderItem> = tx
        .fetch_all(OrderItem::select(tenant).order_by_asc(OrderItem::ID))
        .await?;
    let accounts: Vec<Account> = tx
        .fetch_all(Account::select(tenant).order_by_asc(Account::ID))
        .await?;
    tx.commit().await?;
    Ok(Snapshot {
        customers: customers
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?,
        orders: serde_json::to_value(orders)?,
        order_items: serde_json::to_value(order_items)?,
        accounts: serde_json::to_value(accounts)?,
    })
}

/// Adds customers as `party` over HTTP until `stop`, one every few
/// milliseconds; returns the e-mails of those the service acknowledged
/// (201) and how many it refused while the tenant was being moved (503,
/// the only other answer allowed).
async fn keep_writing(
    app: &TestApp,
    party: &Party,
    round: &str,
    stop: &AtomicBool,
) -> TestResult<(Vec<String>, usize)> {
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    let mut n = 0;
    while !stop.load(Ordering::Acquire) {
        n += 1;
        let email = format!("{round}-{n}@moved.example");
        let body = json!({ "name": format!("Written during {round}"), "email": email });
        let reply = app
            .send_json(party, Method::POST, "/customers", &body)
            .await?;
        match reply.status {
            StatusCode::CREATED => acknowledged.push(email),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(reply.error().contains("being moved"), "{}", reply.text);
                refused += 1;
            }
            other => return Err(format!("{other} while moving: {}", reply.text).into()),
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    Ok((acknowledged, refused))
}

/// Moves `party`'s tenant to `isolation` while [`keep_writing`] runs, and
/// waits until its requests are served again; returns the acknowledged
/// e-mails and the refusals.
async fn move_while_writing(
    app: &TestApp,
    store: &PostgresStore,
    party: &Party,
    isolation: Isolation,
) -> TestResult<(Vec<String>, usize)> {
    let key = KeyValue::I64(party.demo.id);
    let from = store
        .router
        .directory()
        .entry(key)
        .await?
        .ok_or("the tenant has no directory entry")?
        .placement;
    let to = store.places.prepare(party.demo.id, isolation).await?;
    let (from, to) = (
        store.places.place(&from).await?,
        store.places.place(&to).await?,
    );
    let mover = TenantMover::new(
        store.directory.clone(),
        &schema::movable_tables(),
        MoveOptions::new(),
    )?;
    let stop = AtomicBool::new(false);
    let moved = async {
        // Writes land before the move starts, then during it.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let moved = mover.move_tenant(key, &from, &to).await;
        // And after the switch, until the router has read the new entry.
        served_again(app, party).await?;
        stop.store(true, Ordering::Release);
        Ok::<_, BoxError>(moved?)
    };
    let (written, moved) = tokio::join!(keep_writing(app, party, isolation.as_str(), &stop), moved);
    let report = moved?;
    assert!(
        report.tables.iter().all(|(_, rows, _)| *rows >= 0),
        "{report:?}"
    );
    written
}

/// Waits until `party`'s requests succeed again (the router reads the new
/// directory entry within its placement lifetime).
async fn served_again(app: &TestApp, party: &Party) -> TestResult {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = app.get(party, "/orders").await?;
        if reply.status == StatusCode::OK {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(
                format!("not served after the move: {} {}", reply.status, reply.text).into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_tenant_moved_to_a_schema_then_a_database_keeps_its_rows_and_acknowledged_writes()
-> TestResult {
    let app = TestApp::postgres().await?;
    let store = app.postgres_store().ok_or("a PostgreSQL service")?;
    store.allow_tenant_databases().await?;
    let (a, b) = (app.a, app.b);
    // Every tenant table has rows of A: an account and a new order too.
    let account = json!({ "name": "Budget", "balance_cents": 5000 });
    let reply = app
        .send_json(&a, Method::POST, "/accounts", &account)
        .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let b_before = snapshot(store, &b.tenant()).await?;
    let mut expected = snapshot(store, &a.tenant()).await?;

    let mut refusals = 0;
    for isolation in [Isolation::Schema, Isolation::Database] {
        let (acknowledged, refused) = move_while_writing(&app, store, &a, isolation).await?;
        refusals += refused;
        let after = snapshot(store, &a.tenant()).await?;
        // Every row the tenant had, and every acknowledged write, nothing
        // else. (The copied ids move the new place's sequences past them,
        // so customers are compared as sets.)
        let (kept, new): (Vec<&Value>, Vec<&Value>) = after
            .customers
            .iter()
            .partition(|customer| expected.customers.contains(customer));
        assert_eq!(kept.len(), expected.customers.len(), "rows before the move");
        let mut emails: Vec<&str> = new
            .iter()
            .filter_map(|customer| customer["email"].as_str())
            .collect();
        let mut acknowledged: Vec<&str> = acknowledged.iter().map(String::as_str).collect();
        emails.sort_unstable();
        acknowledged.sort_unstable();
        assert_eq!(
            emails, acknowledged,
            "the acknowledged writes, and no other"
        );
        assert_eq!(
            (&after.orders, &after.order_items, &after.accounts),
            (&expected.orders, &expected.order_items, &expected.accounts)
        );
        expected = after;
        // Where the directory says, and served there without leaks.
        let entry = store
            .router
            .directory()
            .entry(KeyValue::I64(a.demo.id))
            .await?
            .ok_or("no entry")?;
        let kind = match isolation {
            Isolation::Schema => "schema",
            _ => "database",
        };
        assert_eq!(entry.placement.kind(), kind);
        let reply = app.get(&a, "/orders").await?;
        app.assert_clean_for_a(&reply);
    }
    // The places left hold none of A's rows; B was never touched.
    for (schema, table) in [
        ("public", "orders"),
        ("public", "customers"),
        ("tenant_1", "orders"),
        ("tenant_1", "customers"),
    ] {
        assert_eq!(
            store
                .rows_in_shared_database(schema, table, a.demo.id)
                .await?,
            0,
            "{schema}.{table}"
        );
    }
    assert_eq!(snapshot(store, &b.tenant()).await?, b_before);
    assert!(matches!(
        store
            .router
            .directory()
            .entry(KeyValue::I64(b.demo.id))
            .await?
            .map(|e| e.placement),
        Some(Placement::Shared)
    ));

    // Requests keep working in the new place: a new order, read back.
    let order = json!({ "customer_id": a.ids.customer, "items": [{ "sku": "AFTER-MOVE", "quantity": 1, "unit_price_cents": 99 }] });
    let created = app.send_json(&a, Method::POST, "/orders", &order).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json()["id"].as_i64().ok_or("an id")?;
    let read = app.get(&a, &format!("/orders/{id}/items")).await?;
    assert_eq!(read.json()[0]["sku"], "AFTER-MOVE");
    let plan = app.get(&a, "/plan").await?;
    assert_eq!(plan.json()["orders"], 3, "{}", plan.text);
    eprintln!("writes refused during the moves: {refusals}");
    Ok(())
}
