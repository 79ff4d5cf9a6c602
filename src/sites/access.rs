//! Who may read a site's numbers: anyone for a public site; for a private
//! one, the holder of its share link, its members and the instance's admins
//! (signed in, or with an API key), or the operator's admin token. Everyone else gets a 404,
//! exactly as for a site that does not exist, so a private site's existence
//! is not revealed.

use std::sync::Arc;

use rocket::{
    http::Status,
    request::{FromRequest, Outcome},
    Request,
};
use rocket_db_pools::Database;
use sqlx::PgPool;

use crate::{
    accounts::{
        model::User,
        session::{NoSession, SignedIn},
    },
    infra::{admin::Admin, database::Db, error::AppError},
    sites::{caller::ApiCaller, directory::SiteDirectory, domain::Domain, members, model::Site},
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

/// A request's way to the sites it may read: where they are looked up,
/// whether it carries the admin token, and who is signed in.
pub struct SiteAccess<'r> {
    directory: &'r SiteDirectory,
    pool: &'r PgPool,
    admin: bool,
    reader: Option<User>,
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
        // The sessions are read only for a request with a session cookie,
        // the API keys only for one with a key.
        let mut reader = match request.guard::<SignedIn>().await {
            Outcome::Success(signed_in) => Some(signed_in.user),
            Outcome::Error((status, NoSession::Unavailable(_))) => {
                return Outcome::Error((status, ()));
            }
            _ => None,
        };
        if reader.is_none() && request.headers().contains("Authorization") {
            if let Outcome::Success(ApiCaller::Person(user)) = request.guard::<ApiCaller>().await {
                reader = Some(user);
            }
        }
        Outcome::Success(Self {
            directory,
            pool: db,
            admin,
            reader,
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
        // A member's role is looked up only where the public could not read.
        let member = match &self.reader {
            Some(user) if !(site.is_public() && site.active) => {
                user.is_admin
                    || members::role_of(self.pool, site.id, user.id)
                        .await?
                        .is_some()
            }
            _ => false,
        };
        ReadableSite::new(site, token, self.admin || member, audience)
    }
}

impl ReadableSite {
    fn new(
        site: Arc<Site>,
        token: Option<&str>,
        // The admin token, or a signed-in member or admin.
        trusted: bool,
        audience: Audience,
    ) -> Result<Self, AppError> {
        let by_token = token.is_some_and(|token| site.share_token.matches(token));
        let sees_dashboard = trusted || (site.active && (site.is_public() || by_token));
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
