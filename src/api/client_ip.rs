//! Who is asking: the client's address as the API may believe it, and the network a
//! per-address limit counts against.
//!
//! Behind the local edge the API's peer is the edge, which replaces any `X-Forwarded-For`
//! the client sent with the address it saw; behind the AWS load balancer the peer is the
//! balancer, which appends its own peer. So a forwarded address is believed only from a
//! trusted proxy (`ApiSettings::trusted_proxies`), and read from the right.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;

/// The client's address: the TCP peer, unless the peer is a trusted proxy (the edge, a load
/// balancer), in which case the nearest untrusted address of `X-Forwarded-For`, read from the
/// right (entries further left were written by the client and prove nothing).
pub(super) struct ClientIp(pub(super) IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
            .ok_or_else(|| ApiError::Internal("no peer address".into()))?;
        let trusted = &state.0.settings.trusted_proxies;
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        if !is_trusted(&peer) {
            return Ok(ClientIp(peer));
        }
        let mut client = peer;
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for hop in forwarded.iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = ip;
            if !is_trusted(&ip) {
                break;
            }
        }
        Ok(ClientIp(client))
    }
}

/// The network a per-address limit counts against: the IPv4 address, or the IPv6 /64 (one
/// subscriber usually holds a whole /64, so per-address keys would be free to rotate).
pub(super) fn client_net(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4.to_string();
            }
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        assert_eq!(client_net(a), client_net(b));
        assert_eq!(
            client_net("::ffff:192.0.2.7".parse().expect("ip")),
            "192.0.2.7"
        );
        assert_eq!(client_net("192.0.2.7".parse().expect("ip")), "192.0.2.7");
    }
}
