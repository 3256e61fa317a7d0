//! The dashboard and the account transfers over real HTTP, on SQLite and
//! on PostgreSQL: tenant A's dashboard sums and ranks only A's orders, and
//! A can neither read, debit nor credit tenant B's accounts — B's ids answer
//! exactly like ids that do not exist, and a refused transfer changes no
//! balance.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Party, Reply, TestApp};

use tenancy_test::TestResult;

/// An id no tenant has.
const MISSING_ID: i64 = 999_999_999;

support::in_every_model!(
    dashboard_sums_and_ranks_only_own_orders,
    dashboard_filters_by_date_range,
    dashboard_ignores_other_tenants_new_orders,
    dashboard_refuses_bad_parameters,
    transfer_moves_money_between_own_accounts,
    transfer_refuses_an_overdraft_and_changes_nothing,
    other_tenants_accounts_answer_like_missing_ones,
    a_transfer_into_another_tenants_account_is_rolled_back,
    transfer_refuses_bad_bodies,
);

#[track_caller]
fn assert_status(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "body: {}", reply.text);
}

/// `party`'s orders, by status, with their totals: what the dashboard must
/// add up.
async fn own_totals(app: &TestApp, party: &Party) -> TestResult<(i64, i64)> {
    let reply = app.get(party, "/orders").await?;
    assert_status(&reply, StatusCode::OK);
    let body = reply.json();
    let total_of = |status: &str| -> i64 {
        body["orders"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|order| order["status"] == status)
            .filter_map(|order| order["total_cents"].as_i64())
            .sum()
    };
    Ok((total_of("paid"), total_of("pending")))
}

async fn dashboard_sums_and_ranks_only_own_orders(app: &TestApp) -> TestResult {
    let (paid, pending) = own_totals(app, &app.a).await?;
    let reply = app.get(&app.a, "/dashboard").await?;
    assert_status(&reply, StatusCode::OK);
    app.assert_clean_for_a(&reply);
    let body = reply.json();
    assert_eq!(
        body["by_status"],
        json!([
            {"status": "paid", "orders": 1, "total_cents": paid},
            {"status": "pending", "orders": 1, "total_cents": pending},
        ])
    );
    let top = &body["top_customers"];
    assert_eq!(top.as_array().map(Vec::len), Some(1), "{top}");
    assert_eq!(top[0]["rank"], 1);
    assert_eq!(top[0]["customer_id"], app.a.ids.customer);
    assert_eq!(top[0]["revenue_cents"], paid + pending);

    // The control: B's dashboard is B's, and the scan sees it.
    let theirs = app.get(&app.b, "/dashboard").await?;
    assert_status(&theirs, StatusCode::OK);
    assert!(
        !app.scan_as_a(&theirs).is_clean(),
        "B's values went unnoticed"
    );
    assert_ne!(theirs.json(), body);
    Ok(())
}

async fn dashboard_filters_by_date_range(app: &TestApp) -> TestResult {
    let (paid, pending) = own_totals(app, &app.a).await?;
    // The paid order is of 2024-05-10, the pending one of 2024-06-20.
    let cases = [
        (
            "?created_to=2024-05-31",
            json!([{"status": "paid", "orders": 1, "total_cents": paid}]),
            paid,
        ),
        (
            "?created_from=2024-06-01",
            json!([{"status": "pending", "orders": 1, "total_cents": pending}]),
            pending,
        ),
        (
            "?created_from=2024-05-10&created_to=2024-05-10",
            json!([{"status": "paid", "orders": 1, "total_cents": paid}]),
            paid,
        ),
    ];
    for (query, by_status, revenue) in cases {
        let reply = app.get(&app.a, &format!("/dashboard{query}")).await?;
        assert_status(&reply, StatusCode::OK);
        app.scan_as_a(&reply).assert_no_leak();
        let body = reply.json();
        assert_eq!(body["by_status"], by_status, "{query}");
        assert_eq!(
            body["top_customers"][0]["revenue_cents"], revenue,
            "{query}"
        );
    }
    let empty = app
        .get(&app.a, "/dashboard?created_from=2030-01-01")
        .await?;
    assert_status(&empty, StatusCode::OK);
    assert_eq!(empty.json(), json!({"by_status": [], "top_customers": []}));
    Ok(())
}

