//! Hostile `Authorization` headers against the axum extractor: whatever
//! their form, a request either carries exactly one issued key, as the only
//! credential, or its handler never runs.

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::routing::get;
use tenancy_sqlx::axum::{ApiKeyHash, ApiKeys, VerifiedTenant};
use tower::ServiceExt;

use tenancy_test::TestResult;

const KEY: &str = "tk_live_42_c0ffee";

/// A router whose one handler answers with the tenant it was given, and
/// whose verifier knows `KEY`, of tenant 42.
fn app() -> Router {
    let keys = ApiKeys::new(async |hash: ApiKeyHash| {
        Ok::<_, Infallible>((hash == ApiKeyHash::of(KEY)).then_some(42_i64))
    });
    Router::new()
        .route(
            "/whoami",
            get(async |VerifiedTenant(tenant): VerifiedTenant| tenant.key().to_string()),
        )
        .with_state(keys)
}

/// The status of a request with these `Authorization` header values.
async fn status_with(values: &[HeaderValue]) -> TestResult<StatusCode> {
    let mut request = Request::get("/whoami").body(Body::empty())?;
    for value in values {
        request
            .headers_mut()
            .append(header::AUTHORIZATION, value.clone());
    }
    Ok(app().oneshot(request).await?.status())
}

#[tokio::test]
async fn the_issued_key_is_accepted_in_every_spelling_of_the_scheme() -> TestResult {
    for value in [
        format!("Bearer {KEY}"),
        format!("bearer {KEY}"),
        format!("BEARER   {KEY}"),
    ] {
        let status = status_with(&[HeaderValue::from_str(&value)?]).await?;
        assert_eq!(status, StatusCode::OK, "{value}");
    }
    Ok(())
}

#[tokio::test]
async fn no_other_form_of_the_header_reaches_the_handler() -> TestResult {
    let long = format!("Bearer {}", "a".repeat(1_000_000));
    let cases: Vec<Vec<HeaderValue>> = vec![
        // The key, but not as the only credential.
        vec![HeaderValue::from_str(&format!(
            "Bearer {KEY}, Bearer other"
        ))?],
        vec![HeaderValue::from_str(&format!("Bearer {KEY} trailing"))?],
        vec![HeaderValue::from_str(&format!("Bearer {KEY}\t"))?],
        vec![HeaderValue::from_str(&format!("Bearer\t{KEY}"))?],
        vec![HeaderValue::from_str(&format!("Bearer{KEY}"))?],
        vec![HeaderValue::from_str(&format!("Token {KEY}"))?],
        vec![
            HeaderValue::from_str(&format!("Bearer {KEY}"))?,
            HeaderValue::from_str("Bearer someone-else")?,
        ],
        vec![
            HeaderValue::from_str("Bearer someone-else")?,
            HeaderValue::from_str(&format!("Bearer {KEY}"))?,
        ],
        // Bytes that are not visible ASCII.
        vec![HeaderValue::from_bytes(b"Bearer tk_live_\xff\xfe")?],
        vec![HeaderValue::from_bytes("Bearer tk_live_ключ".as_bytes())?],
        // A key far longer than any issued one, and nothing at all.
        vec![HeaderValue::from_str(&long)?],
        vec![HeaderValue::from_static("")],
        vec![],
    ];
    for values in cases {
        let status = status_with(&values).await?;
        assert!(
            matches!(status, StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST),
            "{status} for {:?}",
            values
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes())
                    .chars()
                    .take(60)
                    .collect::<String>())
                .collect::<Vec<_>>()
        );
    }
    Ok(())
}
