//! Tokens that let the app act as a user (Connect's act-as-user grant,
//! Forge's offline impersonation), kept in memory until a minute before
//! they expire. Never stored, never logged, zeroed on drop.

use std::{hash::Hash, sync::Arc, time::Duration};

use ids::UnixTime;
use moka::sync::Cache;

use crate::secrets::SharedSecret;

/// A cached token is renewed this long before it expires.
const RENEW_BEFORE_SECS: i64 = 60;
const MAX_CACHED: u64 = 10_000;
/// No token outlives this in the cache, whatever its own expiry says: a
/// longer-lived one is simply asked for again.
const LONGEST_KEPT: Duration = Duration::from_secs(3600);

pub(crate) struct UserTokens<K> {
    cache: Cache<K, (Arc<SharedSecret>, UnixTime)>,
}

impl<K: Hash + Eq + Send + Sync + 'static> Default for UserTokens<K> {
    fn default() -> Self {
        Self { cache: Cache::builder().max_capacity(MAX_CACHED).time_to_live(LONGEST_KEPT).build() }
    }
}

impl<K: Hash + Eq + Send + Sync + 'static> UserTokens<K> {
    /// The token kept for `key`, unless it is about to expire at `now` (the
    /// app's clock: the token's own expiry decides, the cache's only bounds).
    pub(crate) fn cached(&self, key: &K, now: UnixTime) -> Option<Arc<SharedSecret>> {
        let (token, expires_at) = self.cache.get(key)?;
        (now < expires_at - RENEW_BEFORE_SECS).then_some(token)
    }

    pub(crate) fn keep(&self, key: K, token: Arc<SharedSecret>, expires_at: UnixTime) {
        self.cache.insert(key, (token, expires_at));
    }

    /// Forgets the tokens whose key `forgotten` names (the site refused one: it may be revoked).
    pub(crate) fn forget(&self, forgotten: impl Fn(&K) -> bool) {
        for (key, _) in &self.cache {
            if forgotten(&key) {
                self.cache.invalidate(&*key);
            }
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
