//! A share of refused requests per client network (and, for a FIT that
//! verified but was sent where its module is not accepted, per installation
//! and user: `http::proof::forge`), with `governor`'s keyed
//! limiter (a bad token, a forged callback, a proof missing; past the share
//! they are answered 429 with `Retry-After`). Only refusals count. Verified
//! traffic is never throttled while its network is within its share; past
//! it, a verified caller passes only if its tenant or key is already cached
//! (`http::proof::over_share`), and a webhook of an uncached tenant gets a
//! 429 that Jira retries.
//! Per instance: with several instances a client's share is per instance too.
//! A network found over its share is remembered until its share refills, so
//! its next requests can be refused before they cost a database read or a
//! key wait (`over`).

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    state::keyed::DefaultKeyedStateStore,
};

/// Keys tracked before the ones with a full share again are forgotten.
const MAX_TRACKED: usize = 100_000;

/// Refusals per client network.
pub type NetworkShares = Shares<IpAddr>;

/// Refusals of genuine FITs sent to the wrong route, per installation and user.
pub type SignerShares = Shares<(String, String)>;

pub struct Shares<K: Hash + Eq + Clone> {
    limiter: RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>,
    clock: DefaultClock,
    /// Keys found over their share, until when.
    over: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> Shares<K> {
    /// `per_minute` a minute per key, up to that many at once.
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
            over: Mutex::new(HashMap::new()),
        }
    }

    /// How long `key` is still over its share (None: it is not), without spending any.
    pub fn over(&self, key: K) -> Option<Duration> {
        let until = *self.over.lock().ok()?.get(&key)?;
        until.checked_duration_since(Instant::now()).filter(|wait| !wait.is_zero())
    }

    fn remember_over(&self, key: K, wait: Duration) {
        let Ok(mut over) = self.over.lock() else { return };
        if over.len() >= MAX_TRACKED {
            let now = Instant::now();
            over.retain(|_, until| *until > now);
        }
        if over.len() < MAX_TRACKED {
            over.insert(key, Instant::now() + wait);
        }
    }

    /// Spends one of `key`'s share, or says how long it must wait.
    pub fn spend(&self, key: K) -> Result<(), Duration> {
        if self.limiter.len() > MAX_TRACKED {
            self.limiter.retain_recent();
        }
        let spent = self.limiter.check_key(&key).map_err(|not_until| not_until.wait_time_from(self.clock.now()));
        if let Err(wait) = spent {
            self.remember_over(key, wait);
        }
        spent
    }
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for Shares<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shares").field("tracked", &self.limiter.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_over_its_share_waits_and_others_do_not() {
        let limiter = NetworkShares::new(NonZeroU32::new(3).unwrap());
        let (flooder, other): (IpAddr, IpAddr) = ("203.0.113.7".parse().unwrap(), "198.51.100.2".parse().unwrap());
        for _ in 0..3 {
            assert!(limiter.spend(flooder).is_ok());
        }
        let wait = limiter.spend(flooder).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limiter.spend(other).is_ok(), "another network keeps its share");
        assert!(limiter.over(flooder).is_some_and(|w| w <= wait), "known to be over, until its share refills");
        assert_eq!(limiter.over(other), None);
    }
}
