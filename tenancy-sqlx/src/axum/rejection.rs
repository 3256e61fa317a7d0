//! Why a request gets no tenant, as an HTTP response.

use ::axum::http::{HeaderValue, StatusCode, header};
use ::axum::response::{IntoResponse, Response};

use super::BoxError;

/// Why [`ApiKeys`](super::ApiKeys) refused a request. As a response it is a
/// JSON body `{"error": "<message>"}` with the status below and, for 400
/// and 401, a `WWW-Authenticate: Bearer` challenge (RFC 6750).
///
/// | variant | status | `WWW-Authenticate` |
/// |---|---|---|
/// | `MissingCredential` | 401 | `Bearer` |
/// | `WrongScheme` | 401 | `Bearer` |
/// | `MalformedCredential` | 400 | `Bearer error="invalid_request"` |
/// | `UnknownCredential` | 401 | `Bearer error="invalid_token"` |
/// | `LookupFailed` | 500 | — (the cause is logged, not sent) |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenantRejection {
    /// No `Authorization` header.
    #[error("missing credential: send the header `Authorization: Bearer <api key>`")]
    MissingCredential,

    /// An `Authorization` header of another scheme (`Basic ..`).
    #[error(
        "the Authorization header uses the scheme `{scheme}`; send `Authorization: Bearer <api key>`"
    )]
    WrongScheme {
        /// The scheme the client sent, truncated.
        scheme: String,
    },

    /// A `Bearer` header that is not well formed.
    #[error("malformed Authorization header: {reason}; send `Authorization: Bearer <api key>`")]
    MalformedCredential {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A well-formed key that belongs to no tenant.
    #[error("unknown API key")]
    UnknownCredential,

    /// The key could not be looked up (the database is down, say).
    #[error("the credential could not be verified; try again later")]
    LookupFailed {
        /// What the lookup returned; logged, never sent to the client.
        #[source]
        source: BoxError,
    },
}

impl TenantRejection {
    /// The response status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            TenantRejection::MalformedCredential { .. } => StatusCode::BAD_REQUEST,
            TenantRejection::LookupFailed { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The `WWW-Authenticate` challenge, if the status calls for one.
    fn challenge(&self) -> Option<&'static str> {
        match self {
            TenantRejection::MissingCredential | TenantRejection::WrongScheme { .. } => {
                Some("Bearer")
            }
            TenantRejection::MalformedCredential { .. } => {
                Some(r#"Bearer error="invalid_request""#)
            }
            TenantRejection::UnknownCredential => Some(r#"Bearer error="invalid_token""#),
            TenantRejection::LookupFailed { .. } => None,
        }
    }
}

impl IntoResponse for TenantRejection {
    fn into_response(self) -> Response {
        if let TenantRejection::LookupFailed { source } = &self {
            tracing::error!(target: "tenancy::axum", error = %source, "API key lookup failed");
        }
        let body = ::axum::Json(serde_json::json!({ "error": self.to_string() }));
        let mut response = (self.status(), body).into_response();
        if let Some(challenge) = self.challenge() {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}
