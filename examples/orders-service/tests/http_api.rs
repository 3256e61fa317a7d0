//! Every endpoint over real HTTP, on SQLite and on PostgreSQL (and, with
//! the `citus` feature, on a Citus cluster whose two workers each hold one
//! of the tenants): tenant A
//! (Acme) calls it, and the leak-test kit checks that nothing seeded for
//! tenant B (Globex) comes back; B's ids answer exactly like ids that do not
//! exist; bad input is refused with a 400 that says what was wrong; and a
//! refused request writes nothing.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Reply, TestApp};

use tenancy_test::TestResult;

/// An id no tenant has: the kit's ids are at least 10^15 and unique.
const MISSING_ID: i64 = 999_999_999;

support::in_every_model!(
    leak_check_catches_other_tenants_rows,
    list_orders_shows_only_own_orders,
    list_orders_filters_and_pages,
    get_order_shows_own_order,
    other_tenants_order_answers_exactly_like_a_missing_one,
    other_tenants_ids_answer_like_missing_ids_on_every_endpoint,
    create_order_returns_only_own_data,
    create_order_refuses_other_tenants_customer,
    update_status_changes_only_own_orders,
    delete_removes_only_own_orders,
    order_items_show_only_own_items,
    customer_orders_join_shows_only_own_rows,
    create_customer_is_per_tenant,
    list_customers_shows_only_own_customers,
    plan_shows_own_plan,
    export_json_writes_one_audit_record,
    export_csv_writes_one_audit_record_with_the_filter,
    export_of_two_tenants_writes_one_audit_record_in_each,
    a_tenant_key_cannot_reach_the_admin_export,
    the_export_audit_cannot_be_rewritten,
    missing_key_is_401,
    unknown_key_is_401,
    tenant_header_is_not_a_credential,
    non_numeric_id_is_400,
    malformed_json_is_400,
    mistyped_json_is_400,
    unknown_status_is_400,
    negative_limit_is_400,
    limit_over_the_maximum_is_400,
    negative_offset_is_400,
    bad_date_is_400,
    reversed_date_range_is_400,
    invalid_item_is_400,
    failed_requests_write_nothing,
    raw_sql_reaches_only_own_rows,
);

fn ids(orders: &Value) -> Vec<i64> {
    orders
        .as_array()
        .map(|rows| rows.iter().filter_map(|row| row["id"].as_i64()).collect())
        .unwrap_or_default()
}

#[track_caller]
fn assert_status(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "body: {}", reply.text);
}

#[track_caller]
fn assert_bad_request(reply: &Reply, message: &str) {
    assert_status(reply, StatusCode::BAD_REQUEST);
    let error = reply.error();
    assert!(
        error.contains(message),
        "{error:?} does not say {message:?}"
    );
}

// --- leak checks, one per endpoint ------------------------------------------

/// The control: B's own answers, scanned as if A had received them, are
/// reported, so a clean scan below means something.
async fn leak_check_catches_other_tenants_rows(app: &TestApp) -> TestResult {
    for path in [
        "/orders".to_owned(),
        format!("/customers/{}/orders", app.b.ids.customer),
        "/plan".to_owned(),
    ] {
        let reply = app.get(&app.b, &path).await?;
        assert_status(&reply, StatusCode::OK);
        assert!(
            !app.scan_as_a(&reply).is_clean(),
            "{path}: B's values went unnoticed"
        );
    }
    Ok(())
}

