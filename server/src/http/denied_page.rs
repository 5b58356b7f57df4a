//! The short pages an iframe shows when it may not open: plain HTML that
//! says what to do and leaks nothing (no token, no reason an attacker could
//! use).

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// The page JWT did not verify, or the installation is not active.
    NotAuthenticated,
    /// The installation is disabled on the site.
    AppDisabled,
    /// An admin page, and the user is not a site administrator.
    NotAdmin,
    /// The host could not be asked (admin check); try again.
    Unavailable,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        let (status, title, text) = match self {
            Self::NotAuthenticated => (
                StatusCode::UNAUTHORIZED,
                "This page could not be opened",
                "Reload the page in Jira or Confluence. If it keeps happening, ask your site administrator to check the app.",
            ),
            Self::AppDisabled => (
                StatusCode::FORBIDDEN,
                "This app is disabled",
                "A site administrator has disabled this app. Ask them to enable it under Manage apps.",
            ),
            Self::NotAdmin => (StatusCode::FORBIDDEN, "For site administrators only", "Only site administrators can see this page."),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again in a moment",
                "The app could not check your permissions just now. Reload the page to try again.",
            ),
        };
        let html = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
             <link rel=\"stylesheet\" href=\"/pkg/frontend.css\"></head>\
             <body><main class=\"page denied\" id=\"denied\"><h1>{title}</h1><p>{text}</p></main></body></html>"
        );
        (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
    }
}
