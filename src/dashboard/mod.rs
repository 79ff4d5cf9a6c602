//! The dashboards: the instance's own at `/` (which records the visit),
//! each site's at `/sites/DOMAIN` (which records nothing), the list of
//! public sites at `/sites`, and each one's chart alone as SVG.

mod change;
mod chart;
mod panels;

use std::sync::Arc;

use askama::Template;
use chrono::{DateTime, Utc};
use moka::sync::Cache;
use rocket::{
    fairing::AdHoc,
    get, head,
    http::{ContentType, Status},
    request::{FromRequest, Outcome},
    routes, Request, State,
};

use crate::{
    counting::{
        country::CountryLookup, recorder::VisitRecorder, site_id::SiteId, store::VisitCounts,
        user_agent::ClientInfo, visit::IncomingVisit,
    },
    infra::{
        database::{database_now, within_deadline, Db},
        error::AppError,
        page::{CrossSiteResource, Layout, NoReferrer, Page},
    },
    sites::{
        access::{Audience, SiteAccess},
        store::{self as site_store, ListedSite},
    },
    stats::{
        filter::{Dimension, Filters},
        range::Granularity,
        Period, Stats, StatsParams, StatsQuery, StatsRange, StatsReader,
    },
};

use self::{
    change::Changes,
    chart::{BarChart, ChartLayout},
    panels::{CampaignTab, FilterChip, FilterLinks, PanelRow},
};

/// The dashboards and their charts, and the cache of drawn charts.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Dashboard", |rocket| async {
        rocket.manage(ChartCache::default()).mount(
            "/",
            routes![
                dashboard,
                dashboard_head,
                chart_svg,
                site_dashboard,
                site_chart_svg,
                site_list
            ],
        )
    })
}

/// Charts of this many (site, question) pairs stay drawn.
const CACHED_CHARTS: u64 = 4096;

/// The chart of each question's current stats, drawn once per computation of
/// the numbers rather than for every page, and kept beside them (not inside:
/// `/api/stats` never draws it). Both layouts are drawn together: the page
/// shows both (one hidden by CSS), `/chart.svg` the wide one.
struct ChartCache {
    drawn: Cache<(SiteId, StatsQuery), (Arc<Stats>, Charts)>,
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
            drawn: Cache::new(CACHED_CHARTS),
        }
    }
}

impl ChartCache {
    fn charts(&self, site: SiteId, query: &StatsQuery, stats: &Arc<Stats>) -> Charts {
        let key = (site, query.clone());
        if let Some((drawn_for, charts)) = self.drawn.get(&key) {
            if Arc::ptr_eq(&drawn_for, stats) {
                return charts;
            }
        }
        let draw = |layout| -> Arc<str> {
            let title = format!(
                "Visits and unique visitors, {}",
                stats.period.label().to_lowercase()
            );
            let previous = stats.previous.as_ref().map_or(&[][..], |p| &p.series[..]);
            BarChart::new(
                &stats.series,
                previous,
                stats.granularity(),
                stats.time_zone,
                title,
                layout,
            )
            .render()
            .expect("rendering numbers into a String cannot fail")
            .into()
        };
        let charts = Charts {
            wide: draw(ChartLayout::Wide),
            narrow: draw(ChartLayout::Narrow),
        };
        self.drawn.insert(key, (Arc::clone(stats), charts.clone()));
        charts
    }
}

/// What drawing a dashboard takes from the server: the charts drawn, the
/// layout, whether countries are known.
struct ViewParts<'r> {
    charts: &'r ChartCache,
    layout: &'r Layout,
    countries: &'r CountryLookup,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ViewParts<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let rocket = request.rocket();
        match (
            rocket.state::<ChartCache>(),
            rocket.state::<Layout>(),
            rocket.state::<CountryLookup>(),
        ) {
            (Some(charts), Some(layout), Some(countries)) => Outcome::Success(Self {
                charts,
                layout,
                countries,
            }),
            // A stage is missing: a mistake in assembling the server.
            _ => Outcome::Error((Status::InternalServerError, ())),
        }
    }
}

