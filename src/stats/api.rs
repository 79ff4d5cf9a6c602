//! `/api/stats`: the instance's own dashboard's numbers as JSON. Reading them records no
//! visit.

use std::sync::Arc;

use rocket::{get, routes, serde::json::Json, Route};

use crate::{
    counting::site_id::SiteId,
    infra::error::AppError,
    stats::{Stats, StatsParams, StatsQuery, StatsReader},
};

#[get("/api/stats?<params..>")]
async fn stats(
    params: StatsParams<'_>,
    stats: StatsReader<'_>,
) -> Result<Json<Arc<Stats>>, AppError> {
    let query = StatsQuery::parse(&params)?;
    Ok(Json(stats.get(SiteId::INSTANCE, &query).await?))
}

pub fn routes() -> Vec<Route> {
    routes![stats]
}
