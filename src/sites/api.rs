//! The sites' JSON: managing them (`/api/sites`) as the operator, with the
//! admin token, or as a person, with an API key and their roles; and each
//! site's stats under the site's own access rule.

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
    infra::{database::Db, error::AppError, page::NoReferrer},
    sites::{
        access::{Audience, SiteAccess},
        caller::ApiCaller,
        directory::SiteDirectory,
        domain::Domain,
        links::SiteLinks,
        manage::{SiteRequest, SiteSummary},
        members, store,
    },
    stats::{Stats, StatsParams, StatsQuery, StatsReader},
};

/// Every site for the operator and the admins; a person's own otherwise.
#[get("/api/sites")]
async fn list(
    caller: ApiCaller,
    db: &Db,
    links: &State<SiteLinks>,
) -> Result<Json<Vec<SiteSummary>>, AppError> {
    let sites = caller.visible(db, store::list(db).await?).await?;
    Ok(Json(
        sites.iter().map(|s| SiteSummary::new(s, links)).collect(),
    ))
}

/// A person's new site is theirs: they are its owner.
#[post("/api/sites", format = "json", data = "<body>")]
async fn add(
    caller: ApiCaller,
    body: Result<Json<SiteRequest>, json::Error<'_>>,
    db: &Db,
    links: &State<SiteLinks>,
    directory: &State<SiteDirectory>,
) -> Result<Created<Json<SiteSummary>>, AppError> {
    let body = body.map_err(|error| AppError::BadRequest(format!("invalid site: {error}")))?;
    let new = body
        .validate()
        .map_err(|error| AppError::BadRequest(error.to_string()))?;
    let site = match &caller {
        ApiCaller::Operator => store::add(&**db, &new).await?,
        ApiCaller::Person(user) => members::add_owned(db, &new, user.id).await??,
    };
    directory.forget(&new.domain).await;
    let summary = SiteSummary::new(&site, links);
    let location = format!("/api/sites/{}", new.domain);
    Ok(Created::new(location).body(Json(summary)))
}

/// A site sent as anything but JSON (a form, say): the route above did not
/// match its content type.
#[post("/api/sites", rank = 2)]
fn add_not_json(_caller: ApiCaller) -> AppError {
    AppError::UnsupportedMediaType("a site is sent as application/json")
}

/// Only for who may manage the site; to anyone else it does not exist.
#[delete("/api/sites/<domain>?<purge>")]
async fn remove(
    caller: ApiCaller,
    domain: &str,
    purge: Option<bool>,
    db: &Db,
    directory: &State<SiteDirectory>,
) -> Result<Status, AppError> {
    let domain = Domain::parse(domain).map_err(|_| AppError::NotFound)?;
    let site = store::find(db, &domain).await?.ok_or(AppError::NotFound)?;
    if !caller.may_manage(db, &site).await? {
        return Err(AppError::NotFound);
    }
    if !store::remove(db, &domain, purge.unwrap_or(false)).await? {
        return Err(AppError::NotFound);
    }
    directory.forget(&domain).await;
    Ok(Status::NoContent)
}

#[get("/api/sites/<domain>/stats?<token>&<params..>")]
async fn stats(
    domain: &str,
    token: Option<&str>,
    params: StatsParams<'_>,
    access: SiteAccess<'_>,
    stats: StatsReader<'_>,
) -> Result<NoReferrer<Json<Arc<Stats>>>, AppError> {
    let readable = access.open(domain, token, Audience::Dashboard).await?;
    let query = StatsQuery::parse(&params)?.in_zone(readable.site.time_zone);
    let stats = stats.get(readable.site.id, &query).await?;
    Ok(NoReferrer::new(Json(stats)))
}

pub fn routes() -> Vec<Route> {
    routes![list, add, add_not_json, remove, stats]
}
