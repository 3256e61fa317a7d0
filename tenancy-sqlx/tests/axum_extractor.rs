//! The axum extractor yields a tenant only for a verified API key: through
//! a router driven in memory (`oneshot`) and over real HTTP.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;
use tenancy_sqlx::axum::{ApiKeyHash, ApiKeys, VerifiedTenant, VerifyTenant, request_span};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::{CrossTenant, TenantPool, TenantPoolOptions};
use tenancy_test::TestResult;
use tenancy_test::capture::Capture;
use tower::ServiceExt;
use tracing::Instrument;

const KEY_OF_42: &str = "tk_live_42_c0ffee";
const KEY_OF_7: &str = "tk_live_7_decaf";

/// The handler under test: says which tenant it was given.
async fn whoami(VerifiedTenant(tenant): VerifiedTenant) -> String {
    tenant.key().to_string()
}

fn router<S>(state: S) -> Router
where
    S: VerifyTenant + Clone + Send + Sync + 'static,
    S::Rejection: Send,
{
    Router::new()
        .route("/whoami", get(whoami))
        .with_state(state)
}

/// Issued keys by hash, as an application's key table would hold them.
fn issued_keys() -> ApiKeys<impl tenancy_sqlx::axum::ApiKeyLookup<i64> + Clone> {
    keys(&[(KEY_OF_42, 42), (KEY_OF_7, 7)])
}

/// A verifier that knows these keys: every call returns the same type.
fn keys(issued: &[(&str, i64)]) -> ApiKeys<impl tenancy_sqlx::axum::ApiKeyLookup<i64> + Clone> {
    let stored: Arc<HashMap<ApiKeyHash, i64>> = Arc::new(
        issued
            .iter()
            .map(|(key, tenant)| (ApiKeyHash::of(key), *tenant))
            .collect(),
    );
    ApiKeys::new(move |hash: ApiKeyHash| {
        let stored = Arc::clone(&stored);
        async move { Ok::<_, Infallible>(stored.get(&hash).copied()) }
    })
}

fn request(headers: &[(&str, &str)]) -> Result<Request<Body>, axum::http::Error> {
    let mut request = Request::get("/whoami");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty())
}

/// Status, `WWW-Authenticate` and body text of a response.
async fn read(response: Response) -> TestResult<(StatusCode, Option<String>, String)> {
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|value| value.to_str().map(str::to_owned))
        .transpose()?;
    let body = to_bytes(response.into_body(), 64 * 1024).await?;
    Ok((status, challenge, String::from_utf8(body.to_vec())?))
}

fn error_message(body: &str) -> TestResult<String> {
    let json: Value = serde_json::from_str(body)?;
    Ok(json["error"].as_str().ok_or("no error field")?.to_owned())
}

#[tokio::test]
async fn a_valid_key_gives_the_handler_its_tenant() -> TestResult {
    let app = router(issued_keys());
    for (key, tenant) in [(KEY_OF_42, "42"), (KEY_OF_7, "7")] {
        let bearer = format!("Bearer {key}");
        let response = app
            .clone()
            .oneshot(request(&[("authorization", &bearer)])?)
            .await?;
        let (status, _, body) = read(response).await?;
        assert_eq!((status, body.as_str()), (StatusCode::OK, tenant));
    }
    Ok(())
}

#[tokio::test]
async fn unknown_and_missing_credentials_get_401_with_a_challenge() -> TestResult {
    let app = router(issued_keys());

    let response = app
        .clone()
        .oneshot(request(&[("authorization", "Bearer tk_guess")])?)
        .await?;
    let (status, challenge, body) = read(response).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_eq!(error_message(&body)?, "unknown API key");

    let response = app.oneshot(request(&[])?).await?;
    let (status, challenge, body) = read(response).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some("Bearer"));
    assert_eq!(
        error_message(&body)?,
        "missing credential: send the header `Authorization: Bearer <api key>`"
    );
    Ok(())
}