async fn dashboard_ignores_other_tenants_new_orders(app: &TestApp) -> TestResult {
    let before = app.get(&app.a, "/dashboard").await?;
    assert_status(&before, StatusCode::OK);
    // B places an order for B's customer; A's dashboard must not move.
    let placed = app
        .send_json(
            &app.b,
            Method::POST,
            "/orders",
            &json!({"customer_id": app.b.ids.customer, "items": [{"sku": "B-NEW", "quantity": 2, "unit_price_cents": 700}]}),
        )
        .await?;
    assert_status(&placed, StatusCode::CREATED);
    let after = app.get(&app.a, "/dashboard").await?;
    assert_status(&after, StatusCode::OK);
    assert_eq!(after.json(), before.json());
    // B's own dashboard did count it.
    let theirs = app.get(&app.b, "/dashboard").await?.json();
    let pending_orders = theirs["by_status"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|row| row["status"] == "pending")
        .map(|row| row["orders"].clone());
    assert_eq!(pending_orders, Some(json!(2)));
    Ok(())
}

async fn dashboard_refuses_bad_parameters(app: &TestApp) -> TestResult {
    for (query, message) in [
        ("?top=0", "top must be between 1 and 50"),
        ("?top=51", "top must be between 1 and 50"),
        ("?created_from=yesterday", "created_from must be a date"),
        (
            "?created_from=2024-06-02&created_to=2024-06-01",
            "is after created_to",
        ),
    ] {
        let reply = app.get(&app.a, &format!("/dashboard{query}")).await?;
        assert_status(&reply, StatusCode::BAD_REQUEST);
        assert!(
            reply.error().contains(message),
            "{query}: {}",
            reply.error()
        );
    }
    Ok(())
}

/// Opens an account of `party` with `balance` cents; its id.
async fn open(app: &TestApp, party: &Party, name: &str, balance: i64) -> TestResult<i64> {
    let reply = app
        .send_json(
            party,
            Method::POST,
            "/accounts",
            &json!({"name": name, "balance_cents": balance}),
        )
        .await?;
    assert_status(&reply, StatusCode::CREATED);
    reply.json()["id"]
        .as_i64()
        .ok_or_else(|| "no account id".into())
}

async fn balance(app: &TestApp, party: &Party, id: i64) -> TestResult<i64> {
    let reply = app.get(party, &format!("/accounts/{id}")).await?;
    assert_status(&reply, StatusCode::OK);
    reply.json()["balance_cents"]
        .as_i64()
        .ok_or_else(|| "no balance".into())
}

async fn transfer(
    app: &TestApp,
    party: &Party,
    from: i64,
    to: i64,
    amount: i64,
) -> TestResult<Reply> {
    app.send_json(
        party,
        Method::POST,
        &format!("/accounts/{from}/transfer"),
        &json!({"to": to, "amount_cents": amount}),
    )
    .await
}

async fn transfer_moves_money_between_own_accounts(app: &TestApp) -> TestResult {
    let from = open(app, &app.a, "budget", 10_000).await?;
    let to = open(app, &app.a, "marketing", 0).await?;
    let reply = transfer(app, &app.a, from, to, 2_500).await?;
    assert_status(&reply, StatusCode::OK);
    app.scan_as_a(&reply).assert_no_leak();
    let body = reply.json();
    assert_eq!(
        (&body["from"]["balance_cents"], &body["to"]["balance_cents"]),
        (&json!(7_500), &json!(2_500))
    );
    assert_eq!(balance(app, &app.a, from).await?, 7_500);
    assert_eq!(balance(app, &app.a, to).await?, 2_500);
    // Down to exactly zero is allowed.
    assert_status(
        &transfer(app, &app.a, from, to, 7_500).await?,
        StatusCode::OK,
    );
    assert_eq!(balance(app, &app.a, from).await?, 0);
    Ok(())
}

