//! How many connections one client network (an IPv4 address, an IPv6 /64)
//! may hold open at once, so that one client cannot take every slot under
//! `HTTP_MAX_CONNECTIONS`. A trusted proxy carries everyone's connections
//! and is not capped (its clients are told apart per request instead).

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
};

use crate::client_address::{TrustedProxies, client_network};

pub(crate) struct ConnectionCaps {
    per_network: usize,
    trusted: TrustedProxies,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open connection of a network; dropped when the connection ends.
pub(crate) struct Slot {
    caps: Arc<ConnectionCaps>,
    network: Option<IpAddr>,
}

impl ConnectionCaps {
    pub(crate) fn new(per_network: usize, trusted: TrustedProxies) -> Arc<Self> {
        Arc::new(Self { per_network, trusted, open: Mutex::new(HashMap::new()) })
    }

    /// A slot for a connection from `peer`, or None when its network holds its share.
    pub(crate) fn take(self: &Arc<Self>, peer: IpAddr) -> Option<Slot> {
        if self.trusted.contains(peer) {
            return Some(Slot { caps: self.clone(), network: None });
        }
        let network = client_network(peer);
        let mut open = self.open.lock().ok()?;
        let count = open.entry(network).or_insert(0);
        if *count >= self.per_network {
            return None;
        }
        *count += 1;
        Some(Slot { caps: self.clone(), network: Some(network) })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(network) = self.network else { return };
        let Ok(mut open) = self.caps.open.lock() else { return };
        if let Some(count) = open.get_mut(&network) {
            *count -= 1;
            if *count == 0 {
                open.remove(&network);
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

    #[test]
    fn a_network_holds_its_share_and_gets_it_back_as_connections_close() {
        let caps = ConnectionCaps::new(2, TrustedProxies::parse("10.0.0.1").unwrap());
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
        assert!(caps.open.lock().unwrap().get(&ip("203.0.113.7")).is_none(), "a network with none open is forgotten");
    }
}
