//! Where the browser keeps the app's session token: in memory only (never a
//! cookie, never localStorage: third-party cookies are blocked in the
//! iframe, and a header token leaves no CSRF surface). Knows nothing of how
//! tokens are renewed or sent.

use std::sync::RwLock;

#[derive(Clone, Debug, Default)]
struct Tokens {
    session: Option<String>,
    /// Bumped with every new session token, so a 401 can tell whether the
    /// request went out with a token that has since been replaced.
    version: u64,
    /// A context JWT, set only while it is being exchanged.
    exchanging: Option<String>,
}

static TOKENS: RwLock<Tokens> = RwLock::new(Tokens { session: None, version: 0, exchanging: None });

#[cfg(feature = "hydrate")]
pub(crate) fn set_session(token: String) {
    if let Ok(mut t) = TOKENS.write() {
        t.session = Some(token);
        t.version += 1;
    }
}

pub(crate) fn session() -> Option<String> {
    TOKENS.read().ok()?.session.clone()
}

pub(crate) fn session_version() -> u64 {
    TOKENS.read().map(|t| t.version).unwrap_or_default()
}

/// The context JWT being exchanged for a session, if any.
pub(crate) fn exchanging_token() -> Option<String> {
    TOKENS.read().ok()?.exchanging.clone()
}

#[cfg(feature = "hydrate")]
/// Runs `exchange` with `context_token` as the token being exchanged; it is
/// cleared afterwards even if the exchange is abandoned.
pub(crate) async fn exchanging<T>(context_token: String, exchange: impl Future<Output = T>) -> T {
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            if let Ok(mut t) = TOKENS.write() {
                t.exchanging = None;
            }
        }
    }
    if let Ok(mut t) = TOKENS.write() {
        t.exchanging = Some(context_token);
    }
    let _clear = Clear;
    exchange.await
}
