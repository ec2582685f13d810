//! Per-client rate limits on the portal's public endpoints, so notices and receipts cannot
//! be enumerated (IUVs are sequential) and carts cannot park every payable dovuto. GCRA
//! from the `governor` crate, keyed by the client's address as the trusted proxies report
//! it; the key table is pruned of idle clients so it stays bounded.

use super::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;

/// Beyond this many tracked clients, those whose allowance has fully recovered are dropped
/// (they carry no state worth keeping).
const MAX_CLIENTS: usize = 100_000;

/// One limit: `n` requests a minute per client, in bursts of at most `n`.
pub struct Limiter(DefaultKeyedRateLimiter<IpAddr>);

impl Limiter {
    pub fn per_minute(n: u32) -> Limiter {
        // Zero is refused by the configuration check; one is the tightest meaningful limit.
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Limiter(RateLimiter::keyed(Quota::per_minute(n)))
    }

    /// `true` when `client` may make one more request now.
    pub fn allow(&self, client: IpAddr) -> bool {
        if self.0.len() > MAX_CLIENTS {
            self.0.retain_recent();
            self.0.shrink_to_fit();
        }
        self.0.check_key(&client).is_ok()
    }

    /// Clients tracked now.
    pub fn clients(&self) -> usize {
        self.0.len()
    }
}

/// The portal's limits.
pub struct Limiti {
    /// Notice lookups and receipt downloads (`rest.lookups_per_minute`).
    pub ricerche: Limiter,
    /// Carts and spontaneous payments (`rest.carts_per_minute`).
    pub carrelli: Limiter,
}

impl Limiti {
    pub fn from_config(r: &crate::config::RestConfig) -> Limiti {
        Limiti {
            ricerche: Limiter::per_minute(r.lookups_per_minute),
            carrelli: Limiter::per_minute(r.carts_per_minute),
        }
    }
}

/// Who is asking: the peer address, or, when the peer is one of `rest.trusted_proxies`,
/// the nearest address in `X-Forwarded-For` that is not a trusted proxy (the entries to its
/// left are whatever the client chose to send, so they are never believed).
pub struct Client(pub IpAddr);

pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    // Without the connection's address (an in-process call) every caller shares one key.
    let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    for hop in hops.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted.contains(&ip) {
                    break;
                }
            }
            // A garbled hop: stop at the last address a trusted proxy vouched for.
            Err(_) => break,
        }
    }
    client
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Client(client_address(
            peer,
            &parts.headers,
            &s.config.rest.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(v: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for x in v {
            h.append("x-forwarded-for", x.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_client_is_the_nearest_untrusted_hop() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        // Not from a proxy: the header is the client's own claim, ignored.
        let h = xff(&["203.0.113.9"]);
        assert_eq!(
            client_address(Some(ip("198.51.100.7")), &h, &proxies),
            ip("198.51.100.7")
        );
        // Through two proxies; the leftmost entry is forged by the client.
        let h = xff(&["1.2.3.4, 203.0.113.9", "10.0.0.2"]);
        assert_eq!(
            client_address(Some(ip("10.0.0.1")), &h, &proxies),
            ip("203.0.113.9")
        );
        // A garbled hop stops the walk at the proxy that sent it.
        let h = xff(&["203.0.113.9, bogus"]);
        assert_eq!(
            client_address(Some(ip("10.0.0.1")), &h, &proxies),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_address(None, &HeaderMap::new(), &proxies),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn a_client_gets_its_quota_and_others_are_not_affected() {
        let l = Limiter::per_minute(3);
        let (a, b) = (ip("203.0.113.1"), ip("203.0.113.2"));
        assert!((0..3).all(|_| l.allow(a)));
        assert!(!l.allow(a));
        assert!(l.allow(b));
        assert_eq!(l.clients(), 2);
    }
}
