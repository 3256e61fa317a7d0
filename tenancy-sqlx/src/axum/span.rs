//! A request span with the field the extractor fills in.

use ::axum::http::Request;

/// A span for one request, `request{method path tenant}`, whose `tenant`
/// field [`VerifiedTenant`](super::VerifiedTenant) records once the tenant
/// is verified. Only the path is recorded: query strings can carry secrets.
///
/// With `tower-http`, pass it to `TraceLayer::new_for_http().make_span_with(request_span)`;
/// or enter it in your own middleware.
///
/// ```
/// use axum::http::Request;
/// use tenancy_sqlx::axum::request_span;
///
/// let request = Request::get("/orders?page=2").body(())?;
/// let span = request_span(&request);
/// # let _ = span;
/// # Ok::<(), axum::http::Error>(())
/// ```
pub fn request_span<B>(request: &Request<B>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        tenant = tracing::field::Empty,
    )
}