/// A link of the period selector.
pub struct RangeLink {
    pub period: Period,
    pub href: String,
    pub selected: bool,
}

/// The form that asks for any days: plain date inputs, and what the page's
/// links keep as hidden fields.
pub struct DaysForm {
    pub action: String,
    pub token: Option<String>,
    pub filters: Vec<String>,
    /// The days shown now, as the inputs' values (`2026-11-01`).
    pub from: String,
    pub to: String,
}

/// Where a dashboard's own links point: its page, chart and JSON, and the
/// share token that opened it (kept in every link, never sent onwards:
/// those pages answer with `Referrer-Policy: no-referrer`), and the question
/// it answers, which its links keep or change.
struct DashboardLinks {
    page: String,
    chart: String,
    json: String,
    token: Option<String>,
    query: StatsQuery,
}

impl DashboardLinks {
    fn href(&self, base: &str, period: Period, filters: &Filters) -> String {
        format!(
            "{}{}{}",
            self.query_prefix(base),
            period.query(),
            filters.query()
        )
    }

    fn query_prefix(&self, base: &str) -> String {
        query_prefix(base, self.token.as_deref())
    }
}

/// `base` with what every link keeps, ready for one more parameter.
fn query_prefix(base: &str, token: Option<&str>) -> String {
    match token {
        Some(token) => format!("{base}?token={token}&"),
        None => format!("{base}?"),
    }
}

/// Whose dashboard it is.
#[derive(Clone, Copy)]
enum Dashboard<'a> {
    /// The instance's own page: one page, its referrers.
    Instance,
    /// A site's: its pages, sources, campaigns, goals, events.
    Site { domain: &'a str },
}

impl FilterLinks for DashboardLinks {
    fn to(&self, filters: &Filters) -> String {
        self.href(&self.page, self.query.period, filters)
    }
}

/// What every dashboard shows of a range: the numbers, the chart and the
/// links, the same for the instance and for a site.
pub struct StatsView {
    pub stats: Arc<Stats>,
    /// The site's domain (for the goals' hint); empty on the instance's.
    pub domain: String,
    pub filters: Vec<FilterChip>,
    /// The headline numbers against the previous period.
    pub changes: Changes,
    pub panels: Panels,
    /// What the Countries panel says when it is empty.
    pub countries_empty: &'static str,
    /// The chart for wide screens, and the one for narrow screens.
    pub chart_svg: Arc<str>,
    pub chart_svg_narrow: Arc<str>,
    pub ranges: Vec<RangeLink>,
    pub days: DaysForm,
    pub chart_href: String,
    pub json_href: String,
    /// A site's dashboard: pages, sources, campaigns, goals, events and
    /// screens (the instance's own dashboard is one page, with referrers).
    pub is_site: bool,
    /// Days of the range imported from elsewhere, and their visits.
    pub imported: Option<ImportedSummary>,
}

/// Each breakdown's rows as its panel shows them.
pub struct Panels {
    pub pages: Vec<PanelRow>,
    pub sources: Vec<PanelRow>,
    pub campaigns: Vec<CampaignTab>,
    pub countries: Vec<PanelRow>,
    pub events: Vec<PanelRow>,
    pub browsers: Vec<PanelRow>,
    pub os: Vec<PanelRow>,
    pub devices: Vec<PanelRow>,
    pub screens: Vec<PanelRow>,
    pub referrers: Vec<PanelRow>,
}

impl Panels {
    fn new(stats: &Stats, links: &DashboardLinks) -> Self {
        let filters = &stats.filters;
        let rows = |entries, dimension| panels::rows(entries, dimension, filters, links);
        Self {
            pages: rows(&stats.pages, Dimension::Page),
            sources: rows(&stats.sources, Dimension::Source),
            campaigns: panels::campaign_tabs(&stats.campaigns, filters, links),
            countries: rows(&stats.countries, Dimension::Country),
            events: rows(&stats.events, Dimension::Event),
            browsers: rows(&stats.browsers, Dimension::Browser),
            os: rows(&stats.os, Dimension::Os),
            devices: rows(&stats.devices, Dimension::Device),
            screens: rows(&stats.screens, Dimension::Screen),
            referrers: rows(&stats.referrers, Dimension::Referrer),
        }
    }
}

