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

use crate::{error::Result, ip_networks::IpNetworks};

/// The proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(IpNetworks);

impl TrustedProxies {
    /// A comma-separated list, as `TRUSTED_PROXIES` holds it.
    pub fn parse(list: &str) -> Result<Self> {
        IpNetworks::parse("TRUSTED_PROXIES", list).map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(ip)
    }

    pub fn networks(&self) -> &IpNetworks {
        &self.0
    }
}

/// The client: the peer, unless it is a trusted proxy; then the nearest hop
/// in `X-Forwarded-For` (read from the right) that is not one. A hop that
/// does not parse (`unknown`, a name) ends the walk at the proxies seen so
/// far. IPv4 addresses seen through an IPv6 socket (`::ffff:a.b.c.d`) count
/// as IPv4.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.iter().rev().flat_map(|value| value.rsplit(',')).map(str::trim) {
        match hop_address(hop).map(|ip| ip.to_canonical()) {
            Some(ip) if trusted.contains(ip) => client = ip,
            Some(ip) => return ip,
            None => break,
        }
    }
    client
}

/// The address of one hop, as proxies write it: bare (`203.0.113.7`,
/// `2001:db8::1`), with the port they saw (`203.0.113.7:4711`,
/// `[2001:db8::1]:443`), bracketed, or quoted as RFC 7239's node
/// (`"[2001:db8::1]:443"`). Without this, a proxy that appends ports would
/// make every client count as the proxy and share one budget.
fn hop_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.strip_prefix('"').and_then(|h| h.strip_suffix('"')).unwrap_or(hop);
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = hop.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    hop.strip_prefix('[')?.strip_suffix(']')?.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
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
    fn hops_with_ports_brackets_or_quotes_name_their_client() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        for (hop, client) in [
            ("203.0.113.7:4711", "203.0.113.7"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("\"[2001:db8::1]:443\"", "2001:db8::1"),
            ("\"203.0.113.7\"", "203.0.113.7"),
            ("[::ffff:203.0.113.7]:80", "203.0.113.7"),
        ] {
            assert_eq!(client_address(ip("10.1.2.3"), &[hop], &trusted), ip(client), "{hop}");
        }
        // A proxy hop with a port is still a proxy: the walk goes on past it.
        assert_eq!(client_address(ip("10.1.2.3"), &["203.0.113.7:1, 10.0.0.5:80"], &trusted), ip("203.0.113.7"));
        for unparsed in ["unknown", "_hidden", "[2001:db8::1", "203.0.113.7:port", "[203.0.113.7]", "\"203.0.113.7"] {
            assert_eq!(client_address(ip("10.1.2.3"), &[unparsed], &trusted), ip("10.1.2.3"), "{unparsed}");
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