/// Raw SQL in A's transaction has no builder predicate: only the place the
/// transaction runs in (A's schema or database, as the directory says) and
/// the policies there confine it, whatever table name it uses. On SQLite,
/// which has no policies, raw SQL reads every tenant's rows, as documented:
/// there the kit must find B's.
async fn raw_sql_reaches_only_own_rows(app: &TestApp) -> TestResult {
    let queries: &[&str] = if app.has_rls() {
        &[
            "SELECT to_jsonb(t) FROM customers t",
            "SELECT to_jsonb(t) FROM orders t",
            "SELECT to_jsonb(t) FROM order_items t",
            // The shared tables by name, from any placement.
            "SELECT to_jsonb(t) FROM public.orders t",
        ]
    } else {
        &[
            "SELECT json_object('id', id, 'name', name, 'email', email) FROM customers",
            "SELECT json_object('id', id, 'total_cents', total_cents) FROM orders",
            "SELECT json_object('id', id, 'sku', sku) FROM order_items",
        ]
    };
    let mut seen = Vec::new();
    for sql in queries {
        seen.push(Value::Array(app.raw_rows(&app.a, sql).await?));
    }
    let reply = Reply::json_of(&Value::Array(seen));
    if let Some(store) = app.postgres_store() {
        app.assert_clean_for_a(&reply);
        // And the transaction ran where the directory places A.
        let ran_in = app
            .raw_rows(
                &app.a,
                "SELECT to_jsonb(ARRAY[current_database(), current_schema()])",
            )
            .await?;
        assert_eq!(ran_in, [json!(store.expected_place(app.a.demo.id).await?)]);
    } else {
        assert!(!app.scan_as_a(&reply).is_clean(), "SQLite has no RLS");
    }
    Ok(())
}

async fn list_orders_shows_only_own_orders(app: &TestApp) -> TestResult {
    let reply = app.get(&app.a, "/orders").await?;
    assert_status(&reply, StatusCode::OK);
    app.assert_clean_for_a(&reply);
    let body = reply.json();
    assert_eq!(body["total"], 2);
    assert_eq!(
        ids(&body["orders"]),
        [app.a.ids.pending_order, app.a.ids.paid_order]
    );
    Ok(())
}

async fn list_orders_filters_and_pages(app: &TestApp) -> TestResult {
    let (paid, pending) = (app.a.ids.paid_order, app.a.ids.pending_order);
    let cases: [(&str, Vec<i64>); 6] = [
        ("/orders?status=paid", vec![paid]),
        ("/orders?status=cancelled", vec![]),
        ("/orders?created_from=2024-06-01", vec![pending]),
        ("/orders?created_to=2024-05-31", vec![paid]),
        (
            "/orders?created_from=2024-05-10&created_to=2024-05-10",
            vec![paid],
        ),
        ("/orders?limit=1&offset=1", vec![paid]),
    ];
    for (path, expected) in cases {
        let reply = app.get(&app.a, path).await?;
        assert_status(&reply, StatusCode::OK);
        app.scan_as_a(&reply).assert_no_leak();
        assert_eq!(ids(&reply.json()["orders"]), expected, "{path}");
    }
    Ok(())
}

async fn get_order_shows_own_order(app: &TestApp) -> TestResult {
    let reply = app
        .get(&app.a, &format!("/orders/{}", app.a.ids.paid_order))
        .await?;
    assert_status(&reply, StatusCode::OK);
    app.assert_clean_for_a(&reply);
    assert_eq!(reply.json()["status"], "paid");
    Ok(())
}

async fn other_tenants_order_answers_exactly_like_a_missing_one(app: &TestApp) -> TestResult {
    let path = format!("/orders/{}", app.b.ids.paid_order);
    let while_it_exists = app.get(&app.a, &path).await?;
    // B deletes its order: from now on the id is missing for everyone.
    let deleted = app
        .send(Method::DELETE, &path, Some(app.b.key()), None)
        .await?;
    assert_status(&deleted, StatusCode::NO_CONTENT);
    let once_missing = app.get(&app.a, &path).await?;

    assert_status(&while_it_exists, StatusCode::NOT_FOUND);
    assert_eq!(while_it_exists.status, once_missing.status);
    assert_eq!(while_it_exists.content_type, once_missing.content_type);
    assert_eq!(while_it_exists.text, once_missing.text);
    Ok(())
}

