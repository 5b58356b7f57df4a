//! Which connections the accept loop lets in (threat R-08). A general pool (all
//! `HTTP_MAX_CONNECTIONS` but `HTTP_RESERVED_CONNECTIONS`) is for anyone; the
//! reserve only for Atlassian's egress ranges and networks that recently
//! proved a signature (`proven_networks`), so a flood from any number of
//! other networks cannot turn Atlassian away. One client network (an IPv4
//! address, an IPv6 /64) holds at most `HTTP_MAX_CONNECTIONS_PER_NETWORK` of
//! both together. A trusted proxy carries everyone's connections: it is not
//! capped per network, and it never uses the reserve, since at accept time
//! the clients behind it cannot be told apart.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Instant,
};

use crate::{
    client_address::{TrustedProxies, client_network},
    ip_networks::IpNetworks,
    proven_networks::ProvenNetworks,
};

/// The numbers, as `HttpLimits` holds them (`reserved` below `total`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub total: usize,
    pub reserved: usize,
    pub per_network: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pool {
    General,
    Reserve,
}

#[derive(Debug, Default)]
struct Open {
    general: usize,
    reserve: usize,
    per_network: HashMap<IpAddr, usize>,
}

/// Where a new connection goes, or None: refused. `network_open` is what
/// its network holds already (None for a trusted proxy); `vouched`, whether
/// it may use the reserve. The reserve is the last resort, so it stays free
/// for Atlassian until the general pool is full.
fn admit(limits: Limits, open: &Open, network_open: Option<usize>, vouched: bool) -> Option<Pool> {
    if network_open.is_some_and(|count| count >= limits.per_network) {
        return None;
    }
    if open.general < limits.total.saturating_sub(limits.reserved) {
        return Some(Pool::General);
    }
    (vouched && network_open.is_some() && open.reserve < limits.reserved).then_some(Pool::Reserve)
}

pub(crate) struct ConnectionCaps {
    limits: Limits,
    trusted: TrustedProxies,
    egress: IpNetworks,
    proven: Arc<ProvenNetworks>,
    open: Mutex<Open>,
}

/// One open connection; dropped when the connection ends.
pub(crate) struct Slot {
    caps: Arc<ConnectionCaps>,
    network: Option<IpAddr>,
    pool: Pool,
}

impl ConnectionCaps {
    pub(crate) fn new(
        limits: Limits,
        egress: IpNetworks,
        trusted: TrustedProxies,
        proven: Arc<ProvenNetworks>,
    ) -> Arc<Self> {
        Arc::new(Self { limits, trusted, egress, proven, open: Mutex::new(Open::default()) })
    }

