//! `/api/stats`: the instance's own dashboard's numbers as JSON. Reading them records no
//! visit.

use std::sync::Arc;

use rocket::{get, routes, serde::json::Json, Route};

use crate::{
    counting::site_id::SiteId,
    infra::error::AppError,
    stats::{Stats, StatsQuery, StatsReader},
};

#[get("/api/stats?<range>&<f>")]
async fn stats(
    range: Option<&str>,
    f: Vec<&str>,
    stats: StatsReader<'_>,
) -> Result<Json<Arc<Stats>>, AppError> {
    let query = StatsQuery::parse(range, &f)?;
    Ok(Json(stats.get(SiteId::INSTANCE, &query).await?))
}

pub fn routes() -> Vec<Route> {
    routes![stats]
}
