//! HTTP: the declared routes, their proofs, the hardening layers and the
//! accept loop. Handlers here are thin; they parse, call into `connect` and
//! `store`, and map errors once (`error`).

mod callbacks;
mod connection_caps;
mod cors;
mod declared;
mod descriptor;
mod drain;
pub(crate) mod error;
mod forge_events;
mod forge_product_events;
mod health;
mod not_found;
mod page_render;
pub mod proof;
mod render_tasks;
mod routes;
pub(crate) mod security_headers;
pub(crate) mod serve;
mod webhook_receiver;

use std::sync::Arc;

use axum::{
    Router,
    http::StatusCode,
    middleware,
    response::{IntoResponse, Response},
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    limit::RequestBodyLimitLayer,
    timeout::{RequestBodyTimeoutLayer, TimeoutLayer},
};

pub use declared::DeclaredRoute;
pub use routes::check_coverage;

use crate::{config::HttpLimits, error::Error, error::Result, state::AppState};
use security_headers::HeaderPolicy;

/// Every declared route, wrapped in the hardening layers, and the list of
/// what was declared. Anything else is answered 404.
pub(crate) fn router(state: AppState) -> Result<(Router, Vec<DeclaredRoute>)> {
    let policy = HeaderPolicy {
        iframe_paths: state.descriptor.module_paths(),
        frame_ancestors: state.config.connect.frame_ancestors.clone(),
        script_origin: state.config.connect.all_js_url.origin().ascii_serialization(),
    };
    let limits = state.config.http.clone();
    let (routes, declared) = routes::declare(&state)?;
    let routes = routes.fallback(not_found::not_found).with_state(state);
    Ok((harden(routes, policy, &limits), declared))
}

/// The layers every response passes through, outermost last: body size and
/// time limits, a handler deadline, panic recovery, then security headers,
/// so even a panic's 500 carries them; outermost, a body refused unread is
/// drained so its sender reads the answer.
fn harden(routes: Router, policy: HeaderPolicy, limits: &HttpLimits) -> Router {
    routes
        .layer(RequestBodyLimitLayer::new(limits.body_limit_bytes))
        .layer(RequestBodyTimeoutLayer::new(limits.request_timeout))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, limits.request_timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(Arc::new(policy), security_headers::apply))
        .layer(middleware::from_fn(drain::drain_unread_bodies))
        .layer(middleware::from_fn(crate::metrics::track_request))
}

/// A handler panic becomes a plain 500; the server keeps serving (threat H-08).
fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    Error::Internal("handler panicked".into()).into_response()
}
#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, routing::get};
    use tower::ServiceExt;

    fn limits() -> HttpLimits {
        HttpLimits {
            body_limit_bytes: 1024,
            request_timeout: std::time::Duration::from_secs(5),
            header_read_timeout: std::time::Duration::from_secs(5),
            write_timeout: std::time::Duration::from_secs(5),
            max_connections: 10,
            max_connections_per_network: 10,
            reserved_connections: 2,
            atlassian_egress: Default::default(),
        }
    }

    fn policy() -> HeaderPolicy {
        HeaderPolicy {
            iframe_paths: vec![],
            frame_ancestors: "'none'".into(),
            script_origin: "https://connect-cdn.atl-paas.net".into(),
        }
    }

    async fn boom() -> &'static str {
        panic!("secret detail")
    }

    #[tokio::test]
    async fn a_panicking_handler_yields_a_generic_500_with_security_headers() {
        let routes = Router::new().route("/boom", get(boom));
        let app = harden(routes, policy(), &limits());
        let response =
            app.clone().oneshot(axum::http::Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().contains_key("strict-transport-security"));
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("secret detail"));
        // The same router keeps serving afterwards.
        let again = app.oneshot(axum::http::Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(again.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[tokio::test]
    async fn a_slow_handler_is_cut_off_with_503() {
        let routes = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                "late"
            }),
        );
        let mut limits = limits();
        limits.request_timeout = std::time::Duration::from_millis(200);
        let app = harden(routes, policy(), &limits);
        let response = app.oneshot(axum::http::Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