    /// A slot for a connection from `peer`, or None when it must be refused.
    pub(crate) fn take(self: &Arc<Self>, peer: IpAddr) -> Option<Slot> {
        let network = (!self.trusted.contains(peer)).then(|| client_network(peer));
        let vouched =
            network.is_some_and(|net| self.egress.contains(peer) || self.proven.is_proven(net, Instant::now()));
        let mut open = self.open.lock().ok()?;
        let network_open = network.map(|net| open.per_network.get(&net).copied().unwrap_or(0));
        let pool = admit(self.limits, &open, network_open, vouched)?;
        match pool {
            Pool::General => open.general += 1,
            Pool::Reserve => open.reserve += 1,
        }
        if let Some(net) = network {
            *open.per_network.entry(net).or_insert(0) += 1;
        }
        Some(Slot { caps: self.clone(), network, pool })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Ok(mut open) = self.caps.open.lock() else { return };
        match self.pool {
            Pool::General => open.general = open.general.saturating_sub(1),
            Pool::Reserve => open.reserve = open.reserve.saturating_sub(1),
        }
        let Some(network) = self.network else { return };
        if let Some(count) = open.per_network.get_mut(&network) {
            *count -= 1;
            if *count == 0 {
                open.per_network.remove(&network);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn caps(limits: Limits, egress: &str, trusted: &str) -> Arc<ConnectionCaps> {
        let egress = IpNetworks::parse("ATLASSIAN_EGRESS_RANGES", egress).unwrap();
        let trusted = TrustedProxies::parse(trusted).unwrap();
        ConnectionCaps::new(limits, egress, trusted, Arc::default())
    }

    #[test]
    fn the_reserve_is_only_for_the_vouched_and_only_once_the_general_pool_is_full() {
        let limits = Limits { total: 4, reserved: 1, per_network: 2 };
        let open = |general, reserve| Open { general, reserve, per_network: HashMap::new() };
        assert_eq!(admit(limits, &open(2, 0), Some(0), true), Some(Pool::General), "general first");
        assert_eq!(admit(limits, &open(3, 0), Some(0), false), None, "the general pool is full");
        assert_eq!(admit(limits, &open(3, 0), Some(0), true), Some(Pool::Reserve));
        assert_eq!(admit(limits, &open(3, 1), Some(0), true), None, "the reserve is full too");
        assert_eq!(admit(limits, &open(0, 0), Some(2), true), None, "a vouched network keeps its share");
        assert_eq!(admit(limits, &open(2, 0), None, false), Some(Pool::General), "a proxy is not capped");
        assert_eq!(admit(limits, &open(3, 0), None, true), None, "nor does it use the reserve");
        let none_reserved = Limits { reserved: 0, ..limits };
        assert_eq!(admit(none_reserved, &open(4, 0), Some(0), true), None);
    }

    #[test]
    fn a_network_holds_its_share_and_gets_it_back_as_connections_close() {
        let caps = caps(Limits { total: 100, reserved: 0, per_network: 2 }, "", "10.0.0.1");
        let (a, b) = (caps.take(ip("203.0.113.7")), caps.take(ip("203.0.113.7")));
        assert!(a.is_some() && b.is_some());
        assert!(caps.take(ip("203.0.113.7")).is_none(), "its share is taken");
        let v6 = [caps.take(ip("2001:db8::1")), caps.take(ip("2001:db8::2"))];
        assert!(v6.iter().all(Option::is_some));
        let same_64 = [caps.take(ip("2001:db8::3")), caps.take(ip("2001:db8::ffff"))];
        assert!(same_64.iter().all(Option::is_none), "one IPv6 /64 is one network");
        assert!(caps.take(ip("198.51.100.2")).is_some(), "another network is not affected");
        let proxied: Vec<_> = (0..10).map(|_| caps.take(ip("10.0.0.1"))).collect();
        assert!(proxied.iter().all(Option::is_some), "a trusted proxy is not capped");
        drop(a);
        let c = caps.take(ip("203.0.113.7"));
        assert!(c.is_some(), "a closed connection gives its slot back");
        drop((b, c));
        let open = caps.open.lock().unwrap();
        assert!(!open.per_network.contains_key(&ip("203.0.113.7")), "a network with none open is forgotten");
    }

    #[test]
    fn a_flood_from_other_networks_leaves_the_reserve_to_atlassian_and_the_proven() {
        let caps = caps(Limits { total: 6, reserved: 2, per_network: 2 }, "192.0.2.0/24", "");
        let flooders = ["198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.2"];
        let flood: Vec<_> = flooders.into_iter().map(|n| caps.take(ip(n))).collect();
        assert!(flood.iter().all(Option::is_some), "four fill the general pool");
        assert!(caps.take(ip("198.51.100.3")).is_none(), "a new network finds it full");
        let proven = ip("203.0.113.9");
        assert!(caps.take(proven).is_none(), "not yet proven");
        caps.proven.proved(proven, Instant::now());
        let from_proven = caps.take(proven);
        let from_atlassian = caps.take(ip("192.0.2.44"));
        assert!(from_proven.is_some() && from_atlassian.is_some(), "both get the reserve");
        assert!(caps.take(ip("192.0.2.45")).is_none(), "which is bounded too");
        drop(from_proven);
        assert!(caps.take(ip("192.0.2.45")).is_some(), "a reserved slot comes back");
        drop(flood);
        assert_eq!(caps.open.lock().unwrap().general, 0, "general slots come back to the general pool");
    }
}
