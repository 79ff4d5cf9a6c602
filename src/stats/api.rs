//! `/api/stats`: the instance's own dashboard's numbers as JSON. Reading them records no
//! visit.

use std::sync::Arc;

use rocket::{get, routes, serde::json::Json, Route, State};

use crate::{
    counting::site_id::SiteId,
    infra::{database::Db, error::AppError},
    stats::{Stats, StatsCache, StatsRange},
};

#[get("/api/stats?<range>")]
async fn stats(
    range: Option<&str>,
    db: &Db,
    cache: &State<StatsCache>,
) -> Result<Json<Arc<Stats>>, AppError> {
    let range = StatsRange::parse(range)?;
    Ok(Json(cache.get(db, SiteId::INSTANCE, range).await?))
}

pub fn routes() -> Vec<Route> {
    routes![stats]
}
