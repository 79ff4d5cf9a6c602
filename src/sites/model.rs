//! What a site is: its domain and host names, who may see its numbers, and
//! how its hits are checked.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::{counting::site_id::SiteId, sites::domain::Domain};

/// Who may read a site's dashboard, stats and badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::Type)]
#[sqlx(type_name = "site_visibility", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Anyone.
    Public,
    /// Holders of the share link, and the operator (the default).
    Private,
}

/// The secret of a private site's link: 32 random bytes, hex in the URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ShareToken(Vec<u8>);

impl ShareToken {
    const BYTES: usize = 32;

    pub fn generate() -> Self {
        let mut bytes = vec![0; Self::BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_stored(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The token as it appears in a share link.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Whether `presented` (from a link) is this token, in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        let Ok(bytes) = hex::decode(presented) else {
            return false;
        };
        bool::from(bytes.ct_eq(&self.0))
    }
}

// Never printed by accident: logs and errors show that a token is there.
impl std::fmt::Debug for ShareToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShareToken(..)")
    }
}

/// A row of `sites`.
#[derive(Debug, Clone)]
pub struct Site {
    pub id: SiteId,
    /// `None` for the instance's own page.
    pub domain: Option<Domain>,
    /// Further host names whose pages count (`www.example.com`).
    pub hosts: Vec<Domain>,
    pub visibility: Visibility,
    pub share_token: ShareToken,
    /// Only pixel URLs signed by this server count.
    pub signed: bool,
    /// The badge of a private site is shown anyway.
    pub badge: bool,
    /// Only hits whose Referer or Origin names one of its hosts count.
    pub origin_required: bool,
    /// Removed sites stop counting; their counts stay unless purged.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// The zone its dashboard counts days and hours in.
    pub time_zone: Tz,
}

/// A site's stored time zone. Names are checked on the way in; one that no
/// longer parses (a zone a later release's database dropped) counts in UTC
/// rather than failing.
pub fn stored_time_zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

impl Site {
    /// Whether a page on `host` belongs to this site.
    pub fn has_host(&self, host: &str) -> bool {
        self.domain
            .iter()
            .chain(&self.hosts)
            .any(|d| d.as_str() == host)
    }

    /// The domain as text; empty for the instance's own page.
    pub fn name(&self) -> &str {
        self.domain.as_ref().map_or("", Domain::as_str)
    }

    pub fn is_public(&self) -> bool {
        self.visibility == Visibility::Public
    }
}

/// What a new site is made of (the CLI's flags, the API's body).
#[derive(Debug, Clone)]
pub struct NewSite {
    pub domain: Domain,
    pub hosts: Vec<Domain>,
    pub visibility: Visibility,
    pub signed: bool,
    pub badge: bool,
    pub origin_required: bool,
}
