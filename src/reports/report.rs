//! One email report: a site's unique visitors and page views over a week or
//! a month with the change against the period before, and its top pages and
//! sources, as plain text and as HTML.

use askama::Template;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{
    period::{Cadence, Period},
    store::{self, Ranked},
};
use crate::{counting::site_id::SiteId, infra::config::RetentionDays, stats::figure::Figure};

/// How many pages and sources a report lists.
const TOP: i64 = 5;

/// What a report is about, and where its links go.
pub struct About {
    pub domain: String,
    pub cadence: Cadence,
    pub period: Period,
    pub dashboard: String,
    /// Where the reader changes which reports they get.
    pub choices: String,
}

/// Everything a report says.
pub struct Report {
    pub about: About,
    pub visitors: Figure,
    pub page_views: Figure,
    pub top_pages: Vec<Ranked>,
    pub top_sources: Vec<Ranked>,
    /// When raw visits older than retention are pruned and the period
    /// before starts earlier, its figures are partial: from when they hold.
    kept_since: Option<DateTime<Utc>>,
}

impl Report {
    /// Reads the report's figures from the raw visits.
    pub async fn load(
        pool: &PgPool,
        site: SiteId,
        about: About,
        retention: Option<RetentionDays>,
        now: DateTime<Utc>,
    ) -> Result<Self, sqlx::Error> {
        let previous = about.cadence.previous(about.period);
        let totals = store::totals(pool, site, previous, about.period).await?;
        let top_pages = store::top(pool, site, about.period, "page", TOP).await?;
        let top_sources = store::top(pool, site, about.period, "source", TOP).await?;
        let kept_since = retention
            .map(|days| now - chrono::TimeDelta::days(i64::from(days.days())))
            .filter(|since| *since > previous.start);
        Ok(Self {
            about,
            visitors: Figure {
                now: totals.visitors,
                before: totals.previous_visitors,
            },
            page_views: Figure {
                now: totals.page_views,
                before: totals.previous_page_views,
            },
            top_pages,
            top_sources,
            kept_since,
        })
    }
}

#[derive(Template)]
#[template(path = "reports/report.txt")]
struct TextReport<'a> {
    report: &'a Report,
}

#[derive(Template)]
#[template(path = "reports/report.html")]
struct HtmlReport<'a> {
    report: &'a Report,
}

impl Report {
    pub fn subject(&self) -> String {
        format!(
            "{}: {} unique visitors in {}",
            self.about.domain,
            self.visitors.now,
            self.label()
        )
    }

    pub fn text(&self) -> Result<String, askama::Error> {
        TextReport { report: self }.render()
    }

    pub fn html(&self) -> Result<String, askama::Error> {
        HtmlReport { report: self }.render()
    }

    fn label(&self) -> String {
        self.about.cadence.label(self.about.period)
    }

    /// The zone the period's days are the site's in, for "(Europe/Paris)".
    fn zone(&self) -> &'static str {
        self.about.period.zone.name()
    }

    /// Since when the raw visits are kept, on the site's clock.
    fn kept_since(&self) -> Option<String> {
        let since = self.kept_since?.with_timezone(&self.about.period.zone);
        Some(format!(
            "{} ({})",
            since.format("%-d %B %Y %H:%M"),
            self.zone()
        ))
    }

    /// The last day of the period, for "to 6 December".
    fn last_day(&self) -> String {
        self.about.period.last_day().format("%-d %B %Y").to_string()
    }
}