async fn transfer_refuses_an_overdraft_and_changes_nothing(app: &TestApp) -> TestResult {
    let from = open(app, &app.a, "budget", 1_000).await?;
    let to = open(app, &app.a, "travel", 50).await?;
    let reply = transfer(app, &app.a, from, to, 1_001).await?;
    assert_status(&reply, StatusCode::CONFLICT);
    assert!(
        reply.error().contains("less than 1001 cents"),
        "{}",
        reply.error()
    );
    assert_eq!(balance(app, &app.a, from).await?, 1_000);
    assert_eq!(balance(app, &app.a, to).await?, 50);
    Ok(())
}

/// An account of B whose id A has no account under. In the shared tables
/// ids are numbered across tenants; in a schema or a database of its own a
/// tenant numbers its rows itself, so B's first account may well have the
/// id of A's (which is A's own account, not a leak).
async fn open_under_another_id(
    app: &TestApp,
    name: &str,
    balance: i64,
    mine: i64,
) -> TestResult<i64> {
    loop {
        let theirs = open(app, &app.b, name, balance).await?;
        if theirs != mine {
            return Ok(theirs);
        }
    }
}

async fn other_tenants_accounts_answer_like_missing_ones(app: &TestApp) -> TestResult {
    let mine = open(app, &app.a, "acme petty cash", 100).await?;
    let theirs = open_under_another_id(app, "globex treasury", 1_000_000, mine).await?;

    let read_theirs = app.get(&app.a, &format!("/accounts/{theirs}")).await?;
    let read_missing = app.get(&app.a, &format!("/accounts/{MISSING_ID}")).await?;
    assert_status(&read_theirs, StatusCode::NOT_FOUND);
    assert_eq!(
        read_theirs.text,
        read_missing
            .text
            .replace(&MISSING_ID.to_string(), &theirs.to_string())
    );

    // A tries to debit B's account into its own.
    let debit_theirs = transfer(app, &app.a, theirs, mine, 500).await?;
    let debit_missing = transfer(app, &app.a, MISSING_ID, mine, 500).await?;
    assert_status(&debit_theirs, StatusCode::NOT_FOUND);
    assert_eq!(
        debit_theirs.text,
        debit_missing
            .text
            .replace(&MISSING_ID.to_string(), &theirs.to_string())
    );
    assert_eq!(balance(app, &app.b, theirs).await?, 1_000_000);
    assert_eq!(balance(app, &app.a, mine).await?, 100);
    Ok(())
}

async fn a_transfer_into_another_tenants_account_is_rolled_back(app: &TestApp) -> TestResult {
    let mine = open(app, &app.a, "acme budget", 1_000).await?;
    let theirs = open_under_another_id(app, "globex treasury", 0, mine).await?;
    // The debit of A's account succeeds inside the transaction; the credit
    // finds no such account for A, and the whole transfer is undone.
    let reply = transfer(app, &app.a, mine, theirs, 400).await?;
    assert_status(&reply, StatusCode::NOT_FOUND);
    assert_eq!(reply.error(), format!("account {theirs} not found"));
    assert_eq!(balance(app, &app.a, mine).await?, 1_000);
    assert_eq!(balance(app, &app.b, theirs).await?, 0);
    Ok(())
}

async fn transfer_refuses_bad_bodies(app: &TestApp) -> TestResult {
    let from = open(app, &app.a, "budget", 1_000).await?;
    let to = open(app, &app.a, "ops", 0).await?;
    for (amount, to, message) in [
        (0, to, "amount_cents must be more than 0"),
        (-5, to, "amount_cents must be more than 0"),
        (5, from, "cannot transfer to itself"),
    ] {
        let reply = transfer(app, &app.a, from, to, amount).await?;
        assert_status(&reply, StatusCode::BAD_REQUEST);
        assert!(reply.error().contains(message), "{}", reply.error());
    }
    let negative = app
        .send_json(
            &app.a,
            Method::POST,
            "/accounts",
            &json!({"name": "x", "balance_cents": -1}),
        )
        .await?;
    assert_status(&negative, StatusCode::BAD_REQUEST);
    assert_eq!(balance(app, &app.a, from).await?, 1_000);
    let unknown_field: Value = app
        .send_json(
            &app.a,
            Method::POST,
            &format!("/accounts/{from}/transfer"),
            &json!({"to": to, "amount_cents": 1, "from": 9}),
        )
        .await?
        .json();
    assert!(unknown_field["error"].is_string(), "{unknown_field}");
    Ok(())
}
