//! `/api/stats`: the instance's own dashboard's numbers as JSON. Reading them records no
//! visit.

use std::sync::Arc;

use rocket::{get, routes, serde::json::Json, Route};

use crate::{
    counting::site_id::SiteId,
    infra::error::AppError,
    stats::{Stats, StatsRange, StatsReader},
};

#[get("/api/stats?<range>")]
async fn stats(range: Option<&str>, stats: StatsReader<'_>) -> Result<Json<Arc<Stats>>, AppError> {
    let range = StatsRange::parse(range)?;
    Ok(Json(stats.get(SiteId::INSTANCE, range).await?))
}

pub fn routes() -> Vec<Route> {
    routes![stats]
}
