//! `/api/sites/DOMAIN/goals` with the admin token: list, add (JSON
//! `{"kind": "event" | "page", "pattern": "…"}`), remove.

use rocket::{
    delete, get,
    http::Status,
    post,
    response::status::Created,
    routes,
    serde::json::{self, Json},
    Route,
};
use serde::Deserialize;

use crate::{
    counting::{
        goal::{Goal, GoalKind},
        site_id::SiteId,
    },
    goals::store,
    infra::{database::Db, error::AppError},
    sites::{caller::ApiCaller, domain::Domain, store as sites},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GoalRequest {
    kind: GoalKind,
    pattern: String,
}

/// The site named `domain`, if the caller may manage its goals; to anyone
/// else it does not exist.
async fn site_id(caller: &ApiCaller, db: &Db, domain: &str) -> Result<SiteId, AppError> {
    let domain = Domain::parse(domain).map_err(|_| AppError::NotFound)?;
    let site = sites::find(db, &domain).await?.ok_or(AppError::NotFound)?;
    if !caller.may_manage(db, &site).await? {
        return Err(AppError::NotFound);
    }
    Ok(site.id)
}

fn goal(kind: GoalKind, pattern: &str) -> Result<Goal, AppError> {
    Goal::parse(kind, pattern).map_err(|error| AppError::BadRequest(error.to_string()))
}

#[get("/api/sites/<domain>/goals")]
async fn list(caller: ApiCaller, domain: &str, db: &Db) -> Result<Json<Vec<Goal>>, AppError> {
    Ok(Json(
        store::list(&**db, site_id(&caller, db, domain).await?).await?,
    ))
}

#[post("/api/sites/<domain>/goals", format = "json", data = "<body>")]
async fn add(
    caller: ApiCaller,
    domain: &str,
    body: Result<Json<GoalRequest>, json::Error<'_>>,
    db: &Db,
) -> Result<Created<Json<Goal>>, AppError> {
    let body = body.map_err(|error| AppError::BadRequest(format!("invalid goal: {error}")))?;
    let goal = goal(body.kind, &body.pattern)?;
    store::add(db, site_id(&caller, db, domain).await?, &goal).await?;
    Ok(Created::new(format!("/api/sites/{domain}/goals")).body(Json(goal)))
}

/// A goal sent as anything but JSON.
#[post("/api/sites/<_domain>/goals", rank = 2)]
fn add_not_json(_caller: ApiCaller, _domain: &str) -> AppError {
    AppError::UnsupportedMediaType("a goal is sent as application/json")
}

#[delete("/api/sites/<domain>/goals?<kind>&<pattern>")]
async fn remove(
    caller: ApiCaller,
    domain: &str,
    kind: &str,
    pattern: &str,
    db: &Db,
) -> Result<Status, AppError> {
    let kind = match kind {
        "event" => GoalKind::Event,
        "page" => GoalKind::Page,
        _ => return Err(AppError::BadRequest("kind must be event or page".into())),
    };
    let goal = goal(kind, pattern)?;
    if store::remove(db, site_id(&caller, db, domain).await?, &goal).await? {
        Ok(Status::NoContent)
    } else {
        Err(AppError::NotFound)
    }
}

pub fn routes() -> Vec<Route> {
    routes![list, add, add_not_json, remove]
}