#[tokio::test]
async fn malformed_headers_are_refused_with_what_was_wrong() -> TestResult {
    let app = router(issued_keys());
    let cases = [
        (
            "Basic dXNlcjpwYXNz",
            StatusCode::UNAUTHORIZED,
            "the Authorization header uses the scheme `Basic`; send `Authorization: Bearer <api key>`",
        ),
        (
            "Bearer",
            StatusCode::BAD_REQUEST,
            "malformed Authorization header: the Bearer token is empty; send `Authorization: Bearer <api key>`",
        ),
        (
            "Bearer tk live",
            StatusCode::BAD_REQUEST,
            "malformed Authorization header: the Bearer token holds characters other than letters, digits and -._~+/=; send `Authorization: Bearer <api key>`",
        ),
    ];
    for (header_value, expected_status, expected_message) in cases {
        let response = app
            .clone()
            .oneshot(request(&[("authorization", header_value)])?)
            .await?;
        let (status, challenge, body) = read(response).await?;
        assert_eq!(status, expected_status, "{header_value}");
        assert!(
            challenge.is_some_and(|c| c.starts_with("Bearer")),
            "{header_value}"
        );
        assert_eq!(error_message(&body)?, expected_message);
    }
    Ok(())
}

#[tokio::test]
async fn a_tenant_number_header_is_ignored() -> TestResult {
    let app = router(issued_keys());

    let response = app
        .clone()
        .oneshot(request(&[("x-tenant-id", "2")])?)
        .await?;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let bearer = format!("Bearer {KEY_OF_42}");
    let response = app
        .oneshot(request(&[
            ("authorization", &bearer),
            ("x-tenant-id", "2"),
        ])?)
        .await?;
    let (status, _, body) = read(response).await?;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "42"));
    Ok(())
}

#[tokio::test]
async fn a_failing_lookup_is_a_500_that_keeps_its_cause_to_itself() -> TestResult {
    let broken = ApiKeys::new(|_hash: ApiKeyHash| async {
        Err::<Option<i64>, _>("connection to 10.0.0.5 refused")
    });
    let bearer = format!("Bearer {KEY_OF_42}");
    let response = router(broken)
        .oneshot(request(&[("authorization", &bearer)])?)
        .await?;
    let (status, challenge, body) = read(response).await?;
    assert_eq!(
        (status, challenge),
        (StatusCode::INTERNAL_SERVER_ERROR, None)
    );
    assert_eq!(
        error_message(&body)?,
        "the credential could not be verified; try again later"
    );
    Ok(())
}

mod tables {
    use tenancy_sqlx::global_table;

    /// Issued API keys, by hash.
    #[global_table]
    pub struct ApiKey {
        #[tenancy(primary_key)]
        pub key_hash: String,
        pub tenant_id: i64,
    }
}
use tables::ApiKey;

/// The row that issues `KEY_OF_7` to tenant 7.
fn key_of_7() -> tenancy_sqlx::Insert<ApiKey> {
    ApiKey::insert()
        .set(ApiKey::KEY_HASH, ApiKeyHash::of(KEY_OF_7).to_string())
        .set(ApiKey::TENANT_ID, 7)
}

#[tokio::test]
async fn keys_can_live_in_a_global_table() -> TestResult {
    let tables = TableSet::new().with::<ApiKey>();
    let pool =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&tables)).await?;
    let owner =
        pool.owner_pool(CrossTenant::with_reason("test: issue keys").expect("a stated reason"));
    owner.apply_schema(&tables).await?;
    owner.execute(key_of_7()).await?;
    let app = router(ApiKeys::in_table(
        &pool,
        ApiKey::KEY_HASH,
        ApiKey::TENANT_ID,
    ));

    let bearer = format!("Bearer {KEY_OF_7}");
    let (status, _, body) = read(
        app.clone()
            .oneshot(request(&[("authorization", &bearer)])?)
            .await?,
    )
    .await?;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "7"));
    // The stored value is the hash: the hash itself is not a key.
    let bearer = format!("Bearer {}", ApiKeyHash::of(KEY_OF_7));
    let response = app.oneshot(request(&[("authorization", &bearer)])?).await?;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
