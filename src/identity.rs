//! Who a visitor is, without knowing their address: a keyed hash of the
//! client IP and the User-Agent. Only the hash ever leaves this module.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;
use tokio::sync::OnceCell;

use crate::{config::VisitorSecret, db};

/// HMAC-SHA-256 of (client IP, User-Agent); what the database stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VisitorKey([u8; 32]);

impl VisitorKey {
    /// A key computed elsewhere, e.g. by a fixture or an import.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Derives visitor keys with the secret shared by every replica.
pub struct VisitorHasher {
    mac: Hmac<Sha256>,
}

impl VisitorHasher {
    pub fn new(secret: &VisitorSecret) -> Self {
        let mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .expect("HMAC accepts keys of any length");
        Self { mac }
    }

    /// `ip` is `None` only when the server does not know the peer at all.
    pub fn key(&self, ip: Option<IpAddr>, user_agent: &str) -> VisitorKey {
        let mut mac = self.mac.clone();
        // Fixed-width address encoding plus a separator keeps (ip, agent)
        // pairs from colliding through concatenation.
        match ip {
            Some(IpAddr::V4(v4)) => mac.update(&v4.to_ipv6_mapped().octets()),
            Some(IpAddr::V6(v6)) => mac.update(&v6.octets()),
            None => mac.update(&[0; 16]),
        }
        mac.update(&[0xff]);
        mac.update(user_agent.as_bytes());
        VisitorKey(mac.finalize().into_bytes().into())
    }
}

/// The hasher every replica shares. With `VISITOR_SECRET` unset, the secret
/// is read from (or first stored in) the database on the first visit rather
/// than at start, so that a replica started before `visitors migrate` runs
/// and reports itself not ready instead of failing.
pub struct VisitorIdentities {
    hasher: OnceCell<VisitorHasher>,
}

impl VisitorIdentities {
    pub fn new(configured: Option<&VisitorSecret>) -> Self {
        Self {
            hasher: OnceCell::new_with(configured.map(VisitorHasher::new)),
        }
    }

    pub async fn hasher(&self, pool: &PgPool) -> Result<&VisitorHasher, sqlx::Error> {
        self.hasher
            .get_or_try_init(|| async {
                let secret = db::shared_visitor_secret(pool).await?;
                Ok(VisitorHasher::new(&secret))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(secret: &str) -> VisitorHasher {
        VisitorHasher::new(&VisitorSecret::new(secret.as_bytes().to_vec()))
    }

    #[test]
    fn the_same_visitor_gets_the_same_key() {
        let h = hasher("a secret of some length");
        let ip = "203.0.113.9".parse().ok();
        assert_eq!(h.key(ip, "Firefox"), h.key(ip, "Firefox"));
    }

    #[test]
    fn address_agent_and_secret_all_matter() {
        let a = hasher("a secret of some length");
        let b = hasher("another secret entirely");
        let ip = "203.0.113.9".parse().ok();
        let other_ip = "203.0.113.10".parse().ok();
        let key = a.key(ip, "Firefox");
        assert_ne!(key, a.key(other_ip, "Firefox"));
        assert_ne!(key, a.key(ip, "Chrome"));
        assert_ne!(key, b.key(ip, "Firefox"));
    }

    #[test]
    fn the_key_does_not_contain_the_address() {
        let h = hasher("a secret of some length");
        let key = h.key("203.0.113.9".parse().ok(), "");
        assert!(!key.as_bytes().windows(4).any(|w| w == [203, 0, 113, 9]));
    }
}