/// The answer for B's id and for a missing id, with the id itself blanked.
async fn answers_for(
    app: &TestApp,
    method: Method,
    path: &str,
    other_tenants_id: i64,
    body: Option<&Value>,
) -> TestResult<(String, String)> {
    let body = body.map(Value::to_string);
    let mut answers = Vec::new();
    for id in [other_tenants_id, MISSING_ID] {
        let reply = app
            .send(
                method.clone(),
                &path.replace("{id}", &id.to_string()),
                Some(app.a.key()),
                body.as_deref(),
            )
            .await?;
        answers.push(format!(
            "{} {:?} {}",
            reply.status,
            reply.content_type,
            reply.text.replace(&id.to_string(), "{id}")
        ));
    }
    let missing = answers.pop().unwrap_or_default();
    let other = answers.pop().unwrap_or_default();
    Ok((other, missing))
}

async fn other_tenants_ids_answer_like_missing_ids_on_every_endpoint(app: &TestApp) -> TestResult {
    let (order, customer) = (app.b.ids.pending_order, app.b.ids.customer);
    let status = json!({ "status": "cancelled" });
    let endpoints: [(Method, &str, i64, Option<&Value>); 5] = [
        (Method::GET, "/orders/{id}", order, None),
        (Method::GET, "/orders/{id}/items", order, None),
        (Method::PATCH, "/orders/{id}", order, Some(&status)),
        (Method::DELETE, "/orders/{id}", order, None),
        (Method::GET, "/customers/{id}/orders", customer, None),
    ];
    for (method, path, id, body) in endpoints {
        let (other, missing) = answers_for(app, method.clone(), path, id, body).await?;
        assert!(other.starts_with("404"), "{method} {path}: {other}");
        assert_eq!(other, missing, "{method} {path}");
    }
    Ok(())
}

async fn create_order_returns_only_own_data(app: &TestApp) -> TestResult {
    let order = json!({
        "customer_id": app.a.ids.customer,
        "items": [
            { "sku": "NEW-1", "quantity": 2, "unit_price_cents": 150 },
            { "sku": "NEW-2", "quantity": 1, "unit_price_cents": 700 },
        ],
    });
    let reply = app
        .send_json(&app.a, Method::POST, "/orders", &order)
        .await?;
    assert_status(&reply, StatusCode::CREATED);
    app.assert_clean_for_a(&reply);
    let body = reply.json();
    assert_eq!(body["status"], "pending");
    assert_eq!(body["total_cents"], 1000);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2));

    let listed = app.get(&app.a, "/orders").await?.json();
    assert_eq!(listed["total"], 3);
    let as_b = app.get(&app.b, "/orders").await?.json();
    assert_eq!(as_b["total"], 2, "B sees A's new order: {as_b}");
    Ok(())
}

