//! The dashboard's numbers for a time range: exact unique visitors, visits,
//! bot visits, visitors right now, a zero-filled series and breakdowns. The
//! same `Stats` feeds the page, the chart and `/api/stats`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sqlx::PgPool;

use crate::{
    counting::{goal::GoalKind, site_id::SiteId},
    infra::{config::RetentionDays, database::database_now},
    stats::{
        filter::Filters,
        period::Period,
        query::StatsQuery,
        range::Granularity,
        store::{self, BreakdownRow, BucketRow, ImportedDay, PageCounts},
    },
};

/// Breakdown tables list this many values, then one "Other" row.
const TOP_VALUES: usize = 10;
/// "Now" is the last five minutes, the current one included.
const CURRENT_MINUTES: i64 = 5;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    pub start: DateTime<Utc>,
    pub visits: i64,
    pub unique_visitors: i64,
    /// History imported for this day from elsewhere; not in the exact
    /// counts, so shown beside them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported: Option<ImportedCounts>,
}

/// A day's totals as the source of an import counted them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImportedCounts {
    pub visits: i64,
    pub unique_visitors: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakdownEntry {
    pub name: String,
    pub unique_visitors: i64,
    /// Percent of the range's unique visitors, one decimal.
    pub share: f64,
    /// A page's views, an event's completions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visits: Option<i64>,
    /// The "Other" row: the values past the top ones, which no filter names.
    #[serde(skip)]
    pub folded: bool,
}

/// The five UTM fields' breakdowns.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Campaigns {
    pub utm_source: Vec<BreakdownEntry>,
    pub utm_medium: Vec<BreakdownEntry>,
    pub utm_campaign: Vec<BreakdownEntry>,
    pub utm_term: Vec<BreakdownEntry>,
    pub utm_content: Vec<BreakdownEntry>,
}

/// A goal's numbers over the range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalEntry {
    pub kind: GoalKind,
    pub pattern: String,
    /// Unique visitors who completed it.
    pub converters: i64,
    /// The events, or page views, that completed it.
    pub completions: i64,
    /// Converters in percent of the range's unique visitors, one decimal.
    pub conversion_rate: f64,
    /// For a page goal ending in `*`, counted from the raw visits: where
    /// the range starts before the oldest one kept, the time they start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counted_since: Option<DateTime<Utc>>,
}

/// The period before the range, of the same length and up to the same time
/// of its day (or hour), for the change against it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviousPeriod {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub unique_visitors: i64,
    pub visits: i64,
    /// Its visits per bucket, the first beside the range's first: what the
    /// chart draws over the bars.
    pub series: Vec<i64>,
}

/// What `/api/stats` returns, and what the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// The period, named as `?range=` names it (`custom` for days).
    #[serde(rename = "range")]
    pub period: Period,
    /// The site's time zone, which the period's days and the series'
    /// buckets follow (`Europe/Berlin`).
    pub time_zone: Tz,
    /// What the numbers are narrowed to; none is the whole site.
    pub filters: Filters,
    /// Filtered numbers, and those of a period that has ended, are counted
    /// from the raw visits: where the period starts before the oldest one
    /// kept (`RAW_VISITS_RETENTION_DAYS`), the time they start, for the page
    /// to say so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_visits_since: Option<DateTime<Utc>>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub unique_visitors: i64,
    pub visits: i64,
    pub bot_visits: i64,
    pub current_visitors: i64,
    pub series: Vec<SeriesPoint>,
    pub browsers: Vec<BreakdownEntry>,
    pub os: Vec<BreakdownEntry>,
    pub devices: Vec<BreakdownEntry>,
    pub referrers: Vec<BreakdownEntry>,
    /// Paths of the site by unique visitors.
    pub pages: Vec<BreakdownEntry>,
    pub countries: Vec<BreakdownEntry>,
    /// Where a site's visitors came from (its script's referrer, its
    /// campaign's source).
    pub sources: Vec<BreakdownEntry>,
    pub campaigns: Campaigns,
    pub screens: Vec<BreakdownEntry>,
    pub events: Vec<BreakdownEntry>,
    pub goals: Vec<GoalEntry>,
    /// The previous period's numbers, counted from the raw visits; none for
    /// all time, and where that period reaches past the raw visits kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousPeriod>,
    /// True when counting the previous period took longer than a read may
    /// (a big site's raw visits): the numbers are shown without it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub previous_left_out: bool,
    /// Imported days of the period that a filter or a time zone other than
    /// UTC leaves out (they are UTC days' totals).
    #[serde(skip_serializing_if = "is_zero")]
    pub imported_days_left_out: usize,
    pub generated_at: DateTime<Utc>,
}

