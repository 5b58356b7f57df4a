//! The one place where an [`Error`] becomes an HTTP response. The status is
//! decided once, by the error alone; the body by the surface it is shown on:
//! JSON for callbacks and plain endpoints, the server functions' `ApiError`
//! (the browser tells "renew your session" from "not allowed" by it), a short
//! HTML page inside the host's iframe, or the operator console's page.
//! Clients get a fixed reason; the detail goes to the log only.

use app::api::error::ApiError;
use axum::{
    Json,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde_json::json;

use crate::{
    console::html,
    error::{ConsoleError, Error},
};

/// When a delivery refused for a full backlog is worth sending again: the
/// workers have had a minute to work it down.
const BACKLOG_RETRY_AFTER_SECS: u64 = 60;

/// Where an error is shown; it picks the body, never the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Surface {
    /// `{"error": reason}`: lifecycle callbacks, the descriptor, 404s.
    Json,
    /// A server function: the JSON of [`ApiError`].
    Api,
    /// An iframe page: a short HTML page that says what to do.
    Page,
    /// The operator console: its HTML layout, or the way to its login.
    Console,
}

impl Error {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden | Error::AppDisabled | Error::NotAdmin => StatusCode::FORBIDDEN,
            Error::LoginRequired => StatusCode::SEE_OTHER,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TooManyRefusals(_) | Error::BacklogFull => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::SiteRefused(_) => StatusCode::BAD_GATEWAY,
            Error::Database(e) if is_transient(e) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Config(_) | Error::Database(_) | Error::Migration(_) | Error::Io(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// Logs the error and renders it for `surface`.
    pub(crate) fn respond(self, surface: Surface) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, status = status.as_u16(), "request failed");
        } else {
            tracing::info!(error = %self, status = status.as_u16(), "request refused");
        }
        let retry_after = match &self {
            // Whole seconds, rounded up: a client that waits that long is counted afresh.
            Error::TooManyRefusals(wait) => Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)),
            Error::BacklogFull => Some(BACKLOG_RETRY_AFTER_SECS),
            _ => None,
        };
        let mut response = self.body(status, surface);
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, secs.max(1).into());
        }
        response
    }

    fn body(self, status: StatusCode, surface: Surface) -> Response {
        match surface {
            Surface::Json => (status, Json(json!({ "error": self.public_reason() }))).into_response(),
            Surface::Api => (status, Json(self.api_error())).into_response(),
            Surface::Page => {
                (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page_html(&self)).into_response()
            }
            Surface::Console => console_response(&self, status),
        }
    }

    /// What a client may learn: fixed words, or the reason a refusal gave.
    fn public_reason(&self) -> String {
        match self {
            Error::BadRequest(reason) | Error::SiteRefused(reason) => reason.clone(),
            Error::Unauthorized(reason) => (*reason).to_string(),
            Error::Forbidden | Error::AppDisabled | Error::NotAdmin => "forbidden".into(),
            Error::LoginRequired => "login required".into(),
            Error::NotFound => "not found".into(),
            Error::PayloadTooLarge => "payload too large".into(),
            Error::TooManyRefusals(_) => "too many refused requests, retry later".into(),
            Error::BacklogFull => "this site's webhook backlog is full, retry later".into(),
            _ if self.status() == StatusCode::SERVICE_UNAVAILABLE => "temporarily unavailable, retry".into(),
            _ => "internal error".into(),
        }
    }

    fn api_error(&self) -> ApiError {
        match self.status() {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized,
            StatusCode::FORBIDDEN => ApiError::Forbidden,
            StatusCode::NOT_FOUND => ApiError::NotFound,
            StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE => ApiError::Invalid(self.public_reason()),
            StatusCode::BAD_GATEWAY => ApiError::SiteRefused(self.public_reason()),
            _ => ApiError::Unavailable,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.respond(Surface::Json)
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        self.0.respond(Surface::Console)
    }
}

/// The page an iframe shows when it may not open: what to do, nothing an
/// attacker could use (no token, no reason).
fn page_html(error: &Error) -> String {
    let (title, text) = match error {
        Error::Unauthorized(_) => (
            "This page could not be opened",
            "Reload the page in Jira or Confluence. If it keeps happening, ask your site administrator to check \
             the app.",
        ),
        Error::AppDisabled => (
            "This app is disabled",
            "A site administrator has disabled this app. Ask them to enable it under Manage apps.",
        ),
        Error::NotAdmin => ("For site administrators only", "Only site administrators can see this page."),
        _ if error.status() == StatusCode::SERVICE_UNAVAILABLE => (
            "Try again in a moment",
            "The app could not check your permissions just now. Reload the page to try again.",
        ),
        _ => ("Something went wrong", "Reload the page to try again."),
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/pkg/frontend.css\"></head>\
         <body><main class=\"page denied\" id=\"denied\"><h1>{title}</h1><p>{text}</p></main></body></html>"
    )
}

/// The console's own page for an error: a database outage says so instead
/// of showing an empty table.
fn console_response(error: &Error, status: StatusCode) -> Response {
    if matches!(error, Error::LoginRequired) {
        return Redirect::to("/console/login").into_response();
    }
    let (title, text) = match status {
        StatusCode::NOT_FOUND => ("Not found", "There is nothing at this address.".to_string()),
        StatusCode::FORBIDDEN => {
            ("Refused", "The form was stale or forged. Reload the page and try again.".to_string())
        }
        StatusCode::BAD_REQUEST => ("Refused", error.public_reason()),
        StatusCode::SERVICE_UNAVAILABLE => (
            "Database unavailable",
            "The database could not be reached, so nothing is shown. Try again in a moment.".to_string(),
        ),
        _ => ("Internal error", "The page could not be built. The server log has the detail.".to_string()),
    };
    let body = format!(r#"<p class="error" id="console-error">{}</p>"#, html::escape(&text));
    (status, Html(html::page(title, None, &body))).into_response()
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
