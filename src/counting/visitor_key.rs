//! Who a visitor is, without knowing their address: a keyed hash of the
//! site, the client IP and the User-Agent. Only the hash ever leaves this
//! module.

use std::{
    net::IpAddr,
    sync::{Arc, OnceLock},
};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;

use rand::RngCore;

use crate::{counting::site_id::SiteId, infra::config::Secret};

const SECRET_SETTING: &str = "visitor_secret";

/// HMAC-SHA-256 of (site, client IP, User-Agent); what the database stores.
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
    pub fn new(secret: &Secret) -> Self {
        let mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .expect("HMAC accepts keys of any length");
        Self { mac }
    }

    /// A key for another purpose (`purpose` names it), derived from the
    /// same shared secret, so that replicas need no second secret.
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(b"derived key\xff");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// `ip` is `None` only when the server does not know the peer at all.
    /// The same person on two sites gets two unrelated keys. The instance's
    /// own site keeps the key of the releases before sites (no site part),
    /// so that its visitors are still recognised after the upgrade.
    pub fn key(&self, site: SiteId, ip: Option<IpAddr>, user_agent: &str) -> VisitorKey {
        let mut mac = self.mac.clone();
        if site != SiteId::INSTANCE {
            mac.update(b"site");
            mac.update(&site.0.to_be_bytes());
        }
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
/// is read from (or first stored in) the database at ignition; when the
/// schema is not there yet (`MIGRATE_ON_START=false` before `visitors
/// migrate`), readiness and a background task retry, and visits answer 503
/// until it is loaded. Requests never wait for the database here.
/// Clones share one secret.
#[derive(Clone)]
pub struct VisitorIdentities {
    hasher: Arc<OnceLock<VisitorHasher>>,
}

impl VisitorIdentities {
    pub fn new(configured: Option<&Secret>) -> Self {
        let hasher = OnceLock::new();
        if let Some(secret) = configured {
            let _ = hasher.set(VisitorHasher::new(secret));
        }
        Self {
            hasher: Arc::new(hasher),
        }
    }

    /// The hasher, once the secret is known.
    pub fn hasher(&self) -> Option<&VisitorHasher> {
        self.hasher.get()
    }

    /// Loads the shared secret unless it is known already.
    pub async fn load(&self, pool: &PgPool) -> Result<&VisitorHasher, sqlx::Error> {
        if let Some(hasher) = self.hasher.get() {
            return Ok(hasher);
        }
        let secret = shared_visitor_secret(pool).await?;
        Ok(self.hasher.get_or_init(|| VisitorHasher::new(&secret)))
    }
}

/// The secret stored in the database, created by whichever replica asks first.
async fn shared_visitor_secret(pool: &PgPool) -> Result<Secret, sqlx::Error> {
    let mut candidate = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut candidate);
    // Racing replicas all insert; only the first wins, and all read its
    // value (in a second statement, whose snapshot sees the winner's row).
    sqlx::query(
        "INSERT INTO app_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(SECRET_SETTING)
    .bind(&candidate)
    .execute(pool)
    .await?;
    let secret: Vec<u8> = sqlx::query_scalar("SELECT value FROM app_settings WHERE name = $1")
        .bind(SECRET_SETTING)
        .fetch_one(pool)
        .await?;
    Ok(Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(secret: &str) -> VisitorHasher {
        VisitorHasher::new(&Secret::new(secret.as_bytes().to_vec()))
    }

    #[test]
    fn the_same_visitor_gets_the_same_key() {
        let h = hasher("a secret of some length");
        let ip = "203.0.113.9".parse().ok();
        assert_eq!(
            h.key(SiteId(3), ip, "Firefox"),
            h.key(SiteId(3), ip, "Firefox")
        );
    }

    #[test]
    fn address_agent_and_secret_all_matter() {
        let a = hasher("a secret of some length");
        let b = hasher("another secret entirely");
        let ip = "203.0.113.9".parse().ok();
        let other_ip = "203.0.113.10".parse().ok();
        let site = SiteId::INSTANCE;
        let key = a.key(site, ip, "Firefox");
        assert_ne!(key, a.key(site, other_ip, "Firefox"));
        assert_ne!(key, a.key(site, ip, "Chrome"));
        assert_ne!(key, b.key(site, ip, "Firefox"));
        assert_ne!(key, a.key(SiteId(1), ip, "Firefox"));
        assert_ne!(
            a.key(SiteId(1), ip, "Firefox"),
            a.key(SiteId(2), ip, "Firefox")
        );
    }

    #[test]
    fn the_key_does_not_contain_the_address() {
        let h = hasher("a secret of some length");
        let key = h.key(SiteId(1), "203.0.113.9".parse().ok(), "");
        assert!(!key.as_bytes().windows(4).any(|w| w == [203, 0, 113, 9]));
    }
}