impl Stats {
    pub fn granularity(&self) -> Granularity {
        self.period.granularity()
    }
}

/// Reads the site's numbers of the query's period under its filters as of
/// the database's clock, all from one snapshot: the totals, the series and
/// the breakdowns agree with each other even while visits are being
/// recorded. A period up to now, unfiltered, in UTC, reads the rollups
/// (whose buckets are UTC's); a filtered one, one that ended or one in
/// another time zone, the raw visits.
pub async fn load_stats(
    pool: &PgPool,
    site: SiteId,
    query: &StatsQuery,
    retention: Option<RetentionDays>,
) -> Result<Stats, sqlx::Error> {
    let StatsQuery {
        period,
        ref filters,
        zone,
    } = *query;
    let mut snapshot = store::begin_snapshot(pool).await?;
    let db = &mut *snapshot;
    let now = database_now(&mut *db).await?;
    let granularity = period.granularity();
    let (first_bucket, end) = period.bounds(now, zone);
    let filtered = !filters.is_empty();
    let raw = filtered || end.is_some() || zone != Tz::UTC;
    let window = (first_bucket, end);
    let rows = if raw {
        store::raw_buckets(&mut *db, site, granularity, zone, window, filters).await?
    } else {
        store::buckets(&mut *db, site, granularity, first_bucket).await?
    };
    // Imported days are UTC days, named by their dates: those of the
    // period's dates (its local midnights) are its own.
    let date_in_utc = |time: DateTime<Utc>| {
        time.with_timezone(&zone)
            .date_naive()
            .and_time(NaiveTime::MIN)
            .and_utc()
    };
    let mut imported = match granularity {
        Granularity::Day => {
            store::imported_days(&mut *db, site, first_bucket.map(date_in_utc)).await?
        }
        _ => Vec::new(),
    };
    imported.retain(|day| end.is_none_or(|end| day.day < date_in_utc(end)));
    // Imported history is UTC days' totals only: no filter or other time
    // zone can apply to it, so it is left out and counted for the page.
    let imported_days_left_out = if filtered || zone != Tz::UTC {
        std::mem::take(&mut imported).len()
    } else {
        0
    };
    // All time starts at the first day counted here or imported.
    let from = first_bucket
        .or_else(|| {
            let counted = rows.first().map(|row| row.bucket);
            let imported = imported.first().map(|day| day.day);
            counted.into_iter().chain(imported).min()
        })
        .unwrap_or_else(|| granularity.truncate_in(now, zone));

    let since_minute = Granularity::Minute.truncate(now) - TimeDelta::minutes(CURRENT_MINUTES - 1);
    let current_visitors = if filtered {
        store::raw_totals(&mut *db, site, (Some(since_minute), None), None, filters)
            .await?
            .unique_visitors
    } else {
        store::visitors_since(&mut *db, site, since_minute).await?
    };
    // Minute buckets have no breakdowns: the last hour reads its visits.
    let breakdowns = if raw || granularity == Granularity::Minute {
        store::raw_breakdowns(&mut *db, site, window, filters).await?
    } else {
        store::breakdowns(&mut *db, site, granularity, first_bucket).await?
    };
    let unique_visitors = rows.iter().map(|row| row.latest).sum();
    let last_bucket = last_bucket(granularity, zone, end, now);
    // Raw visits older than the retention are gone: what is counted from
    // them counts from the oldest one kept.
    let kept_since =
        oldest_kept(retention, now).filter(|kept| first_bucket.is_none_or(|from| from < *kept));
    let mut goals = Vec::new();
    for goal in store::goals(&mut *db, site).await? {
        let (counts, counted_since) = match goal.page_prefix() {
            Some(prefix) => {
                let counts =
                    store::raw_totals(&mut *db, site, window, Some(prefix), filters).await?;
                (counts, kept_since)
            }
            None => {
                let counts = breakdowns
                    .iter()
                    .find(|row| row.dimension == goal.kind.as_str() && row.value == goal.pattern)
                    .map_or(PageCounts::default(), |row| PageCounts {
                        unique_visitors: row.unique_visitors,
                        visits: row.visits,
                    });
                (counts, kept_since.filter(|_| raw))
            }
        };
        goals.push(GoalEntry {
            kind: goal.kind,
            pattern: goal.pattern,
            converters: counts.unique_visitors,
            completions: counts.visits,
            conversion_rate: percent(counts.unique_visitors, unique_visitors),
            counted_since,
        });
    }
    snapshot.commit().await?;

    let mut by_dimension = split_by_dimension(breakdowns, unique_visitors);
    let mut take = |dimension: &str| by_dimension.remove(dimension).unwrap_or_default();
    Ok(Stats {
        period,
        raw_visits_since: kept_since.filter(|_| raw),
        time_zone: zone,
        filters: filters.clone(),
        from,
        to: end.unwrap_or(now),
        unique_visitors,
        visits: rows.iter().map(|row| row.visits).sum(),
        bot_visits: rows.iter().map(|row| row.bot_visits).sum(),
        current_visitors,
        series: fill_series(&rows, &imported, from, last_bucket, granularity, zone),
        browsers: take("browser"),
        os: take("os"),
        devices: take("device"),
        referrers: take("referrer"),
        pages: take("page"),
        countries: take("country"),
        sources: take("source"),
        campaigns: Campaigns {
            utm_source: take("utm_source"),
            utm_medium: take("utm_medium"),
            utm_campaign: take("utm_campaign"),
            utm_term: take("utm_term"),
            utm_content: take("utm_content"),
        },
        screens: take("screen"),
        events: take("event"),
        goals,
        previous: None,
        previous_left_out: false,
        imported_days_left_out,
        generated_at: now,
    })
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// The oldest raw visit's time that the retention keeps at `now`.
fn oldest_kept(retention: Option<RetentionDays>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    retention.map(|days| now - TimeDelta::days(i64::from(days.days())))
}

/// The numbers of the period before the query's at `now` (a whole
/// minute), counted from the raw visits that pass its filters
/// (`Period::previous`). None for all time, and where that period reaches
/// past the raw visits kept. A past period's numbers do not change, so one
/// computation serves a minute's dashboards.
pub async fn load_previous(
    pool: &PgPool,
    site: SiteId,
    query: &StatsQuery,
    now: DateTime<Utc>,
    retention: Option<RetentionDays>,
) -> Result<Option<PreviousPeriod>, sqlx::Error> {
    let Some((from, to)) = query.period.previous(now, query.zone) else {
        return Ok(None);
    };
    if oldest_kept(retention, now).is_some_and(|kept| from < kept) {
        return Ok(None);
    }
    let granularity = query.period.granularity();
    let window = (Some(from), Some(to));
    let mut snapshot = store::begin_snapshot(pool).await?;
    let rows = store::raw_buckets(
        &mut *snapshot,
        site,
        granularity,
        query.zone,
        window,
        &query.filters,
    )
    .await?;
    snapshot.commit().await?;
    // As many buckets as the range: like it, up to the one holding its end
    // while the range runs to now.
    let ended = query.period.bounds(now, query.zone).1.is_some();
    let last = last_bucket(granularity, query.zone, ended.then_some(to), to);
    Ok(Some(PreviousPeriod {
        from,
        to,
        unique_visitors: rows.iter().map(|row| row.latest).sum(),
        visits: rows.iter().map(|row| row.visits).sum(),
        series: fill_series(&rows, &[], from, last, granularity, query.zone)
            .into_iter()
            .map(|point| point.visits)
            .collect(),
    }))
}

/// The start of a period's last bucket: the last whole one before `end`
/// when it ended, else the one holding `now`.
fn last_bucket(
    granularity: Granularity,
    zone: Tz,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    granularity.truncate_in(end.map_or(now, |end| end - TimeDelta::seconds(1)), zone)
}

/// One point per bucket of `zone` from `from` to the one starting at
/// `last`; buckets without visits are zeros, not gaps. `rows` are in order,
/// each counted in the bucket its start falls in.
fn fill_series(
    rows: &[BucketRow],
    imported: &[ImportedDay],
    from: DateTime<Utc>,
    last: DateTime<Utc>,
    granularity: Granularity,
    zone: Tz,
) -> Vec<SeriesPoint> {
    let imported: HashMap<DateTime<Utc>, &ImportedDay> =
        imported.iter().map(|day| (day.day, day)).collect();
    let mut rows = rows.iter().skip_while(|row| row.bucket < from).peekable();
    let mut series = Vec::new();
    let mut start = from;
    while start <= last {
        let next = granularity.next_in(start, zone);
        let (mut visits, mut unique_visitors) = (0, 0);
        while let Some(row) = rows.next_if(|row| row.bucket < next) {
            visits += row.visits;
            unique_visitors += row.arrivals;
        }
        series.push(SeriesPoint {
            start,
            visits,
            unique_visitors,
            imported: imported.get(&start).map(|day| ImportedCounts {
                visits: day.visits,
                unique_visitors: day.unique_visitors,
            }),
        });
        start = next;
    }
    series
}

/// `part` in percent of `whole`, one decimal; 0 of nothing.
fn percent(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// Dimensions whose values carry a count of their own: page views, event
/// completions.
const WITH_VISITS: [&str; 2] = ["page", "event"];

/// Top values per dimension, most visitors first, the rest folded into "Other".
fn split_by_dimension(
    rows: Vec<BreakdownRow>,
    unique_visitors: i64,
) -> HashMap<String, Vec<BreakdownEntry>> {
    let mut grouped: HashMap<String, Vec<BreakdownRow>> = HashMap::new();
    for row in rows.into_iter().filter(|row| row.unique_visitors > 0) {
        grouped.entry(row.dimension.clone()).or_default().push(row);
    }
    grouped
        .into_iter()
        .map(|(dimension, mut values)| {
            let with_visits = WITH_VISITS.contains(&dimension.as_str());
            let entry = |name: String, visitors: i64, visits: i64, folded: bool| BreakdownEntry {
                name,
                unique_visitors: visitors,
                share: percent(visitors, unique_visitors),
                visits: with_visits.then_some(visits),
                folded,
            };
            values.sort_by(|a, b| {
                b.unique_visitors
                    .cmp(&a.unique_visitors)
                    .then_with(|| a.value.cmp(&b.value))
            });
            let rest = values.split_off(TOP_VALUES.min(values.len()));
            let mut entries: Vec<BreakdownEntry> = values
                .into_iter()
                .map(|row| entry(row.value, row.unique_visitors, row.visits, false))
                .collect();
            if !rest.is_empty() {
                entries.push(entry(
                    "Other".into(),
                    rest.iter().map(|row| row.unique_visitors).sum(),
                    rest.iter().map(|row| row.visits).sum(),
                    true,
                ));
            }
            (dimension, entries)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::range::at;

    #[test]
    fn empty_buckets_are_zeros_and_every_bucket_is_there() {
        let now = at(14, 5, 42);
        let from = crate::stats::range::StatsRange::LastHour
            .first_bucket(now)
            .unwrap();
        let row = |bucket, visits, arrivals| BucketRow {
            bucket,
            visits,
            bot_visits: 0,
            arrivals,
            latest: arrivals,
        };
        let rows = [row(from, 3, 2), row(at(14, 5, 0), 1, 1)];
        let series = fill_series(&rows, &[], from, at(14, 5, 0), Granularity::Minute, Tz::UTC);
        assert_eq!(series.len(), 60);
        assert_eq!(
            (series[0].start, series[0].visits, series[0].unique_visitors),
            (from, 3, 2)
        );
        assert!(series[1..59]
            .iter()
            .all(|p| p.visits == 0 && p.unique_visitors == 0));
        assert_eq!((series[59].start, series[59].visits), (at(14, 5, 0), 1));
    }

    #[test]
    fn breakdowns_keep_the_top_ten_and_fold_the_rest() {
        let rows = (1..=12)
            .map(|i| BreakdownRow {
                dimension: "browser".into(),
                value: format!("B{i:02}"),
                unique_visitors: i,
                visits: 0,
            })
            .chain([BreakdownRow {
                dimension: "os".into(),
                value: "Linux".into(),
                unique_visitors: 78,
                visits: 0,
            }])
            .collect();
        let split = split_by_dimension(rows, 78);
        let browsers = &split["browser"];
        assert_eq!(browsers.len(), 11);
        assert_eq!(
            (browsers[0].name.as_str(), browsers[0].unique_visitors),
            ("B12", 12)
        );
        assert_eq!(
            (browsers[10].name.as_str(), browsers[10].unique_visitors),
            ("Other", 3)
        );
        assert_eq!(browsers[10].share, 3.8);
        assert_eq!(split["os"][0].share, 100.0);
    }
}