async fn over_real_http() -> TestResult {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/whoami", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, router(issued_keys()))
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .into_future(),
    );

    let client = reqwest::Client::new();
    let valid = client
        .get(&url)
        .bearer_auth(KEY_OF_42)
        .header("x-tenant-id", "7")
        .send()
        .await?;
    assert_eq!(valid.status(), reqwest::StatusCode::OK);
    assert_eq!(valid.text().await?, "42");

    let unknown = client.get(&url).bearer_auth("tk_guess").send().await?;
    assert_eq!(unknown.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown
            .headers()
            .get("www-authenticate")
            .map(|v| v.as_bytes()),
        Some(&br#"Bearer error="invalid_token""#[..])
    );
    let body: Value = unknown.json().await?;
    assert_eq!(body, serde_json::json!({ "error": "unknown API key" }));

    let forged = client.get(&url).header("x-tenant-id", "42").send().await?;
    assert_eq!(forged.status(), reqwest::StatusCode::UNAUTHORIZED);

    let malformed = client
        .get(&url)
        .header("authorization", "Bearer a b")
        .send()
        .await?;
    assert_eq!(malformed.status(), reqwest::StatusCode::BAD_REQUEST);
    let body: Value = malformed.json().await?;
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|m| m.contains("characters other than")),
        "{body}"
    );

    stop.send(()).ok();
    server.await??;
    Ok(())
}

#[tokio::test]
async fn the_tenant_is_recorded_on_the_request_span() -> TestResult {
    let (captured, _guard) = Capture::install();

    let bearer = format!("Bearer {KEY_OF_42}");
    let request = request(&[("authorization", &bearer)])?;
    let span = request_span(&request);
    let response = router(issued_keys())
        .oneshot(request)
        .instrument(span)
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        captured.recorded(),
        [("tenant".to_owned(), "42".to_owned())]
    );
    Ok(())
}

/// A middleware that verifies the request with its own state and says
/// whom it found in a response header, before the handler runs.
async fn verify_in_middleware(
    VerifiedTenant(tenant): VerifiedTenant,
    request: Request<Body>,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if let Ok(value) = tenant.key().to_string().parse() {
        response.headers_mut().insert("x-middleware-tenant", value);
    }
    response
}

/// The handler's verdict (status and body) and the middleware's, for a
/// request with `key`, through a router whose handler verifies with
/// `handler` and whose middleware verifies with `middleware`.
async fn verdicts<H, M>(
    handler: H,
    middleware: M,
    key: &str,
) -> TestResult<(StatusCode, String, Option<String>)>
where
    H: VerifyTenant + Clone + Send + Sync + 'static,
    H::Rejection: Send,
    M: VerifyTenant + Clone + Send + Sync + 'static,
    M::Rejection: Send,
{
    let app = router(handler).layer(from_fn_with_state(middleware, verify_in_middleware));
    let bearer = format!("Bearer {key}");
    let response = app.oneshot(request(&[("authorization", &bearer)])?).await?;
    let seen_by_middleware = response
        .headers()
        .get("x-middleware-tenant")
        .map(|value| value.to_str().map(str::to_owned))
        .transpose()?;
    let (status, _, body) = read(response).await?;
    Ok((status, body, seen_by_middleware))
}

/// Two verifiers in one request — a middleware's and the handler's — each
/// see their own verdict, never the other's, in either order and whether or
/// not they are of one type: a permissive verifier's tenant must not
/// satisfy a stricter one, nor a stricter one's stand in for another.
#[tokio::test]
async fn a_verifier_never_sees_another_verifiers_verdict() -> TestResult {
    const GUESS: &str = "tk_guess";
    // Accepts any well-formed key, as tenant 1.
    let permissive = ApiKeys::new(|_hash: ApiKeyHash| async { Ok::<_, Infallible>(Some(1_i64)) });
    // The same type as the strict verifier, with a key of its own.
    let permissive_same_type = keys(&[(GUESS, 1), (KEY_OF_42, 1)]);

    // Permissive first: the strict handler still refuses the guess.
    let (status, _, middleware) = verdicts(issued_keys(), permissive.clone(), GUESS).await?;
    assert_eq!(
        (status, middleware.as_deref()),
        (StatusCode::UNAUTHORIZED, Some("1"))
    );
    let (status, _, _) = verdicts(issued_keys(), permissive_same_type.clone(), GUESS).await?;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "same type, permissive first"
    );

    // Strict first: the handler's own verifier decides its tenant.
    let (status, body, middleware) = verdicts(permissive, issued_keys(), KEY_OF_42).await?;
    assert_eq!(
        (status, body.as_str(), middleware.as_deref()),
        (StatusCode::OK, "1", Some("42"))
    );
    let (status, body, middleware) =
        verdicts(permissive_same_type, issued_keys(), KEY_OF_42).await?;
    assert_eq!(
        (status, body.as_str(), middleware.as_deref()),
        (StatusCode::OK, "1", Some("42")),
        "same type, strict first"
    );
    Ok(())
}

