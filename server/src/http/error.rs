//! The one place where [`Error`] becomes an HTTP response. Clients get a
//! status and a short, fixed reason; the detail goes to the log only.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::error::Error;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, reason) = match &self {
            Error::BadRequest(reason) => (StatusCode::BAD_REQUEST, reason.clone()),
            Error::Unauthorized(reason) => (StatusCode::UNAUTHORIZED, (*reason).to_string()),
            Error::Forbidden => (StatusCode::FORBIDDEN, "forbidden".into()),
            Error::NotFound => (StatusCode::NOT_FOUND, "not found".into()),
            Error::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload too large".into()),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable, retry".into()),
            Error::Database(e) if is_transient(e) => {
                (StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable, retry".into())
            }
            Error::Config(_) | Error::Database(_) | Error::Migration(_) | Error::Io(_) | Error::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
            }
        };
        if status.is_server_error() {
            tracing::error!(error = %self, status = status.as_u16(), "request failed");
        } else {
            tracing::info!(error = %self, status = status.as_u16(), "request refused");
        }
        (status, Json(json!({ "error": reason }))).into_response()
    }
}

/// Errors a retry can cure: the pool is exhausted, the database is busy or
/// restarting. They become 503 so Atlassian's host retries the delivery.
fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite: 5 busy, 6 locked (and their extended codes). PostgreSQL:
            // 57P01 admin shutdown, 40001 serialization failure, 40P01 deadlock, 25006 read-only.
            matches!(code.as_ref(), "5" | "6" | "261" | "517" | "262" | "57P01" | "40001" | "40P01" | "25006")
        }
        _ => false,
    }
}
