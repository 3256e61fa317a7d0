//! axum's `Json`, `Path` and `Query` extractors, with their rejections
//! turned into the service's JSON errors: a client that sends a malformed id,
//! body or query string gets `400 {"error": "..."}` saying what was wrong,
//! like every other error of the service.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};

use crate::error::AppError;

/// A JSON request body.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

/// Path parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// The query string.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(error) => {
                AppError::BadRequest(format!("invalid JSON body: {}", cause(&error)))
            }
            JsonRejection::JsonSyntaxError(error) => {
                AppError::BadRequest(format!("malformed JSON body: {}", cause(&error)))
            }
            other => AppError::Rejected {
                status: other.status(),
                message: other.body_text(),
            },
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        let PathRejection::FailedToDeserializePathParams(error) = rejection else {
            return AppError::Rejected {
                status: rejection.status(),
                message: rejection.body_text(),
            };
        };
        let message = match error.kind() {
            ErrorKind::ParseError { value, .. } => {
                format!("the id in the path must be a 64-bit integer, got {value:?}")
            }
            ErrorKind::ParseErrorAtKey { key, value, .. } => {
                format!("`{key}` in the path must be a 64-bit integer, got {value:?}")
            }
            _ => error.body_text(),
        };
        AppError::BadRequest(message)
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::BadRequest(format!("invalid query string: {}", cause(&rejection)))
    }
}

/// What serde said, without axum's preamble ("Failed to deserialize ..."),
/// which the service's own prefix replaces.
fn cause(rejection: &dyn std::error::Error) -> String {
    rejection
        .source()
        .map_or_else(|| rejection.to_string(), ToString::to_string)
}
