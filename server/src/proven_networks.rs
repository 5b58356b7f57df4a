//! Client networks that recently delivered a request Atlassian signed (a
//! signed install, a webhook, a Forge event): for a while they may use the
//! connections held back for Atlassian (`http::connection_caps`), so a flood
//! from networks that never proved anything cannot take those. A browser's
//! page token does not count: any user of any site can bring one. Per
//! instance, bounded and expiring; only a signature adds a network, so a
//! flooder cannot fill the table.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long one signed request vouches for its network. Atlassian's
/// deliveries are frequent while a site uses the app; an hour outlasts the
/// gaps between them without vouching for an address Atlassian has left.
const PROVEN_FOR: Duration = Duration::from_secs(3600);
/// Networks remembered at most (Atlassian's egress is a few hundred addresses).
const MAX_NETWORKS: usize = 4096;

#[derive(Debug, Default)]
pub(crate) struct ProvenNetworks {
    /// When each network last proved a signature.
    proved: Mutex<HashMap<IpAddr, Instant>>,
}

impl ProvenNetworks {
    /// `network` (as `client_address::client_network` counts it) proved a signature at `now`.
    pub(crate) fn proved(&self, network: IpAddr, now: Instant) {
        let Ok(mut proved) = self.proved.lock() else { return };
        if proved.len() >= MAX_NETWORKS && !proved.contains_key(&network) {
            proved.retain(|_, at| now.saturating_duration_since(*at) < PROVEN_FOR);
            if proved.len() >= MAX_NETWORKS {
                // The one whose proof is oldest is the first to run out anyway.
                let oldest = proved.iter().min_by_key(|(_, at)| **at).map(|(net, _)| *net);
                oldest.map(|net| proved.remove(&net));
            }
        }
        proved.insert(network, now);
    }

    /// Has `network` proved a signature within [`PROVEN_FOR`] of `now`?
    pub(crate) fn is_proven(&self, network: IpAddr, now: Instant) -> bool {
        let Ok(proved) = self.proved.lock() else { return false };
        proved.get(&network).is_some_and(|at| now.saturating_duration_since(*at) < PROVEN_FOR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(n.into())
    }

    #[test]
    fn a_proof_vouches_for_its_network_for_an_hour() {
        let (proven, now) = (ProvenNetworks::default(), Instant::now());
        assert!(!proven.is_proven(ip(1), now));
        proven.proved(ip(1), now);
        assert!(proven.is_proven(ip(1), now + PROVEN_FOR - Duration::from_secs(1)));
        assert!(!proven.is_proven(ip(1), now + PROVEN_FOR), "it expires");
        assert!(!proven.is_proven(ip(2), now), "only the network that proved");
        proven.proved(ip(1), now + PROVEN_FOR);
        assert!(proven.is_proven(ip(1), now + PROVEN_FOR), "a new proof renews it");
    }

    #[test]
    fn a_full_table_forgets_the_expired_then_the_oldest() {
        let (proven, start) = (ProvenNetworks::default(), Instant::now());
        for n in 0..MAX_NETWORKS as u32 {
            proven.proved(ip(n), start + Duration::from_millis(u64::from(n)));
        }
        let later = start + Duration::from_secs(60);
        proven.proved(ip(u32::MAX), later);
        assert!(proven.is_proven(ip(u32::MAX), later), "a new proof always finds room");
        assert!(!proven.is_proven(ip(0), later), "the oldest made room");
        assert!(proven.is_proven(ip(1), later));
        let expired = start + PROVEN_FOR + Duration::from_secs(3600);
        proven.proved(ip(u32::MAX - 1), expired);
        assert_eq!(proven.proved.lock().unwrap().len(), 1, "the expired are all forgotten at once");
    }
}
