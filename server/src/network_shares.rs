//! A share of something per client network, with `governor`'s keyed limiter:
//! refused requests (a bad token, a forged callback, a proof missing; past
//! the share they are answered 429 with `Retry-After`, and only refusals
//! count, so verified traffic is never throttled) and install-key fetches.
//! Per instance: with several instances a client's share is per instance too.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    state::keyed::DefaultKeyedStateStore,
};

/// Networks tracked before the ones with a full share again are forgotten.
const MAX_TRACKED: usize = 100_000;

pub struct NetworkShares {
    limiter: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>,
    clock: DefaultClock,
}

impl NetworkShares {
    /// `per_minute` a minute per network, up to that many at once.
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self { limiter: RateLimiter::keyed(Quota::per_minute(per_minute)), clock: DefaultClock::default() }
    }

    /// Spends one of `network`'s share, or says how long it must wait.
    pub fn spend(&self, network: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() > MAX_TRACKED {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&network).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

impl std::fmt::Debug for NetworkShares {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkShares").field("tracked", &self.limiter.len()).finish()
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
    }
}
