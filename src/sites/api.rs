//! The sites' JSON: managing them with the admin token (`/api/sites`, which
//! does not exist without one), and each site's stats under the site's own
//! access rule.

use std::sync::Arc;

use rocket::{
    delete, get,
    http::{Header, Status},
    post,
    response::status::Created,
    routes,
    serde::json::{self, Json},
    Responder, Route, State,
};

use crate::{
    infra::{admin::Admin, database::Db, error::AppError},
    sites::{
        access::{Audience, ReadableSite},
        directory::SiteDirectory,
        domain::Domain,
        links::SiteLinks,
        manage::{SiteRequest, SiteSummary},
        store,
    },
    stats::{Stats, StatsCache, StatsRange},
};

#[get("/api/sites")]
async fn list(
    _admin: Admin,
    db: &Db,
    links: &State<SiteLinks>,
) -> Result<Json<Vec<SiteSummary>>, AppError> {
    let sites = store::list(db).await?;
    Ok(Json(
        sites.iter().map(|s| SiteSummary::new(s, links)).collect(),
    ))
}

#[post("/api/sites", format = "json", data = "<body>")]
async fn add(
    _admin: Admin,
    body: Result<Json<SiteRequest>, json::Error<'_>>,
    db: &Db,
    links: &State<SiteLinks>,
    directory: &State<SiteDirectory>,
) -> Result<Created<Json<SiteSummary>>, AppError> {
    let body = body.map_err(|error| AppError::BadRequest(format!("invalid site: {error}")))?;
    let new = body
        .validate()
        .map_err(|error| AppError::BadRequest(error.to_string()))?;
    let site = store::add(db, &new).await.map_err(|error| match error {
        store::AddError::Exists(_) => AppError::Conflict(error.to_string()),
        store::AddError::Database(error) => error.into(),
    })?;
    directory.forget(&new.domain).await;
    let summary = SiteSummary::new(&site, links);
    let location = format!("/api/sites/{}", new.domain);
    Ok(Created::new(location).body(Json(summary)))
}

#[delete("/api/sites/<domain>?<purge>")]
async fn remove(
    _admin: Admin,
    domain: &str,
    purge: Option<bool>,
    db: &Db,
    directory: &State<SiteDirectory>,
) -> Result<Status, AppError> {
    let domain = Domain::parse(domain).map_err(|_| AppError::NotFound)?;
    if !store::remove(db, &domain, purge.unwrap_or(false)).await? {
        return Err(AppError::NotFound);
    }
    directory.forget(&domain).await;
    Ok(Status::NoContent)
}

/// A response that must not pass its address (which may hold the share
/// token) on to anywhere it links or loads.
#[derive(Responder)]
pub struct NoReferrer<T> {
    pub body: T,
    pub referrer_policy: Header<'static>,
}

impl<T> NoReferrer<T> {
    pub fn new(body: T) -> Self {
        Self {
            body,
            referrer_policy: Header::new("Referrer-Policy", "no-referrer"),
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[get("/api/sites/<domain>/stats?<range>&<token>")]
async fn stats(
    domain: &str,
    range: Option<&str>,
    token: Option<&str>,
    admin: Option<Admin>,
    db: &Db,
    directory: &State<SiteDirectory>,
    cache: &State<StatsCache>,
) -> Result<NoReferrer<Json<Arc<Stats>>>, AppError> {
    let readable =
        ReadableSite::open(directory, db, domain, token, admin, Audience::Dashboard).await?;
    let range = StatsRange::parse(range)?;
    let stats = cache.get(db, readable.site.id, range).await?;
    Ok(NoReferrer::new(Json(stats)))
}

pub fn routes() -> Vec<Route> {
    routes![list, add, remove, stats]
}
