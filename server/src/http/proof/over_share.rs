//! A request from a client network that is over its refusal share is
//! verified only from what the app already holds: a token whose issuer is
//! not in the installation cache, or whose Forge key is not cached, is
//! refused with 429 before it costs a database read or a key wait. Callers
//! whose tenant or key is cached still pass, and installs are never held to
//! it (their key fetches wait in a fair line instead, `outbound::fetch_queue`).

use std::time::Duration;

use crate::error::{Error, Result};

tokio::task_local! {
    /// How long the caller's network is still over its share, while its proof is verified.
    static OVER_SHARE: Option<Duration>;
}

/// Runs `verify` knowing whether the caller's network is over its share.
pub(super) async fn scope<F: Future>(over: Option<Duration>, verify: F) -> F::Output {
    OVER_SHARE.scope(over, verify).await
}

/// Refuses the work a cache miss would cost, when the caller is over its share.
pub(super) fn before_costly_work() -> Result<()> {
    match OVER_SHARE.try_with(|over| *over).ok().flatten() {
        Some(wait) => Err(Error::TooManyRefusals(wait)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_caller_over_its_share_is_held_to_the_cache() {
        assert!(before_costly_work().is_ok(), "outside a proof nothing is refused");
        assert!(scope(None, async { before_costly_work() }).await.is_ok());
        let over = scope(Some(Duration::from_secs(3)), async { before_costly_work() }).await;
        assert!(matches!(over, Err(Error::TooManyRefusals(wait)) if wait == Duration::from_secs(3)));
    }
}