async fn create_order_refuses_other_tenants_customer(app: &TestApp) -> TestResult {
    let before = app.row_counts().await?;
    let mut answers = Vec::new();
    for customer in [app.b.ids.customer, MISSING_ID] {
        let order = json!({
            "customer_id": customer,
            "items": [{ "sku": "X", "quantity": 1, "unit_price_cents": 1 }],
        });
        let reply = app
            .send_json(&app.a, Method::POST, "/orders", &order)
            .await?;
        assert_status(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        answers.push(reply.text.replace(&customer.to_string(), "{id}"));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(app.row_counts().await?, before);
    Ok(())
}

async fn update_status_changes_only_own_orders(app: &TestApp) -> TestResult {
    let own = format!("/orders/{}", app.a.ids.pending_order);
    let change = json!({ "status": "shipped" });
    let reply = app.send_json(&app.a, Method::PATCH, &own, &change).await?;
    assert_status(&reply, StatusCode::OK);
    app.assert_clean_for_a(&reply);
    assert_eq!(reply.json()["status"], "shipped");
    assert_eq!(app.get(&app.a, &own).await?.json()["status"], "shipped");

    let others = format!("/orders/{}", app.b.ids.pending_order);
    let reply = app
        .send_json(&app.a, Method::PATCH, &others, &change)
        .await?;
    assert_status(&reply, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&app.b, &others).await?.json()["status"], "pending");
    Ok(())
}

async fn delete_removes_only_own_orders(app: &TestApp) -> TestResult {
    let before = app.row_counts().await?;
    let others = format!("/orders/{}", app.b.ids.paid_order);
    let reply = app
        .send(Method::DELETE, &others, Some(app.a.key()), None)
        .await?;
    assert_status(&reply, StatusCode::NOT_FOUND);
    assert_status(&app.get(&app.b, &others).await?, StatusCode::OK);
    assert_eq!(app.row_counts().await?, before);

    let own = format!("/orders/{}", app.a.ids.paid_order);
    let reply = app
        .send(Method::DELETE, &own, Some(app.a.key()), None)
        .await?;
    assert_status(&reply, StatusCode::NO_CONTENT);
    app.scan_as_a(&reply).assert_no_leak();
    assert_status(&app.get(&app.a, &own).await?, StatusCode::NOT_FOUND);
    let after = app.row_counts().await?;
    assert_eq!(after.orders, before.orders - 1);
    assert_eq!(after.order_items, before.order_items - 1);
    Ok(())
}

async fn order_items_show_only_own_items(app: &TestApp) -> TestResult {
    let reply = app
        .get(&app.a, &format!("/orders/{}/items", app.a.ids.paid_order))
        .await?;
    assert_status(&reply, StatusCode::OK);
    app.assert_clean_for_a(&reply);
    assert_eq!(reply.json().as_array().map(Vec::len), Some(1));
    Ok(())
}

async fn customer_orders_join_shows_only_own_rows(app: &TestApp) -> TestResult {
    let reply = app
        .get(&app.a, &format!("/customers/{}/orders", app.a.ids.customer))
        .await?;
    assert_status(&reply, StatusCode::OK);
    app.assert_clean_for_a(&reply);
    let rows = reply.json();
    assert_eq!(ids(&rows), [app.a.ids.pending_order, app.a.ids.paid_order]);
    assert!(
        rows[0]["customer_name"]
            .as_str()
            .is_some_and(|name| name.starts_with("customer name-"))
    );
    Ok(())
}

async fn create_customer_is_per_tenant(app: &TestApp) -> TestResult {
    let new = json!({ "name": "Marvin", "email": "marvin@acme.example" });
    let reply = app
        .send_json(&app.a, Method::POST, "/customers", &new)
        .await?;
    assert_status(&reply, StatusCode::CREATED);
    app.scan_as_a(&reply).assert_no_leak();
    assert_eq!(reply.json()["email"], "marvin@acme.example");

    let again = app
        .send_json(&app.a, Method::POST, "/customers", &new)
        .await?;
    assert_status(&again, StatusCode::CONFLICT);

    // B's customer's address is free for A: another tenant's rows neither
    // show nor get in the way.
    let listed = app.get(&app.b, "/customers").await?.json();
    let b_email = listed[0]["email"].as_str().unwrap_or_default().to_owned();
    let same_email = json!({ "name": "Someone", "email": b_email });
    let reply = app
        .send_json(&app.a, Method::POST, "/customers", &same_email)
        .await?;
    assert_status(&reply, StatusCode::CREATED);
    Ok(())
}

async fn list_customers_shows_only_own_customers(app: &TestApp) -> TestResult {
    let reply = app.get(&app.a, "/customers").await?;
    assert_status(&reply, StatusCode::OK);
    app.assert_clean_for_a(&reply);
    assert_eq!(ids(&reply.json()), [app.a.ids.customer]);
    Ok(())
}

async fn plan_shows_own_plan(app: &TestApp) -> TestResult {
    let reply = app.get(&app.a, "/plan").await?;
    assert_status(&reply, StatusCode::OK);
    app.assert_clean_for_a(&reply);
    let body = reply.json();
    assert_eq!(body["plan"], "starter");
    assert_eq!(body["orders"], 2);
    let as_b = app.get(&app.b, "/plan").await?.json();
    assert_eq!(as_b["plan"], "growth");
    Ok(())
}

async fn export_json_writes_one_audit_record(app: &TestApp) -> TestResult {
    let before = app.row_counts().await?;
    let path = format!("/admin/export/orders?tenants={}", app.a.demo.id);
    let reply = app.get_as_admin(&path).await?;
    assert_status(&reply, StatusCode::OK);
    app.assert_clean_for_a(&reply);
    let body = reply.json();
    assert_eq!(body[0]["tenant"], app.a.demo.id);
    assert_eq!(
        ids(&body[0]["orders"]),
        [app.a.ids.paid_order, app.a.ids.pending_order]
    );

    let audit = app.audit_records(&app.a).await?;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].exported_by, "admin");
    assert_eq!(audit[0].filter, "all");
    assert_eq!(audit[0].format, "json");
    assert_eq!(audit[0].record_count, 2);
    assert!(app.audit_records(&app.b).await?.is_empty());
    assert_eq!(
        app.row_counts().await?.export_audit,
        before.export_audit + 1
    );
    Ok(())
}

