//! The client's address: the TCP peer, unless the peer is a trusted proxy. Then the
//! `X-Forwarded-For` chain is read from the right (each proxy appends the address it saw)
//! and the client is the first entry that is not itself a trusted proxy. An entry there that
//! does not parse stops the walk at the proxy that wrote it: everything to its left was
//! written by someone we cannot vouch for. An untrusted peer's header is ignored, so a
//! spoofed one can neither reset nor dodge a limit.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The client's address, as far as the trusted proxies vouch for it.
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = canonical(req.peer_addr()?.ip());
    let entries: Vec<&str> =
        req.headers().get_all("x-forwarded-for").flat_map(|v| v.to_str().unwrap_or("unreadable").split(',')).collect();
    Some(walk(peer, &entries, trusted))
}

fn walk(peer: IpAddr, forwarded: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut last_proxy = peer;
    if !is_trusted(&last_proxy) {
        return last_proxy;
    }
    for entry in forwarded.iter().rev() {
        let Some(ip) = parse_entry(entry) else { return last_proxy };
        if !is_trusted(&ip) {
            return ip;
        }
        last_proxy = ip;
    }
    last_proxy
}

/// An address as proxies write it: `192.0.2.1`, `2001:db8::1`, or with a port,
/// `192.0.2.1:4711` and `[2001:db8::1]:4711`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry.parse::<IpAddr>().or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip())).ok()?;
    Some(canonical(ip))
}

/// `::ffff:192.0.2.1` is `192.0.2.1`: one client, one key, whichever way the socket saw it.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key under which an address's password attempts are counted: an IPv4 address, or the
/// /64 network of an IPv6 one (one subscriber usually gets a whole /64, and could otherwise
/// pick a fresh address for every guess).
pub fn attempt_key(ip: Option<IpAddr>) -> String {
    match ip {
        None => "unknown".to_owned(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let network = Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1));
            format!("{network}/64")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_trusted;
    use actix_web::test::TestRequest;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| parse_trusted(s).unwrap()).collect()
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let trusted = nets(&["10.0.0.1"]);
        let spoofed = TestRequest::default()
            .peer_addr("203.0.113.9:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "1.2.3.4"))
            .to_http_request();
        assert_eq!(client_ip(&spoofed, &trusted), Some(ip("203.0.113.9")));
        let proxied = TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "1.2.3.4, 198.51.100.7"))
            .to_http_request();
        assert_eq!(client_ip(&proxied, &trusted), Some(ip("198.51.100.7")));
    }

    #[test]
    fn the_walk_passes_trusted_ranges_and_stops_at_garbage() {
        let trusted = nets(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        let peer = ip("10.1.2.3");
        assert_eq!(walk(peer, &["198.51.100.7", "10.9.9.9"], &trusted), ip("198.51.100.7"));
        assert_eq!(walk(peer, &["203.0.113.1", "[2001:db8:ffff::1]:443"], &trusted), ip("203.0.113.1"));
        // A client wrote "1.2.3.4, garbage" hoping the proxy would skip its garbage.
        assert_eq!(walk(peer, &["1.2.3.4", "garbage"], &trusted), peer);
        assert_eq!(walk(peer, &["1.2.3.4", "garbage", "10.0.0.7"], &trusted), ip("10.0.0.7"));
        assert_eq!(walk(peer, &[], &trusted), peer, "no header: the proxy itself");
        assert_eq!(walk(peer, &["10.0.0.5"], &trusted), ip("10.0.0.5"), "only proxies: the farthest");
        assert_eq!(walk(peer, &["::ffff:198.51.100.7:80"], &trusted), peer, "not an address with a port");
        assert_eq!(walk(peer, &["::ffff:198.51.100.7"], &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn ipv6_clients_share_a_key_per_64() {
        assert_eq!(attempt_key(Some(ip("2001:db8:1:2:aaaa::1"))), "2001:db8:1:2::/64");
        assert_eq!(attempt_key(Some(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))), "2001:db8:1:2::/64");
        assert_ne!(attempt_key(Some(ip("2001:db8:1:3::1"))), "2001:db8:1:2::/64");
        assert_eq!(attempt_key(Some(ip("192.0.2.7"))), "192.0.2.7");
    }
}
