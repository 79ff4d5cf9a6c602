//! Who may read a site's numbers: anyone for a public site; for a private
//! one, the holder of its share link or the operator. Everyone else gets a
//! 404, exactly as for a site that does not exist, so a private site's
//! existence is not revealed.

use std::sync::Arc;

use rocket::{
    http::Status,
    request::{FromRequest, Outcome},
    Request,
};
use rocket_db_pools::Database;
use sqlx::PgPool;

use crate::{
    infra::{admin::Admin, database::Db, error::AppError},
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
    /// Whether they could read the dashboard too, not only the badge that
    /// a private site shows everyone.
    pub sees_dashboard: bool,
}

/// A request's way to the sites it may read: where they are looked up, and
/// whether it carries the admin token.
pub struct SiteAccess<'r> {
    directory: &'r SiteDirectory,
    pool: &'r PgPool,
    admin: bool,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SiteAccess<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let rocket = request.rocket();
        let (Some(db), Some(directory)) = (Db::fetch(rocket), rocket.state::<SiteDirectory>())
        else {
            // A stage is missing: a mistake in assembling the server.
            return Outcome::Error((Status::InternalServerError, ()));
        };
        let admin = request.guard::<Admin>().await.is_success();
        Outcome::Success(Self {
            directory,
            pool: db,
            admin,
        })
    }
}

impl SiteAccess<'_> {
    /// The site named `domain`, if this caller may read it.
    pub async fn open(
        &self,
        domain: &str,
        token: Option<&str>,
        audience: Audience,
    ) -> Result<ReadableSite, AppError> {
        let domain = Domain::parse(domain).map_err(|_| AppError::NotFound)?;
        let site = self
            .directory
            .find(self.pool, &domain)
            .await?
            .ok_or(AppError::NotFound)?;
        ReadableSite::new(site, token, self.admin, audience)
    }
}

impl ReadableSite {
    fn new(
        site: Arc<Site>,
        token: Option<&str>,
        admin: bool,
        audience: Audience,
    ) -> Result<Self, AppError> {
        let by_token = token.is_some_and(|token| site.share_token.matches(token));
        let sees_dashboard = admin || (site.active && (site.is_public() || by_token));
        let shown_anyway = audience == Audience::Badge && site.active && site.badge;
        if !(sees_dashboard || shown_anyway) {
            return Err(AppError::NotFound);
        }
        Ok(Self {
            token: by_token.then(|| site.share_token.to_hex()),
            sees_dashboard,
            site,
        })
    }
}