async fn export_csv_writes_one_audit_record_with_the_filter(app: &TestApp) -> TestResult {
    let path = format!(
        "/admin/export/orders?tenants={}&format=csv&status=paid",
        app.a.demo.id
    );
    let reply = app.get_as_admin(&path).await?;
    assert_status(&reply, StatusCode::OK);
    assert_eq!(
        reply.content_type.as_deref(),
        Some("text/csv; charset=utf-8")
    );
    app.assert_clean_for_a(&reply);
    let lines: Vec<&str> = reply.text.lines().collect();
    assert_eq!(
        lines[0],
        "tenant_id,id,customer_id,status,total_cents,created_at"
    );
    assert_eq!(lines.len(), 2, "{}", reply.text);
    assert!(lines[1].starts_with(&format!("{},{},", app.a.demo.id, app.a.ids.paid_order)));

    let audit = app.audit_records(&app.a).await?;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].filter, "status=paid");
    assert_eq!(audit[0].format, "csv");
    assert_eq!(audit[0].record_count, 1);
    Ok(())
}

/// The fan-out: each tenant read in its own transaction, each audited in
/// its own tenant.
async fn export_of_two_tenants_writes_one_audit_record_in_each(app: &TestApp) -> TestResult {
    let path = format!(
        "/admin/export/orders?tenants={},{}",
        app.b.demo.id, app.a.demo.id
    );
    let reply = app.get_as_admin(&path).await?;
    assert_status(&reply, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body[0]["tenant"], app.b.demo.id, "in the order asked for");
    assert_eq!(body[1]["tenant"], app.a.demo.id);
    assert_eq!(
        ids(&body[1]["orders"]),
        [app.a.ids.paid_order, app.a.ids.pending_order]
    );
    assert_eq!(app.audit_records(&app.a).await?.len(), 1);
    assert_eq!(app.audit_records(&app.b).await?.len(), 1);
    Ok(())
}

/// Any tenant's key, even an admin-labelled one, gets 403 on `/admin`, and
/// no key 401; nothing is exported or audited.
async fn a_tenant_key_cannot_reach_the_admin_export(app: &TestApp) -> TestResult {
    let before = app.row_counts().await?;
    let path = format!("/admin/export/orders?tenants={}", app.b.demo.id);
    let reply = app.get(&app.a, &path).await?;
    assert_status(&reply, StatusCode::FORBIDDEN);
    assert!(reply.error().contains("admin credential"), "{}", reply.text);
    let reply = app.send(Method::GET, &path, None, None).await?;
    assert_status(&reply, StatusCode::UNAUTHORIZED);
    assert_eq!(app.row_counts().await?, before);
    Ok(())
}

/// The audit is evidence: the application cannot update or delete it.
async fn the_export_audit_cannot_be_rewritten(app: &TestApp) -> TestResult {
    let path = format!("/admin/export/orders?tenants={}", app.a.demo.id);
    assert_status(&app.get_as_admin(&path).await?, StatusCode::OK);
    for statement in [
        "UPDATE export_audit SET exported_by = 'nobody'",
        "DELETE FROM export_audit",
    ] {
        let refused = app.as_application(&app.a, statement).await;
        let message = format!("{refused:?}");
        assert!(
            message.contains("append-only") || message.contains("permission denied"),
            "{statement}: {message}"
        );
    }
    assert_eq!(app.audit_records(&app.a).await?.len(), 1);
    Ok(())
}