pub struct ImportedSummary {
    pub days: usize,
    pub visits: i64,
}

impl StatsView {
    fn new(
        stats: Arc<Stats>,
        charts: Charts,
        links: &DashboardLinks,
        dashboard: Dashboard<'_>,
        countries: &CountryLookup,
    ) -> Self {
        let period = stats.period;
        let filters = &stats.filters;
        let local_day = |time: DateTime<Utc>| {
            time.with_timezone(&stats.time_zone)
                .date_naive()
                .to_string()
        };
        let imported: Vec<i64> = stats
            .series
            .iter()
            .filter_map(|point| point.imported.map(|day| day.visits))
            .collect();
        Self {
            imported: (!imported.is_empty()).then(|| ImportedSummary {
                days: imported.len(),
                visits: imported.iter().sum(),
            }),
            ranges: Period::PRESETS
                .into_iter()
                .map(|preset| RangeLink {
                    period: preset,
                    href: links.href(&links.page, preset, filters),
                    selected: preset == period,
                })
                .collect(),
            days: DaysForm {
                action: links.page.clone(),
                token: links.token.clone(),
                filters: filters.iter().map(ToString::to_string).collect(),
                from: local_day(stats.from),
                to: local_day(stats.series.last().map_or(stats.from, |point| point.start)),
            },
            chart_href: links.href(&links.chart, period, filters),
            json_href: links.href(&links.json, period, filters),
            chart_svg: charts.wide,
            chart_svg_narrow: charts.narrow,
            domain: match dashboard {
                Dashboard::Site { domain } => domain.to_owned(),
                Dashboard::Instance => String::new(),
            },
            filters: panels::chips(filters, links),
            changes: Changes::of(&stats),
            panels: Panels::new(&stats, links),
            countries_empty: if countries.source().is_some() {
                "No visitor's country is known in this range."
            } else {
                "Countries are off: no country database (GEOIP_DB; the image has one) and no CDN \
                 header (COUNTRY_HEADER)."
            },
            is_site: matches!(dashboard, Dashboard::Site { .. }),
            stats,
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardTemplate<'a> {
    pub counts: VisitCounts,
    /// How this visitor's User-Agent was read; it comes from the request.
    pub client: Arc<ClientInfo>,
    pub view: StatsView,
    pub layout: Option<&'a Layout>,
}

/// The range and filters are checked before anything is recorded: a bad
/// link is a 400 page, not a visit.
#[get("/?<params..>")]
async fn dashboard<'a>(
    params: StatsParams<'_>,
    visit: IncomingVisit,
    recorder: &State<VisitRecorder>,
    stats: StatsReader<'_>,
    view: ViewParts<'a>,
) -> Result<Page<DashboardTemplate<'a>>, AppError> {
    let query = StatsQuery::parse(&params)?;
    let client = Arc::clone(&visit.client);
    let counts = recorder.record(visit).await?;
    let stats = recorder.answer(&counts, stats.get(SiteId::INSTANCE, &query).await)?;
    let drawn = view.charts.charts(SiteId::INSTANCE, &query, &stats);
    let links = DashboardLinks {
        page: "/".into(),
        chart: "/chart.svg".into(),
        json: "/api/stats".into(),
        token: None,
        query,
    };
    Ok(Page::ok(DashboardTemplate {
        counts,
        client,
        view: StatsView::new(stats, drawn, &links, Dashboard::Instance, view.countries),
        layout: Some(view.layout),
    }))
}

/// `HEAD /` (an uptime monitor, a link checker) is answered as `GET /`
/// would be, without the page, and records nothing.
#[head("/?<params..>")]
fn dashboard_head(params: StatsParams<'_>) -> Result<(ContentType, ()), AppError> {
    StatsQuery::parse(&params)?;
    Ok((ContentType::HTML, ()))
}

