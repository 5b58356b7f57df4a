//! CORS for the app's API, and nowhere else. A Forge page's `requestRemote`
//! is not proxied by Forge: the product page makes it from the browser,
//! straight to the remote, with the page's FIT in `Authorization`, so the
//! browser asks first (a preflight) and reads the answer only when it names
//! the page's origin. Only the origins of `FORGE_PAGE_ORIGINS` are named;
//! no credentials (the FIT is the proof; cookies never are). A Connect page
//! calls the API from the app's own origin and needs none of this.

use axum::http::{HeaderName, HeaderValue, Method, header, request::Parts};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::connect::host_allowlist::HostAllowlist;

/// How long a browser may reuse a preflight's answer.
const PREFLIGHT_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// The CORS answer for the routes that accept a UI module's FIT.
pub(crate) fn for_page_calls(origins: HostAllowlist) -> CorsLayer {
    let allowed = move |origin: &HeaderValue, _: &Parts| origin.to_str().is_ok_and(|o| origins.allows(o));
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(allowed))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([HeaderName::from_static("retry-after")])
        .allow_credentials(false)
        .max_age(PREFLIGHT_MAX_AGE)
}
