//! Tokens that let the app act as a user (Connect's act-as-user grant,
//! Forge's offline impersonation), kept in memory until a minute before
//! they expire. Never stored, never logged, zeroed on drop.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
};

use ids::UnixTime;

use crate::secrets::SharedSecret;

/// A cached token is renewed this long before it expires.
const RENEW_BEFORE_SECS: i64 = 60;
const MAX_CACHED: usize = 10_000;

pub(crate) struct UserTokens<K> {
    cache: Mutex<HashMap<K, (Arc<SharedSecret>, UnixTime)>>,
}

impl<K> Default for UserTokens<K> {
    fn default() -> Self {
        Self { cache: Mutex::new(HashMap::new()) }
    }
}

impl<K: Hash + Eq> UserTokens<K> {
    /// The token kept for `key`, unless it is about to expire at `now`.
    pub(crate) fn cached(&self, key: &K, now: UnixTime) -> Option<Arc<SharedSecret>> {
        let cache = self.cache.lock().ok()?;
        cache.get(key).filter(|(_, expires_at)| now < *expires_at - RENEW_BEFORE_SECS).map(|(t, _)| t.clone())
    }

    pub(crate) fn keep(&self, key: K, token: Arc<SharedSecret>, expires_at: UnixTime) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED {
                cache.retain(|_, (_, at)| *at > expires_at - 3600);
            }
            cache.insert(key, (token, expires_at));
        }
    }

    /// Forgets the tokens whose key `forgotten` names (the site refused one: it may be revoked).
    pub(crate) fn forget(&self, forgotten: impl Fn(&K) -> bool) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|key, _| !forgotten(key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_kept_until_a_minute_before_it_expires_and_can_be_forgotten() {
        let tokens = UserTokens::default();
        let now = UnixTime::from_secs(1_000);
        tokens.keep("a", Arc::new(SharedSecret::new(b"t".to_vec())), now + 3600);
        assert!(tokens.cached(&"a", now).is_some());
        assert!(tokens.cached(&"a", now + 3600 - RENEW_BEFORE_SECS).is_none(), "renewed before it expires");
        assert!(tokens.cached(&"b", now).is_none());
        tokens.forget(|k| *k == "a");
        assert!(tokens.cached(&"a", now).is_none());
    }
}
