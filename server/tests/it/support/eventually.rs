//! Waiting for something the server does in the background: the one poll
//! loop of the tests, every 50 ms, bounded in time.

use std::time::Duration;

/// Polls until `done` holds; fails the test naming `what` after 20 s.
pub async fn eventually<F: Future<Output = bool>>(what: &str, done: impl FnMut() -> F) {
    within(what, Duration::from_secs(20), done).await
}

/// [`eventually`] with its own bound, for a test whose point is how soon.
pub async fn within<F: Future<Output = bool>>(what: &str, bound: Duration, mut done: impl FnMut() -> F) {
    until_some(what, bound, || {
        let done = done();
        async move { done.await.then_some(()) }
    })
    .await
}

/// Polls `probe` until it gives a value; fails the test naming `what` after `bound`.
pub async fn until_some<T, F: Future<Output = Option<T>>>(
    what: &str,
    bound: Duration,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {bound:?} waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
