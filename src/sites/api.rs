//! The sites' JSON: managing them with the admin token (`/api/sites`, which
//! does not exist without one), and each site's stats under the site's own
//! access rule.

use std::sync::Arc;

use rocket::{
    delete, get,
    http::Status,
    post,
    response::status::Created,
    routes,
    serde::json::{self, Json},
    Route, State,
};

use crate::{
    infra::{admin::Admin, database::Db, error::AppError, page::NoReferrer},
    sites::{
        access::{Audience, SiteAccess},
        directory::SiteDirectory,
        domain::Domain,
        links::SiteLinks,
        manage::{SiteRequest, SiteSummary},
        store,
    },
    stats::{Stats, StatsRange, StatsReader},
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
    let site = store::add(&**db, &new).await?;
    directory.forget(&new.domain).await;
    let summary = SiteSummary::new(&site, links);
    let location = format!("/api/sites/{}", new.domain);
    Ok(Created::new(location).body(Json(summary)))
}

/// A site sent as anything but JSON (a form, say): the route above did not
/// match its content type.
#[post("/api/sites", rank = 2)]
fn add_not_json(_admin: Admin) -> AppError {
    AppError::UnsupportedMediaType("a site is sent as application/json")
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

#[get("/api/sites/<domain>/stats?<range>&<token>")]
async fn stats(
    domain: &str,
    range: Option<&str>,
    token: Option<&str>,
    access: SiteAccess<'_>,
    stats: StatsReader<'_>,
) -> Result<NoReferrer<Json<Arc<Stats>>>, AppError> {
    let readable = access.open(domain, token, Audience::Dashboard).await?;
    let range = StatsRange::parse(range)?;
    let stats = stats.get(readable.site.id, range).await?;
    Ok(NoReferrer::new(Json(stats)))
}

pub fn routes() -> Vec<Route> {
    routes![list, add, add_not_json, remove, stats]
}