/// A PostgreSQL database with the key table applied by the owner (its
/// policies for the application role) and `KEY_OF_7` issued.
async fn keys_in_postgres() -> TestResult<(tenancy_sqlx::testing::TestDatabase, TableSet)> {
    use tenancy_sqlx::OwnerPool;
    use tenancy_sqlx::rls::RlsPolicy;
    use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};

    let db = TestDatabase::create().await?;
    let tables = TableSet::new().with::<ApiKey>();
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("test: issue keys")?,
    )
    .with_tables(&tables);
    owner
        .apply_schema(&tables, &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    owner.execute(key_of_7()).await?;
    Ok((db, tables))
}

/// Lookups in a key table use the tenant pool's own connections, so they
/// stop with the pool once a new connection fails its role check.
#[tokio::test]
async fn key_lookups_stop_once_the_pool_refuses_its_role() -> TestResult {
    use tenancy_sqlx::testing::APP_ROLE;
    use tenancy_sqlx::{Postgres, TenantId};

    let (db, tables) = keys_in_postgres().await?;
    let late = db.create_role("late", &[]).await?;
    let admin = db.admin_pool().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "GRANT {APP_ROLE} TO \"{}\"",
        late.name()
    )))
    .execute(&admin)
    .await?;
    let pool = TenantPool::<Postgres>::connect_with(
        sqlx::postgres::PgPoolOptions::new().max_connections(2),
        late.url().parse()?,
        TenantPoolOptions::new(&tables),
    )
    .await?;
    let app = router(ApiKeys::in_table(
        &pool,
        ApiKey::KEY_HASH,
        ApiKey::TENANT_ID,
    ));
    let bearer = format!("Bearer {KEY_OF_7}");
    let response = app
        .clone()
        .oneshot(request(&[("authorization", &bearer)])?)
        .await?;
    assert_eq!(response.status(), StatusCode::OK);

    // Hold the pool's one connection (once the lookup has given it back),
    // so that the next lookup opens another.
    for _ in 0..10_000 {
        if pool.num_idle() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    assert_eq!((pool.size(), pool.num_idle()), (1, 1));
    let held = pool.begin(&TenantId::from_verified(7)).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER ROLE \"{}\" BYPASSRLS",
        late.name()
    )))
    .execute(&admin)
    .await?;
    let response = app.oneshot(request(&[("authorization", &bearer)])?).await?;
    let (status, _, body) = read(response).await?;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    held.rollback().await?;
    Ok(())
}

/// The pool hands out connections without sqlx's ping: a key lookup on a
/// connection the server closed while it sat idle is sent again on a live
/// one, and the request is answered as if nothing had happened.
#[tokio::test]
async fn a_lookup_on_a_connection_the_server_closed_is_sent_again() -> TestResult {
    use tenancy_sqlx::Postgres;
    use tenancy_sqlx::testing::APP_ROLE;

    let (db, tables) = keys_in_postgres().await?;
    let pool =
        TenantPool::<Postgres>::connect(&db.app_url(), TenantPoolOptions::new(&tables)).await?;
    let app = router(ApiKeys::in_table(
        &pool,
        ApiKey::KEY_HASH,
        ApiKey::TENANT_ID,
    ));
    let bearer = format!("Bearer {KEY_OF_7}");
    for round in 0..3 {
        let (status, _, body) = read(
            app.clone()
                .oneshot(request(&[("authorization", &bearer)])?)
                .await?,
        )
        .await?;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "7"),
            "round {round}"
        );
        // Every idle connection of the pool dies on the server.
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE usename = $1 AND datname = current_database()",
        )
        .bind(APP_ROLE)
        .fetch_all(&db.admin_pool().await?)
        .await?;
        assert!(!killed.is_empty(), "round {round}: no connection to kill");
        // Until the server has ended them, a lookup could still find one alive.
        for _ in 0..1_000 {
            let left: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND datname = current_database()",
            )
            .bind(APP_ROLE)
            .fetch_one(&db.admin_pool().await?)
            .await?;
            if left == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }
    Ok(())
}