async fn missing_key_is_401(app: &TestApp) -> TestResult {
    let reply = app.send(Method::GET, "/orders", None, None).await?;
    assert_status(&reply, StatusCode::UNAUTHORIZED);
    assert!(
        reply.error().contains("Authorization: Bearer"),
        "{}",
        reply.text
    );
    Ok(())
}

async fn unknown_key_is_401(app: &TestApp) -> TestResult {
    let reply = app
        .send(Method::GET, "/orders", Some("not-a-key-of-anyone"), None)
        .await?;
    assert_status(&reply, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error(), "unknown API key");
    Ok(())
}

async fn tenant_header_is_not_a_credential(app: &TestApp) -> TestResult {
    let client = reqwest::Client::new();
    let url = app.url("/orders");
    let reply = client.get(url).header("x-tenant-id", "1").send().await?;
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}

async fn non_numeric_id_is_400(app: &TestApp) -> TestResult {
    for path in [
        "/orders/abc",
        "/orders/abc/items",
        "/customers/abc/orders",
        "/orders/99999999999999999999",
    ] {
        let reply = app.get(&app.a, path).await?;
        assert_bad_request(&reply, "the id in the path must be a 64-bit integer");
    }
    let reply = app
        .send(Method::DELETE, "/orders/1x", Some(app.a.key()), None)
        .await?;
    assert_bad_request(&reply, "got \"1x\"");
    Ok(())
}

async fn malformed_json_is_400(app: &TestApp) -> TestResult {
    let reply = app
        .send(
            Method::POST,
            "/orders",
            Some(app.a.key()),
            Some("{\"customer_id\": 1, \"items\": ["),
        )
        .await?;
    assert_bad_request(&reply, "malformed JSON body");
    Ok(())
}

async fn mistyped_json_is_400(app: &TestApp) -> TestResult {
    let wrong_type = json!({ "customer_id": "one", "items": [] });
    let reply = app
        .send_json(&app.a, Method::POST, "/orders", &wrong_type)
        .await?;
    assert_bad_request(&reply, "customer_id: invalid type");
    let unknown_field = json!({ "name": "X", "email": "x@acme.example", "tenant_id": 2 });
    let reply = app
        .send_json(&app.a, Method::POST, "/customers", &unknown_field)
        .await?;
    assert_bad_request(&reply, "unknown field `tenant_id`");
    Ok(())
}

async fn unknown_status_is_400(app: &TestApp) -> TestResult {
    let path = format!("/orders/{}", app.a.ids.pending_order);
    let reply = app
        .send_json(&app.a, Method::PATCH, &path, &json!({ "status": "lost" }))
        .await?;
    assert_bad_request(&reply, "unknown variant `lost`");
    let reply = app.get(&app.a, "/orders?status=lost").await?;
    assert_bad_request(&reply, "unknown variant `lost`");
    assert_eq!(app.get(&app.a, &path).await?.json()["status"], "pending");
    Ok(())
}

async fn negative_limit_is_400(app: &TestApp) -> TestResult {
    let reply = app.get(&app.a, "/orders?limit=-1").await?;
    assert_bad_request(&reply, "limit must be between 1 and 100, got -1");
    let reply = app.get(&app.a, "/customers?limit=-5").await?;
    assert_bad_request(&reply, "limit must be between 1 and 100, got -5");
    Ok(())
}

async fn limit_over_the_maximum_is_400(app: &TestApp) -> TestResult {
    let reply = app.get(&app.a, "/orders?limit=101").await?;
    assert_bad_request(&reply, "limit must be between 1 and 100, got 101");
    Ok(())
}

async fn negative_offset_is_400(app: &TestApp) -> TestResult {
    let reply = app.get(&app.a, "/orders?offset=-1").await?;
    assert_bad_request(&reply, "offset must be 0 or more, got -1");
    Ok(())
}

