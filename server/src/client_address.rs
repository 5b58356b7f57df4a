//! Who a request came from, for counting refusals and login attempts: the
//! peer's address, or, when the peer is one of the operator's trusted proxies
//! (`TRUSTED_PROXIES`), the address its `X-Forwarded-For` names. A header
//! from anyone else is ignored: a client cannot choose the address it is
//! counted under.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::ConnectInfo,
    http::{Extensions, HeaderMap},
};

use crate::error::{Error, Result};

/// Addresses and networks (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// A comma-separated list, as `TRUSTED_PROXIES` holds it.
    pub fn parse(list: &str) -> Result<Self> {
        let entries = list.split(',').map(str::trim).filter(|e| !e.is_empty());
        entries.map(network).collect::<Result<Vec<_>>>().map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|(net, bits)| same_prefix(*net, ip, *bits))
    }
}

fn network(entry: &str) -> Result<(IpAddr, u8)> {
    let bad = || Error::Config(format!("TRUSTED_PROXIES: {entry:?} is not an address or a network"));
    let (addr, bits) = entry.split_once('/').map_or((entry, None), |(a, b)| (a, Some(b)));
    let addr = addr.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => max,
        Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(bad)?,
    };
    Ok((addr, bits))
}

fn same_prefix(net: IpAddr, ip: IpAddr, bits: u8) -> bool {
    let mask = |width: u32| if bits == 0 { 0 } else { u128::MAX << (width - u32::from(bits)) };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(u32::from(n)) ^ u128::from(u32::from(i))) & mask(32) == 0,
        (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n) ^ u128::from(i)) & mask(128) == 0,
        _ => false,
    }
}

/// The client: the peer, unless it is a trusted proxy; then the nearest hop
/// in `X-Forwarded-For` (read from the right) that is not one. A hop that
/// does not parse ends the walk at the proxies seen so far. IPv4 addresses
/// seen through an IPv6 socket (`::ffff:a.b.c.d`) count as IPv4.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.iter().rev().flat_map(|value| value.rsplit(',')).map(str::trim) {
        match hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) if trusted.contains(ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => break,
        }
    }
    client
}

/// The network a client is counted under: IPv4 as is, IPv6 by its /64 (one
/// host usually holds a whole /64).
pub fn client_network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    }
}

/// The counted network of a request (None without a peer address, as in
/// requests made in-process).
pub(crate) fn of_request(extensions: &Extensions, headers: &HeaderMap, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    Some(counted(peer, headers, trusted))
}

/// The counted network of a client whose peer address is known. Headers are
/// decoded leniently (bytes that are not UTF-8 become U+FFFD, the commas
/// between hops stay): a client's bytes that are not text must not hide the
/// hops the proxies appended after them, or the client would be counted as
/// the proxy and spend the share of everyone behind it.
pub(crate) fn counted(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let values: Vec<_> =
        headers.get_all("x-forwarded-for").iter().map(|v| String::from_utf8_lossy(v.as_bytes())).collect();
    let forwarded: Vec<&str> = values.iter().map(|v| v.as_ref()).collect();
    client_network(client_address(peer, &forwarded, trusted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_header_from_an_untrusted_peer_is_ignored() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(client_address(ip("198.51.100.9"), &["203.0.113.7"], &trusted), ip("198.51.100.9"));
        assert_eq!(client_address(ip("198.51.100.9"), &[], &TrustedProxies::default()), ip("198.51.100.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").unwrap();
        // The client wrote a made-up first hop; the proxies appended what they saw.
        let chain = ["6.6.6.6, 203.0.113.7", "192.0.2.1"];
        assert_eq!(client_address(ip("10.1.2.3"), &chain, &trusted), ip("203.0.113.7"));
        assert_eq!(client_address(ip("10.1.2.3"), &["garbage, 10.0.0.5"], &trusted), ip("10.0.0.5"));
        assert_eq!(client_address(ip("10.1.2.3"), &[], &trusted), ip("10.1.2.3"));
    }

    #[test]
    fn bytes_that_are_not_text_do_not_hide_the_hops_after_them() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let mut headers = HeaderMap::new();
        let value = axum::http::HeaderValue::from_bytes(b"\xff\xfe caf\xc3, 203.0.113.7").unwrap();
        headers.insert("x-forwarded-for", value);
        assert_eq!(counted(ip("10.1.2.3"), &headers, &trusted), ip("203.0.113.7"));
    }

    #[test]
    fn networks_match_by_prefix_and_bad_entries_are_refused() {
        let trusted = TrustedProxies::parse("2001:db8::/32,192.0.2.0/24").unwrap();
        assert!(trusted.contains(ip("2001:db8:ffff::1")) && !trusted.contains(ip("2001:db9::1")));
        assert!(trusted.contains(ip("192.0.2.200")) && !trusted.contains(ip("192.0.3.1")));
        assert!(!trusted.contains(ip("2001:db9::c000:201")), "families never mix");
        assert!(trusted.contains(ip("::ffff:192.0.2.1")), "an IPv4 peer on an IPv6 socket is IPv4");
        assert!(TrustedProxies::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "proxy.internal", "10.0.0.0/x", "::1/129"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_ipv6_client_counts_as_its_slash_64() {
        assert_eq!(client_network(ip("2001:db8:1:2:aaaa::1")), client_network(ip("2001:db8:1:2:bbbb::9")));
        assert_ne!(client_network(ip("2001:db8:1:2::1")), client_network(ip("2001:db8:1:3::1")));
        assert_eq!(client_network(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_network(ip("::ffff:192.0.2.7")), ip("192.0.2.7"), "not everyone's ::/64");
    }
}
