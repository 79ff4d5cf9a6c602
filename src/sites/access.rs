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
        api_keys,
        session::{presented_session, SessionDigest},
        store as accounts_store,
    },
    infra::{admin::Admin, database::Db, error::AppError},
    sites::{
        caller::presented_key, directory::SiteDirectory, domain::Domain, members, model::Site,
    },
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
/// whether it carries the admin token, and the session or API key it names,
/// whose owner is looked up only for a site the public may not read.
pub struct SiteAccess<'r> {
    directory: &'r SiteDirectory,
    pool: &'r PgPool,
    admin: bool,
    session: Option<SessionDigest>,
    key: Option<[u8; 32]>,
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
        Outcome::Success(Self {
            directory,
            pool: db,
            admin: request.guard::<Admin>().await.is_success(),
            session: presented_session(request),
            key: presented_key(request),
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
        let open = self.admin
            || (site.is_public() && site.active)
            || token.is_some_and(|token| site.share_token.matches(token));
        let member = !open && self.is_member(&site).await?;
        ReadableSite::new(site, token, self.admin || member, audience)
    }

    /// Whether the session's or the key's owner is one of the site's
    /// members, or an admin.
    async fn is_member(&self, site: &Site) -> Result<bool, AppError> {
        let mut reader = match &self.session {
            Some(session) => accounts_store::session_user(self.pool, session).await?,
            None => None,
        };
        if let (None, Some(key)) = (&reader, &self.key) {
            reader = api_keys::user_of(self.pool, key).await?;
        }
        Ok(match reader {
            Some(user) => {
                user.is_admin
                    || members::role_of(self.pool, site.id, user.id)
                        .await?
                        .is_some()
            }
            None => false,
        })
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