async fn bad_date_is_400(app: &TestApp) -> TestResult {
    let reply = app.get(&app.a, "/orders?created_from=2024-13-01").await?;
    assert_bad_request(
        &reply,
        "created_from must be a date like 2024-05-31, got \"2024-13-01\"",
    );
    let reply = app.get(&app.a, "/orders?created_to=yesterday").await?;
    assert_bad_request(
        &reply,
        "created_to must be a date like 2024-05-31, got \"yesterday\"",
    );
    Ok(())
}

async fn reversed_date_range_is_400(app: &TestApp) -> TestResult {
    let reply = app
        .get(
            &app.a,
            "/orders?created_from=2024-06-01&created_to=2024-05-01",
        )
        .await?;
    assert_bad_request(
        &reply,
        "created_from (2024-06-01) is after created_to (2024-05-01)",
    );
    Ok(())
}

async fn invalid_item_is_400(app: &TestApp) -> TestResult {
    let order = json!({
        "customer_id": app.a.ids.customer,
        "items": [{ "sku": "X", "quantity": 0, "unit_price_cents": 100 }],
    });
    let reply = app
        .send_json(&app.a, Method::POST, "/orders", &order)
        .await?;
    assert_bad_request(
        &reply,
        "items[0].quantity must be between 1 and 10000, got 0",
    );
    let empty = json!({ "customer_id": app.a.ids.customer, "items": [] });
    let reply = app
        .send_json(&app.a, Method::POST, "/orders", &empty)
        .await?;
    assert_bad_request(&reply, "items must hold 1 to 100 lines, got 0");
    Ok(())
}

async fn failed_requests_write_nothing(app: &TestApp) -> TestResult {
    let before = app.row_counts().await?;
    let a_customer = app.a.ids.customer;
    let b_order = app.b.ids.pending_order;
    let bad_item = json!({ "customer_id": a_customer, "items": [{ "sku": "", "quantity": 1, "unit_price_cents": 1 }] });
    let b_customer = json!({ "customer_id": app.b.ids.customer, "items": [{ "sku": "X", "quantity": 1, "unit_price_cents": 1 }] });
    let duplicate = app.get(&app.a, "/customers").await?.json()[0].clone();
    let duplicate = json!({ "name": "Again", "email": duplicate["email"] });
    let failing: [(Method, String, Option<String>, Option<&str>); 8] = [
        (
            Method::POST,
            "/orders".into(),
            Some("{\"customer_id\": ".into()),
            Some(app.a.key()),
        ),
        (
            Method::POST,
            "/orders".into(),
            Some(bad_item.to_string()),
            Some(app.a.key()),
        ),
        (
            Method::POST,
            "/orders".into(),
            Some(b_customer.to_string()),
            Some(app.a.key()),
        ),
        (
            Method::POST,
            "/customers".into(),
            Some(duplicate.to_string()),
            Some(app.a.key()),
        ),
        (
            Method::PATCH,
            format!("/orders/{b_order}"),
            Some("{\"status\": \"paid\"}".into()),
            Some(app.a.key()),
        ),
        (
            Method::DELETE,
            format!("/orders/{b_order}"),
            None,
            Some(app.a.key()),
        ),
        (
            Method::POST,
            "/orders".into(),
            Some(b_customer.to_string()),
            None,
        ),
        (
            Method::GET,
            "/admin/export/orders?tenants=1&format=xml".into(),
            None,
            Some(support::ADMIN_KEY),
        ),
    ];
    for (method, path, body, key) in failing {
        let reply = app
            .send(method.clone(), &path, key, body.as_deref())
            .await?;
        assert!(
            reply.status.is_client_error(),
            "{method} {path} succeeded: {} {}",
            reply.status,
            reply.text
        );
    }
    assert_eq!(app.row_counts().await?, before);
    assert_eq!(
        app.get(&app.b, &format!("/orders/{b_order}")).await?.json()["status"],
        "pending"
    );
    Ok(())
}
