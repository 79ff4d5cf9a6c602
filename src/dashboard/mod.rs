//! The dashboard every visitor sees at `/` (which records their visit), and
//! its chart on its own at `/chart.svg`.

mod chart;

use std::sync::Arc;

use askama::Template;
use moka::sync::Cache;
use rocket::{fairing::AdHoc, get, http::Header, routes, Responder, State};

use crate::{
    counting::{
        recorder::VisitRecorder, store::VisitCounts, user_agent::ClientInfo, visit::IncomingVisit,
    },
    infra::{
        database::Db,
        error::AppError,
        metrics::Metrics,
        page::{Layout, Page},
    },
    stats::{Stats, StatsCache, StatsRange},
};

use self::chart::{BarChart, ChartLayout};

/// `/` and `/chart.svg`, and the cache of drawn charts.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Dashboard", |rocket| async {
        rocket
            .manage(ChartCache::default())
            .mount("/", routes![dashboard, chart_svg])
    })
}

/// The chart of each range's current stats, drawn once per computation of
/// the numbers rather than for every page, and kept beside them (not inside:
/// `/api/stats` never draws it). Both layouts are drawn together: the page
/// shows both (one hidden by CSS), `/chart.svg` the wide one.
struct ChartCache {
    drawn: Cache<StatsRange, (Arc<Stats>, Charts)>,
}

/// One range's chart in both layouts.
#[derive(Clone)]
struct Charts {
    wide: Arc<str>,
    narrow: Arc<str>,
}

impl Default for ChartCache {
    fn default() -> Self {
        Self {
            drawn: Cache::new(StatsRange::ALL.len() as u64),
        }
    }
}

impl ChartCache {
    fn charts(&self, stats: &Arc<Stats>) -> Charts {
        if let Some((drawn_for, charts)) = self.drawn.get(&stats.range) {
            if Arc::ptr_eq(&drawn_for, stats) {
                return charts;
            }
        }
        let draw = |layout| -> Arc<str> {
            let title = format!(
                "Visits and unique visitors, {}",
                stats.range.label().to_lowercase()
            );
            BarChart::new(&stats.series, stats.granularity(), title, layout)
                .render()
                .expect("rendering numbers into a String cannot fail")
                .into()
        };
        let charts = Charts {
            wide: draw(ChartLayout::Wide),
            narrow: draw(ChartLayout::Narrow),
        };
        self.drawn
            .insert(stats.range, (Arc::clone(stats), charts.clone()));
        charts
    }
}

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
    /// The chart for wide screens, and the one for narrow screens.
    pub chart_svg: Arc<str>,
    pub chart_svg_narrow: Arc<str>,
    pub ranges: Vec<RangeLink>,
    pub layout: Option<&'a Layout>,
}

/// The range is checked before anything is recorded: a bad link is a 400
/// page, not a visit.
#[allow(clippy::too_many_arguments)]
#[get("/?<range>")]
async fn dashboard<'a>(
    range: Option<&str>,
    visit: IncomingVisit,
    recorder: &State<VisitRecorder>,
    db: &Db,
    cache: &State<StatsCache>,
    charts: &State<ChartCache>,
    metrics: &State<Metrics>,
    layout: &'a State<Layout>,
) -> Result<Page<DashboardTemplate<'a>>, AppError> {
    let range = StatsRange::parse(range)?;
    let client = Arc::clone(&visit.client);
    let counts = recorder.record(visit).await?;
    metrics.visit_recorded(client.is_bot(), counts.is_new);
    let stats = cache.get(db, range).await?;
    let charts = charts.charts(&stats);
    Ok(Page::ok(DashboardTemplate {
        counts,
        client,
        chart_svg: charts.wide,
        chart_svg_narrow: charts.narrow,
        stats,
        ranges: StatsRange::ALL
            .into_iter()
            .map(|r| RangeLink {
                range: r,
                selected: r == range,
            })
            .collect(),
        layout: Some(layout),
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
    charts: &State<ChartCache>,
) -> Result<SvgImage, AppError> {
    let range = StatsRange::parse(range)?;
    let stats = cache.get(db, range).await?;
    Ok(SvgImage {
        svg: charts.charts(&stats).wide.to_string(),
        cache_control: Header::new("Cache-Control", "no-cache"),
    })
}
