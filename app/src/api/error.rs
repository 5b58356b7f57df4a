//! The one error type of the app's server functions. It crosses the wire as
//! JSON, so the browser can tell "renew your session" from "not allowed".

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiError {
    /// No valid token: renew the session and retry.
    Unauthorized,
    /// Valid caller, but not allowed (not an admin, not the note's author).
    Forbidden,
    NotFound,
    /// The input was refused; the text says why.
    Invalid(String),
    /// The database or the host is unreachable; retry later.
    Unavailable,
    /// The request did not reach the server or its answer was unreadable.
    Transport(String),
    /// The site refused what the app asked on the user's behalf; the text says what to do.
    SiteRefused(String),
    /// The site has no active licence for the app (`APP_LICENSING`).
    Unlicensed,
    /// The site limited the app's calls (Atlassian's rate limit): retry after these seconds.
    RateLimited(u64),
}

impl ApiError {
    /// The HTTP status a server function answers this error with.
    #[cfg(feature = "ssr")]
    pub(crate) fn status(&self) -> u16 {
        match self {
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Invalid(_) => 400,
            Self::Unavailable => 503,
            Self::Transport(_) => 500,
            Self::SiteRefused(_) => 502,
            Self::Unlicensed => 403,
            Self::RateLimited(_) => 429,
        }
    }

    /// Words for the person using the page.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Unauthorized => "Your session ended. Reload the page to continue.".into(),
            Self::Forbidden => "You are not allowed to do that.".into(),
            Self::NotFound => "It is not there any more.".into(),
            Self::Invalid(why) => why.clone(),
            Self::Unavailable => "The service is busy. Try again in a moment.".into(),
            Self::Transport(_) => "Could not reach the app. Check your connection and try again.".into(),
            Self::SiteRefused(why) => why.clone(),
            Self::Unlicensed => "This site has no active licence for the app.".into(),
            Self::RateLimited(secs) => format!("The site is busy. Try again in {secs} s."),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ApiError {}

impl FromServerFnError for ApiError {
    // Read from text like the answers, so JSON has one reader in the bundle.
    type Encoder = super::codec::JsonText;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}
