//! Lists of addresses and networks an operator names in a variable
//! (`10.0.0.0/8, 2001:db8::/32, 192.0.2.7`): the proxies trusted to name the
//! client, Atlassian's egress ranges. Parsed once at start, with errors that
//! name the variable; IPv4 seen through an IPv6 socket matches as IPv4.

use std::net::IpAddr;

use crate::error::{Error, Result};

/// The narrowest prefixes production accepts: anything wider names a good
/// part of the internet (`0.0.0.0/0`, `::/1`), which for a trusted proxy
/// means anyone may choose the address they are counted under. IPv6's
/// widest private block, `fc00::/7`, still fits.
const WIDEST_V4: u8 = 8;
const WIDEST_V6: u8 = 7;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpNetworks(Vec<(IpAddr, u8)>);

impl IpNetworks {
    /// A comma-separated list, as the variable `name` holds it.
    pub fn parse(name: &str, list: &str) -> Result<Self> {
        let entries = list.split(',').map(str::trim).filter(|e| !e.is_empty());
        entries.map(|entry| network(name, entry)).collect::<Result<Vec<_>>>().map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|(net, bits)| same_prefix(*net, ip, *bits))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first entry wider than production accepts (`0.0.0.0/0`), as written.
    pub fn too_wide(&self) -> Option<String> {
        let wide = |(net, bits): &&(IpAddr, u8)| *bits < if net.is_ipv4() { WIDEST_V4 } else { WIDEST_V6 };
        self.0.iter().find(wide).map(|(net, bits)| format!("{net}/{bits}"))
    }
}

fn network(name: &str, entry: &str) -> Result<(IpAddr, u8)> {
    let bad = || Error::Config(format!("{name}: {entry:?} is not an address or a network"));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_match_by_prefix_and_bad_entries_name_their_variable() {
        let list = IpNetworks::parse("X", "2001:db8::/32,192.0.2.0/24").unwrap();
        assert!(list.contains(ip("2001:db8:ffff::1")) && !list.contains(ip("2001:db9::1")));
        assert!(list.contains(ip("192.0.2.200")) && !list.contains(ip("192.0.3.1")));
        assert!(!list.contains(ip("2001:db9::c000:201")), "families never mix");
        assert!(list.contains(ip("::ffff:192.0.2.1")), "an IPv4 peer on an IPv6 socket is IPv4");
        assert!(IpNetworks::parse("X", "0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpNetworks::parse("X", " , ").unwrap().is_empty());
        for bad in ["10.0.0.0/33", "proxy.internal", "10.0.0.0/x", "::1/129"] {
            let err = IpNetworks::parse("ATLASSIAN_EGRESS_RANGES", bad).unwrap_err().to_string();
            assert!(err.contains("ATLASSIAN_EGRESS_RANGES"), "{bad}: {err}");
        }
    }

    #[test]
    fn entries_wider_than_a_slash_8_are_too_wide() {
        for wide in ["0.0.0.0/0", "10.0.0.0/8, 0.0.0.0/1", "::/0", "::/1", "8000::/6"] {
            assert!(IpNetworks::parse("X", wide).unwrap().too_wide().is_some(), "{wide}");
        }
        assert_eq!(IpNetworks::parse("X", "192.0.2.1, ::/0").unwrap().too_wide().as_deref(), Some("::/0"));
        for narrow in ["10.0.0.0/8", "fc00::/7", "192.0.2.7", "2001:db8::/32", ""] {
            assert_eq!(IpNetworks::parse("X", narrow).unwrap().too_wide(), None, "{narrow}");
        }
    }
}
