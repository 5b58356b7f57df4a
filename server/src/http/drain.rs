//! Every client reads its answer, even to a body too large to accept. A
//! handler (or a body limit) that refuses a request without reading its body
//! drops it; hyper would then close the connection while the client is still
//! sending, and a client that writes the whole body before it reads (Node's
//! `fetch`, Java's HTTP client) gets a reset instead of the 413. So the rest
//! of an unread body is read and thrown away in the background, within
//! bounds, while the answer goes out.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::Request,
    middleware::Next,
    response::Response,
};
use http_body_util::BodyExt;

/// At most this much of a refused body is read before the connection closes.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;
/// And for at most this long.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// The outermost layer: the request's body, drained if it is dropped unread.
pub(crate) async fn drain_unread_bodies(request: Request, next: Next) -> Response {
    next.run(request.map(|body| Body::new(DrainOnDrop(Some(body))))).await
}

struct DrainOnDrop(Option<Body>);

impl http_body::Body for DrainOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let Some(body) = self.0.as_mut() else { return Poll::Ready(None) };
        let polled = Pin::new(body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            // Read to its end: nothing is left to drain.
            self.0 = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.as_ref().map(http_body::Body::size_hint).unwrap_or_default()
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let Some(body) = self.0.take().filter(|body| !http_body::Body::is_end_stream(body)) else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(async move {
            let _ = tokio::time::timeout(DRAIN_TIME, discard(body)).await;
        });
    }
}

async fn discard(mut body: Body) {
    let mut read = 0;
    while read < DRAIN_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
            _ => return,
        }
    }
}
