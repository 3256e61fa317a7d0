//! The service's errors and the JSON they become: `{"error": "..."}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tenancy_sqlx::directory::TenantStatus;

/// Why a request failed. Every variant but [`AppError::Internal`] says what
/// the client did wrong; internal errors are logged and answered with a
/// message that reveals nothing.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No credential, or one that is not known: 401.
    #[error("{0}")]
    Unauthorized(String),
    /// A credential that is not allowed here (a tenant's key on an admin
    /// endpoint): 403.
    #[error("{0}")]
    Forbidden(String),
    /// A malformed id, body or query string: 400.
    #[error("{0}")]
    BadRequest(String),
    /// The row does not exist *for this tenant*: 404. Another tenant's row
    /// gives exactly the same answer as a row that was never there.
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked for: `order`, `customer`.
        what: &'static str,
        /// The id asked for.
        id: i64,
    },
    /// The request is well-formed but refers to something that does not
    /// exist for this tenant: 422.
    #[error("{0}")]
    Unprocessable(String),
    /// The request conflicts with a row that exists for this tenant: 409.
    #[error("{0}")]
    Conflict(String),
    /// A request axum's extractors refused for another reason than its
    /// content (a missing `Content-Type`, a body too large): their status.
    #[error("{message}")]
    Rejected {
        /// The status axum chose.
        status: StatusCode,
        /// axum's explanation.
        message: String,
    },
    /// The database or the library failed: 500; or the tenant's directory
    /// entry refused it: 503 while its data is moved between places, 403
    /// when it is suspended or deleted.
    #[error(transparent)]
    Internal(#[from] tenancy_sqlx::Error),
}

impl AppError {
    /// The HTTP status this error is answered with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Rejected { status, .. } => *status,
            AppError::Internal(tenancy_sqlx::Error::TenantUnavailable { status, .. }) => {
                match status {
                    TenantStatus::Moving => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::FORBIDDEN,
                }
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            // The caller's own tenant, so its status is the caller's to know.
            AppError::Internal(tenancy_sqlx::Error::TenantUnavailable { status, .. }) => {
                match status {
                    TenantStatus::Moving => {
                        "this tenant's data is being moved; try again in a few seconds".to_owned()
                    }
                    other => format!("this tenant is {other}: requests are refused"),
                }
            }
            AppError::Internal(error) => {
                tracing::error!(%error, "request failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::Internal(error.into())
    }
}
