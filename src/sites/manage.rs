//! Managing sites, the same from the command line and from the admin API:
//! a new site's fields are checked as a whole, and what is shown of a site.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sites::{
    domain::{Domain, InvalidDomain},
    links::SiteLinks,
    model::{NewSite, Site, Visibility},
};

/// A new site as a caller describes it, before any of it is checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteRequest {
    pub domain: String,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default = "private")]
    pub visibility: Visibility,
    #[serde(default)]
    pub signed: bool,
    #[serde(default)]
    pub badge: bool,
    #[serde(default)]
    pub origin_required: bool,
}

fn private() -> Visibility {
    Visibility::Private
}

/// Which name was refused, and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{name:?}: {reason}")]
pub struct InvalidSite {
    pub name: String,
    pub reason: InvalidDomain,
}

impl SiteRequest {
    /// The site, or the first name that is not a domain; nothing is stored
    /// of a request that has one.
    pub fn validate(&self) -> Result<NewSite, InvalidSite> {
        let parse = |name: &String| {
            Domain::parse(name).map_err(|reason| InvalidSite {
                name: name.clone(),
                reason,
            })
        };
        let domain = parse(&self.domain)?;
        let mut hosts = Vec::new();
        for host in &self.hosts {
            let host = parse(host)?;
            if host != domain && !hosts.contains(&host) {
                hosts.push(host);
            }
        }
        Ok(NewSite {
            domain,
            hosts,
            visibility: self.visibility,
            signed: self.signed,
            badge: self.badge,
            origin_required: self.origin_required,
        })
    }
}

/// A site as the operator sees it (the API's JSON, the CLI's lines).
#[derive(Debug, Clone, Serialize)]
pub struct SiteSummary {
    pub domain: String,
    pub hosts: Vec<String>,
    pub visibility: Visibility,
    pub signed: bool,
    pub badge: bool,
    pub origin_required: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// The dashboard's address; a private site's carries its share token.
    pub dashboard: String,
    pub badge_url: String,
}

impl SiteSummary {
    pub fn new(site: &Site, links: &SiteLinks) -> Self {
        Self {
            domain: site.name().to_owned(),
            hosts: site.hosts.iter().map(|h| h.to_string()).collect(),
            visibility: site.visibility,
            signed: site.signed,
            badge: site.badge,
            origin_required: site.origin_required,
            active: site.active,
            created_at: site.created_at,
            dashboard: links.dashboard(site),
            badge_url: links.badge(site),
        }
    }
}
