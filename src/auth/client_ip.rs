//! The client's address: the TCP peer, unless the peer is a trusted proxy. Then the
//! `X-Forwarded-For` chain is read from the right (each proxy appends the address it saw)
//! and the client is the first entry that is not itself a trusted proxy. An entry there that
//! does not parse stops the walk at the proxy that wrote it: everything to its left was
//! written by someone we cannot vouch for. An untrusted peer's header is ignored, so a
//! spoofed one can neither reset nor dodge a limit.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use ipnet::IpNet;

use crate::config::Config;

/// The client's address, as an extractor: what [`client_ip`] makes of the request with the
/// configured trusted proxies (`None` only without a peer address, as in some unit tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequest for ClientIp {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted = req.app_data::<web::Data<Config>>().map_or(&[][..], |c| &c.trusted_proxies.0[..]);
        ready(Ok(Self(client_ip(req, trusted))))
    }
}

/// The client's address, as far as the trusted proxies vouch for it.
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = canonical(req.peer_addr()?.ip());
    // Entry by entry, from the raw bytes: one entry a client wrote with a non-ASCII byte must
    // not make the header unreadable as a whole, and with it the entries our proxies appended.
    let entries: Vec<&[u8]> =
        req.headers().get_all("x-forwarded-for").flat_map(|v| v.as_bytes().split(|b| *b == b',')).collect();
    Some(walk(peer, &entries, trusted))
}

fn walk(peer: IpAddr, forwarded: &[&[u8]], trusted: &[IpNet]) -> IpAddr {
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
/// `192.0.2.1:4711` and `[2001:db8::1]:4711`. Anything else (garbage, non-ASCII) is `None`.
fn parse_entry(entry: &[u8]) -> Option<IpAddr> {
    let entry = std::str::from_utf8(entry).ok()?.trim();
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

    fn entries<'a>(list: &[&'a str]) -> Vec<&'a [u8]> {
        list.iter().map(|s| s.as_bytes()).collect()
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
        assert_eq!(walk(peer, &entries(&["198.51.100.7", "10.9.9.9"]), &trusted), ip("198.51.100.7"));
        assert_eq!(walk(peer, &entries(&["203.0.113.1", "[2001:db8:ffff::1]:443"]), &trusted), ip("203.0.113.1"));
        // A client wrote "1.2.3.4, garbage" hoping the proxy would skip its garbage.
        assert_eq!(walk(peer, &entries(&["1.2.3.4", "garbage"]), &trusted), peer);
        assert_eq!(walk(peer, &entries(&["1.2.3.4", "garbage", "10.0.0.7"]), &trusted), ip("10.0.0.7"));
        assert_eq!(walk(peer, &[], &trusted), peer, "no header: the proxy itself");
        assert_eq!(walk(peer, &entries(&["10.0.0.5"]), &trusted), ip("10.0.0.5"), "only proxies: the farthest");
        assert_eq!(walk(peer, &entries(&["::ffff:198.51.100.7:80"]), &trusted), peer, "not an address with a port");
        assert_eq!(walk(peer, &entries(&["::ffff:198.51.100.7"]), &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn a_non_ascii_client_entry_leaves_the_proxies_entries_readable() {
        let trusted = nets(&["10.0.0.0/8"]);
        let req = TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header((
                "x-forwarded-for",
                actix_web::http::header::HeaderValue::from_bytes(b"caf\xc3\xa9, 198.51.100.7, 10.0.0.2").unwrap(),
            ))
            .to_http_request();
        assert_eq!(client_ip(&req, &trusted), Some(ip("198.51.100.7")));
        // The bad entry itself is still where trust ends: never skipped to reach further left.
        let req = TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header((
                "x-forwarded-for",
                actix_web::http::header::HeaderValue::from_bytes(b"203.0.113.5, \xff").unwrap(),
            ))
            .to_http_request();
        assert_eq!(client_ip(&req, &trusted), Some(ip("10.0.0.1")));
    }

    #[test]
    fn ipv6_clients_share_a_key_per_64() {
        assert_eq!(attempt_key(Some(ip("2001:db8:1:2:aaaa::1"))), "2001:db8:1:2::/64");
        assert_eq!(attempt_key(Some(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))), "2001:db8:1:2::/64");
        assert_ne!(attempt_key(Some(ip("2001:db8:1:3::1"))), "2001:db8:1:2::/64");
        assert_eq!(attempt_key(Some(ip("192.0.2.7"))), "192.0.2.7");
    }
}
