//! Server-side rendering of a Leptos page in one piece, on the task that
//! serves the request: the document, then the data its resources resolved
//! to (for hydration), in one buffer sent with a `Content-Length`.
//!
//! It writes the bytes leptos_axum's `render_app_async` writes, without what
//! the app does not use: leptos_meta's head injection, wasm-split prefetches,
//! a second nonce, and a body streamed as chunks of chunks.

use std::{fmt::Write, sync::Arc};

use axum::{
    body::Body,
    http::{HeaderValue, header, request::Parts},
    response::Response,
};
use futures::StreamExt;
use hydration_context::{SharedContext, SsrSharedContext};
use leptos::{IntoView, nonce::use_nonce, prelude::provide_context, reactive::owner::Owner};
use leptos_axum::ResponseOptions;

/// Renders `app` with the request's `parts` and what `context` provides.
pub(crate) async fn render<IV: IntoView + 'static>(
    parts: Parts,
    context: impl FnOnce(),
    app: impl FnOnce() -> IV,
) -> Response {
    let shared = Arc::new(SsrSharedContext::new());
    let owner = Owner::new_root(Some(shared.clone() as Arc<dyn SharedContext + Send + Sync>));
    let options = ResponseOptions::default();
    let (view, nonce) = owner.with(|| {
        provide_context(parts);
        provide_context(options.clone());
        context();
        let nonce = use_nonce().map(|n| format!(" nonce=\"{}\"", &*n)).unwrap_or_default();
        (app(), nonce)
    });
    let mut page = view.to_html_stream_in_order().collect::<String>().await;
    while let Some(pending) = shared.await_deferred() {
        pending.await;
    }
    if let Some(mut data) = shared.pending_data() {
        while let Some(chunk) = data.next().await {
            let _ = write!(page, "<script{nonce}>{chunk}</script>");
        }
    }
    owner.unset_with_forced_cleanup();
    response(page, &options)
}

/// The page with the status and headers the render set.
fn response(page: String, options: &ResponseOptions) -> Response {
    let mut response = Response::new(Body::from(page));
    // A render that panicked holding the lock left nothing half-written worth refusing.
    let mut set = options.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(status) = set.status {
        *response.status_mut() = status;
    }
    response.headers_mut().extend(std::mem::take(&mut set.headers));
    response.headers_mut().entry(header::CONTENT_TYPE).or_insert(HeaderValue::from_static("text/html; charset=utf-8"));
    response
}