/// A chart, usable as an `<img>` on other sites; always fresh.
fn svg_image(svg: &str) -> CrossSiteResource<String> {
    CrossSiteResource::new(svg.to_owned(), ContentType::SVG, "no-cache")
}

/// The chart alone, for an `<img>` elsewhere. Not a visit.
#[get("/chart.svg?<params..>")]
async fn chart_svg(
    params: StatsParams<'_>,
    stats: StatsReader<'_>,
    charts: &State<ChartCache>,
) -> Result<CrossSiteResource<String>, AppError> {
    let query = StatsQuery::parse(&params)?;
    let stats = stats.get(SiteId::INSTANCE, &query).await?;
    Ok(svg_image(
        &charts.charts(SiteId::INSTANCE, &query, &stats).wide,
    ))
}

#[derive(Template)]
#[template(path = "site.html")]
pub struct SiteTemplate<'a> {
    pub domain: String,
    pub public: bool,
    pub view: StatsView,
    pub layout: Option<&'a Layout>,
}

/// A site's dashboard; reading it records nothing. A private site is a 404
/// without its token (or the admin token), like a site that does not exist.
#[get("/sites/<domain>?<token>&<params..>")]
async fn site_dashboard<'a>(
    domain: &str,
    token: Option<&str>,
    params: StatsParams<'_>,
    access: SiteAccess<'_>,
    stats: StatsReader<'_>,
    view: ViewParts<'a>,
) -> Result<NoReferrer<Page<SiteTemplate<'a>>>, AppError> {
    let readable = access.open(domain, token, Audience::Dashboard).await?;
    let site = &readable.site;
    let name = site.name().to_owned();
    let page = format!("/sites/{name}");
    let token = readable.token.clone();
    let query = StatsQuery::parse(&params)
        .map_err(|invalid| invalid.on_page(query_prefix(&page, token.as_deref())))?
        .in_zone(site.time_zone);
    let stats = stats.get(site.id, &query).await?;
    let drawn = view.charts.charts(site.id, &query, &stats);
    let links = DashboardLinks {
        chart: format!("{page}/chart.svg"),
        json: format!("/api/sites/{name}/stats"),
        page,
        token,
        query,
    };
    let dashboard = Dashboard::Site { domain: &name };
    Ok(NoReferrer::new(Page::ok(SiteTemplate {
        public: site.is_public(),
        view: StatsView::new(stats, drawn, &links, dashboard, view.countries),
        domain: name,
        layout: Some(view.layout),
    })))
}

#[get("/sites/<domain>/chart.svg?<token>&<params..>")]
async fn site_chart_svg(
    domain: &str,
    token: Option<&str>,
    params: StatsParams<'_>,
    access: SiteAccess<'_>,
    stats: StatsReader<'_>,
    charts: &State<ChartCache>,
) -> Result<NoReferrer<CrossSiteResource<String>>, AppError> {
    let readable = access.open(domain, token, Audience::Dashboard).await?;
    let query = StatsQuery::parse(&params)?.in_zone(readable.site.time_zone);
    let stats = stats.get(readable.site.id, &query).await?;
    Ok(NoReferrer::new(svg_image(
        &charts.charts(readable.site.id, &query, &stats).wide,
    )))
}

#[derive(Template)]
#[template(path = "sites.html")]
pub struct SitesTemplate<'a> {
    pub sites: Vec<ListedSite>,
    pub layout: Option<&'a Layout>,
}

/// The public sites, with their unique visitors over the last 30 days.
#[get("/sites")]
async fn site_list<'a>(
    db: &Db,
    layout: &'a State<Layout>,
) -> Result<Page<SitesTemplate<'a>>, AppError> {
    let now = within_deadline(database_now(&**db)).await?;
    let from = StatsRange::LastMonth
        .first_bucket(now)
        .unwrap_or_else(|| Granularity::Day.truncate(now));
    Ok(Page::ok(SitesTemplate {
        sites: within_deadline(site_store::public_sites(db, from)).await?,
        layout: Some(layout),
    }))
}
