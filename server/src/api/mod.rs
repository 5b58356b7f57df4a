//! The server side of the app's server functions: each file implements its
//! resource's backend trait from `app::api` (`MeBackend`, `AdminBackend`, …)
//! for `AppBackend`, on the database and the host client. Every method starts
//! from the verified `Caller` and the installation its proof verified
//! ([`VerifiedTenant`]); the tenant is never taken from arguments.

mod activity; // demo
mod admin;
mod identity;
mod notes; // demo
mod services;
mod session;
mod verified_tenant;

use app::api::error::ApiError;
pub(crate) use verified_tenant::VerifiedTenant;
use verified_tenant::verified_installation;

use crate::{error::Error, state::AppState};

pub(crate) struct AppBackend {
    pub(super) state: AppState,
}

impl AppBackend {
    pub(crate) fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// What a server function hears of a rate limit the site kept to after
/// the client's own waits: 429 and the seconds to wait (at least one).
fn rate_limited(limit: &crate::outbound::answer::RateLimit) -> ApiError {
    ApiError::RateLimited(limit.retry_after.map_or(1, |wait| wait.as_secs().max(1)))
}

/// Logs the detail; the browser only learns to retry.
fn unavailable(error: Error) -> ApiError {
    tracing::error!(error = %error, "server function failed");
    ApiError::Unavailable
}
