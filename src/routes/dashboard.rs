//! The dashboard every visitor sees (which records their visit), and its
//! chart on its own.

use std::sync::Arc;

use askama::Template;
use rocket::{get, http::Header, routes, Responder, Route, State};

use crate::{
    db::{Db, VisitCounts},
    error::AppError,
    metrics::Metrics,
    page::{Page, SiteInfo},
    recorder::VisitRecorder,
    stats::{Stats, StatsCache, StatsRange},
    user_agent::ClientInfo,
    visit::IncomingVisit,
};

/// A link of the range selector.
pub struct RangeLink {
    pub range: StatsRange,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardTemplate<'a> {
    pub counts: VisitCounts,
    /// How this visitor's User-Agent was read; it comes from the request.
    pub client: Arc<ClientInfo>,
    pub stats: Arc<Stats>,
    pub ranges: Vec<RangeLink>,
    pub site: Option<&'a SiteInfo>,
}

/// The range is checked before anything is recorded: a bad link is a 400
/// page, not a visit.
#[get("/?<range>")]
async fn dashboard<'a>(
    range: Option<&str>,
    visit: IncomingVisit,
    recorder: &State<VisitRecorder>,
    db: &Db,
    cache: &State<StatsCache>,
    metrics: &State<Metrics>,
    site: &'a State<SiteInfo>,
) -> Result<Page<DashboardTemplate<'a>>, AppError> {
    let range = StatsRange::parse(range)?;
    let client = Arc::clone(&visit.client);
    let counts = recorder.record(visit).await?;
    metrics.visit_recorded(client.is_bot(), counts.is_new);
    let stats = cache.get(db, range).await?;
    Ok(Page::ok(DashboardTemplate {
        counts,
        client,
        stats,
        ranges: StatsRange::ALL
            .into_iter()
            .map(|r| RangeLink {
                range: r,
                selected: r == range,
            })
            .collect(),
        site: Some(site),
    }))
}

#[derive(Responder)]
#[response(content_type = "image/svg+xml")]
struct SvgImage {
    svg: String,
    cache_control: Header<'static>,
}

/// The chart alone, for an `<img>` elsewhere. Not a visit.
#[get("/chart.svg?<range>")]
async fn chart_svg(
    range: Option<&str>,
    db: &Db,
    cache: &State<StatsCache>,
) -> Result<SvgImage, AppError> {
    let range = StatsRange::parse(range)?;
    let stats = cache.get(db, range).await?;
    Ok(SvgImage {
        svg: stats.chart_svg().to_owned(),
        cache_control: Header::new("Cache-Control", "no-cache"),
    })
}

pub fn routes() -> Vec<Route> {
    routes![dashboard, chart_svg]
}
