//! `/api/stats`: the dashboard's numbers as JSON. Reading them records no
//! visit.

use std::sync::Arc;

use rocket::{get, routes, serde::json::Json, Route, State};

use crate::{
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
    Ok(Json(cache.get(db, range).await?))
}

pub fn routes() -> Vec<Route> {
    routes![stats]
}
