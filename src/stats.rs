//! The dashboard's numbers for a time range: exact unique visitors, visits,
//! bot visits, visitors right now, a zero-filled series and breakdowns. The
//! same `Stats` feeds the page, the chart and `/api/stats`.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Serialize, Serializer};
use sqlx::PgPool;
use tokio::sync::Mutex;

use askama::Template;

use crate::{
    chart::BarChart,
    db::{self, BreakdownRow, BucketRow},
};

/// Breakdown tables list this many values, then one "Other" row.
const TOP_VALUES: usize = 10;
/// "Now" is the last five minutes, the current one included.
const CURRENT_MINUTES: i64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatsRange {
    LastHour,
    LastDay,
    LastWeek,
    LastMonth,
    AllTime,
}

/// A `?range=` value that is not one of `StatsRange::ALL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRange(pub String);

impl StatsRange {
    pub const ALL: [Self; 5] = [
        Self::LastHour,
        Self::LastDay,
        Self::LastWeek,
        Self::LastMonth,
        Self::AllTime,
    ];

    pub fn parse(value: Option<&str>) -> Result<Self, InvalidRange> {
        match value {
            None => Ok(Self::LastDay),
            Some(value) => Self::ALL
                .into_iter()
                .find(|range| range.as_str() == value)
                .ok_or_else(|| InvalidRange(value.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LastHour => "1h",
            Self::LastDay => "24h",
            Self::LastWeek => "7d",
            Self::LastMonth => "30d",
            Self::AllTime => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::LastHour => "Last hour",
            Self::LastDay => "Last 24 hours",
            Self::LastWeek => "Last 7 days",
            Self::LastMonth => "Last 30 days",
            Self::AllTime => "All time",
        }
    }

    pub fn granularity(self) -> Granularity {
        match self {
            Self::LastHour => Granularity::Minute,
            Self::LastDay => Granularity::Hour,
            Self::LastWeek | Self::LastMonth | Self::AllTime => Granularity::Day,
        }
    }

    /// How many buckets the range spans, the current one included; `None`
    /// for all time, which starts at the first recorded day.
    fn bucket_count(self) -> Option<i32> {
        match self {
            Self::LastHour => Some(60),
            Self::LastDay => Some(24),
            Self::LastWeek => Some(7),
            Self::LastMonth => Some(30),
            Self::AllTime => None,
        }
    }

    /// The start of the range's first bucket at `now`; ranges are whole
    /// buckets, so that every bar of the chart covers a full period.
    pub fn first_bucket(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let granularity = self.granularity();
        self.bucket_count()
            .map(|count| granularity.truncate(now) - granularity.step() * (count - 1))
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for StatsRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for StatsRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The width of one bar of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Minute,
    Hour,
    Day,
}

impl Granularity {
    /// The name `date_trunc` and the rollup tables use.
    pub fn as_sql(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }

    pub fn step(self) -> TimeDelta {
        match self {
            Self::Minute => TimeDelta::minutes(1),
            Self::Hour => TimeDelta::hours(1),
            Self::Day => TimeDelta::days(1),
        }
    }

    /// The start of the bucket holding `time` (UTC).
    pub fn truncate(self, time: DateTime<Utc>) -> DateTime<Utc> {
        time.duration_trunc(self.step())
            .expect("minutes, hours and days divide the UTC epoch evenly")
    }

    /// How the chart labels a bucket: `14:05`, `14:00` or `Nov 21`.
    pub fn label(self, start: DateTime<Utc>) -> String {
        match self {
            Self::Minute | Self::Hour => start.format("%H:%M").to_string(),
            Self::Day => start.format("%b %d").to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    pub start: DateTime<Utc>,
    pub visits: i64,
    pub unique_visitors: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakdownEntry {
    pub name: String,
    pub unique_visitors: i64,
    /// Percent of the range's unique visitors, one decimal.
    pub share: f64,
}

/// What `/api/stats` returns, and what the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub range: StatsRange,
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
    pub generated_at: DateTime<Utc>,
    /// The chart of `series`, kept with the (cached) numbers so that it is
    /// drawn once rather than for every page; `/api/stats` never draws it.
    #[serde(skip)]
    chart_svg: OnceLock<String>,
}

impl Stats {
    pub fn granularity(&self) -> Granularity {
        self.range.granularity()
    }

    pub fn chart_svg(&self) -> &str {
        self.chart_svg.get_or_init(|| {
            let title = format!(
                "Visits and unique visitors, {}",
                self.range.label().to_lowercase()
            );
            BarChart::new(&self.series, self.granularity(), title)
                .render()
                .expect("rendering numbers into a String cannot fail")
        })
    }
}

/// Reads the numbers of `range` as of the database's clock.
pub async fn load_stats(pool: &PgPool, range: StatsRange) -> Result<Stats, sqlx::Error> {
    let now = db::database_now(pool).await?;
    let granularity = range.granularity();
    let first_bucket = range.first_bucket(now);
    let rows = db::buckets(pool, granularity.as_sql(), first_bucket).await?;
    let from = first_bucket
        .or_else(|| rows.first().map(|row| row.bucket))
        .unwrap_or_else(|| granularity.truncate(now));

    let since_minute = Granularity::Minute.truncate(now) - TimeDelta::minutes(CURRENT_MINUTES - 1);
    let current_visitors = db::visitors_since(pool, since_minute).await?;
    let breakdowns = match granularity {
        Granularity::Minute => db::breakdowns_since(pool, from).await?,
        Granularity::Hour | Granularity::Day => {
            db::breakdowns(pool, granularity.as_sql(), first_bucket).await?
        }
    };

    let unique_visitors = rows.iter().map(|row| row.latest).sum();
    let mut by_dimension = split_by_dimension(breakdowns, unique_visitors);
    let mut take = |dimension: &str| by_dimension.remove(dimension).unwrap_or_default();
    Ok(Stats {
        range,
        from,
        to: now,
        unique_visitors,
        visits: rows.iter().map(|row| row.visits).sum(),
        bot_visits: rows.iter().map(|row| row.bot_visits).sum(),
        current_visitors,
        series: fill_series(&rows, from, now, granularity),
        browsers: take("browser"),
        os: take("os"),
        devices: take("device"),
        referrers: take("referrer"),
        generated_at: now,
        chart_svg: OnceLock::new(),
    })
}

/// One point per bucket from `from` to the bucket holding `now`; buckets
/// without visits are zeros, not gaps.
fn fill_series(
    rows: &[BucketRow],
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    granularity: Granularity,
) -> Vec<SeriesPoint> {
    let by_start: HashMap<DateTime<Utc>, &BucketRow> =
        rows.iter().map(|row| (row.bucket, row)).collect();
    let last = granularity.truncate(now);
    let mut series = Vec::new();
    let mut start = from;
    while start <= last {
        let row = by_start.get(&start);
        series.push(SeriesPoint {
            start,
            visits: row.map_or(0, |r| r.visits),
            unique_visitors: row.map_or(0, |r| r.arrivals),
        });
        start += granularity.step();
    }
    series
}

/// Top values per dimension, most visitors first, the rest folded into "Other".
fn split_by_dimension(
    rows: Vec<BreakdownRow>,
    unique_visitors: i64,
) -> HashMap<String, Vec<BreakdownEntry>> {
    let mut grouped: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for row in rows.into_iter().filter(|row| row.unique_visitors > 0) {
        grouped
            .entry(row.dimension)
            .or_default()
            .push((row.value, row.unique_visitors));
    }
    let share = |count: i64| {
        if unique_visitors == 0 {
            0.0
        } else {
            (count as f64 * 1000.0 / unique_visitors as f64).round() / 10.0
        }
    };
    grouped
        .into_iter()
        .map(|(dimension, mut values)| {
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let rest: i64 = values.iter().skip(TOP_VALUES).map(|(_, count)| count).sum();
            let mut entries: Vec<BreakdownEntry> = values
                .into_iter()
                .take(TOP_VALUES)
                .map(|(name, count)| BreakdownEntry {
                    name,
                    unique_visitors: count,
                    share: share(count),
                })
                .collect();
            if rest > 0 {
                entries.push(BreakdownEntry {
                    name: "Other".into(),
                    unique_visitors: rest,
                    share: share(rest),
                });
            }
            (dimension, entries)
        })
        .collect()
}

/// Keeps each range's stats for a short while per replica, so that a busy
/// dashboard costs the database one computation per range per period. One
/// request computes while the others for the same range wait for its answer.
pub struct StatsCache {
    ttl: Duration,
    slots: [Mutex<Option<CachedStats>>; StatsRange::ALL.len()],
}

/// Stats and when they were read.
type CachedStats = (Instant, Arc<Stats>);

impl StatsCache {
    /// A zero `ttl` turns caching off.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            slots: Default::default(),
        }
    }

    pub async fn get(&self, pool: &PgPool, range: StatsRange) -> Result<Arc<Stats>, sqlx::Error> {
        if self.ttl.is_zero() {
            return load_stats(pool, range).await.map(Arc::new);
        }
        let mut slot = self.slots[range.index()].lock().await;
        if let Some((fetched, stats)) = slot.as_ref() {
            if fetched.elapsed() < self.ttl {
                return Ok(Arc::clone(stats));
            }
        }
        let stats = Arc::new(load_stats(pool, range).await?);
        *slot = Some((Instant::now(), Arc::clone(&stats)));
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, h, m, s).unwrap()
    }

    #[test]
    fn ranges_parse_and_default_to_a_day() {
        assert_eq!(StatsRange::parse(None), Ok(StatsRange::LastDay));
        for range in StatsRange::ALL {
            assert_eq!(StatsRange::parse(Some(range.as_str())), Ok(range));
        }
        for bad in ["", "1d", "24H", "all ", "<script>"] {
            assert_eq!(StatsRange::parse(Some(bad)), Err(InvalidRange(bad.into())));
        }
    }

    #[test]
    fn ranges_are_whole_buckets_ending_with_the_current_one() {
        let now = at(14, 5, 42);
        assert_eq!(StatsRange::LastHour.first_bucket(now), Some(at(13, 6, 0)));
        assert_eq!(
            StatsRange::LastDay.first_bucket(now),
            Some(Utc.with_ymd_and_hms(2026, 11, 21, 15, 0, 0).unwrap())
        );
        assert_eq!(
            StatsRange::LastWeek.first_bucket(now),
            Some(Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 0).unwrap())
        );
        assert_eq!(
            StatsRange::LastMonth.first_bucket(now),
            Some(Utc.with_ymd_and_hms(2026, 10, 24, 0, 0, 0).unwrap())
        );
        assert_eq!(StatsRange::AllTime.first_bucket(now), None);
    }

    #[test]
    fn buckets_truncate_at_their_edges() {
        assert_eq!(Granularity::Minute.truncate(at(14, 5, 0)), at(14, 5, 0));
        assert_eq!(Granularity::Minute.truncate(at(14, 5, 59)), at(14, 5, 0));
        assert_eq!(Granularity::Hour.truncate(at(14, 59, 59)), at(14, 0, 0));
        assert_eq!(Granularity::Day.truncate(at(23, 59, 59)), at(0, 0, 0));
        assert_eq!(Granularity::Minute.label(at(14, 5, 0)), "14:05");
        assert_eq!(Granularity::Day.label(at(0, 0, 0)), "Nov 22");
    }

    #[test]
    fn empty_buckets_are_zeros_and_every_bucket_is_there() {
        let now = at(14, 5, 42);
        let from = StatsRange::LastHour.first_bucket(now).unwrap();
        let row = |bucket, visits, arrivals| BucketRow {
            bucket,
            visits,
            bot_visits: 0,
            arrivals,
            latest: arrivals,
        };
        let rows = [row(from, 3, 2), row(at(14, 5, 0), 1, 1)];
        let series = fill_series(&rows, from, now, Granularity::Minute);
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
            })
            .chain([BreakdownRow {
                dimension: "os".into(),
                value: "Linux".into(),
                unique_visitors: 78,
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
