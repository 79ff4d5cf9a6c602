//! Who may read a site's numbers: anyone for a public site; for a private
//! one, the holder of its share link or the operator. Everyone else gets a
//! 404, exactly as for a site that does not exist, so a private site's
//! existence is not revealed.

use std::sync::Arc;

use sqlx::PgPool;

use crate::{
    infra::{admin::Admin, error::AppError},
    sites::{directory::SiteDirectory, domain::Domain, model::Site},
};

/// What is being read: a private site may show its badge to everyone
/// (`--badge`) and still keep its dashboard to the link's holders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Dashboard,
    Badge,
}

/// A site the caller may read, and how they got in.
pub struct ReadableSite {
    pub site: Arc<Site>,
    /// The share token they came with, to keep in the page's own links.
    pub token: Option<String>,
}

impl ReadableSite {
    /// The site named `domain`, if this caller may read it.
    pub async fn open(
        directory: &SiteDirectory,
        pool: &PgPool,
        domain: &str,
        token: Option<&str>,
        admin: Option<Admin>,
        audience: Audience,
    ) -> Result<Self, AppError> {
        let domain = Domain::parse(domain).map_err(|_| AppError::NotFound)?;
        let site = directory
            .find(pool, &domain)
            .await?
            .ok_or(AppError::NotFound)?;
        let by_token = token.is_some_and(|token| site.share_token.matches(token));
        let shown_anyway = audience == Audience::Badge && site.badge;
        let allowed =
            admin.is_some() || (site.active && (site.is_public() || by_token || shown_anyway));
        if !allowed {
            return Err(AppError::NotFound);
        }
        Ok(Self {
            token: by_token.then(|| site.share_token.to_hex()),
            site,
        })
    }
}
