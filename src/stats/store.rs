//! Reading the dashboard's numbers. Everything but the last hour's
//! breakdowns, the page goals ending in `*` and filtered numbers comes from
//! the rollups, whose size depends on the number of buckets and values, not
//! of visits; those come from the raw visits.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::PgExecutor;

use crate::{
    counting::{
        goal::{Goal, GoalKind},
        site_id::SiteId,
    },
    stats::{filter::Filters, range::Granularity},
};

/// A time window of the raw visits: from, until before; unbounded where
/// `None`.
pub type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// One bucket of `visit_rollups`, summed over its shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRow {
    pub bucket: DateTime<Utc>,
    pub visits: i64,
    pub bot_visits: i64,
    /// Unique visitors in this bucket.
    pub arrivals: i64,
    /// Visitors whose latest visit in the window falls in this bucket; summed
    /// over a window it is the window's exact unique visitors.
    pub latest: i64,
}

/// Unique visitors per value of a dimension (`browser`, `page`, `source`,
/// …: the migrations' `visit_dimensions`), and its page views or event
/// completions (zero for the others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownRow {
    pub dimension: String,
    pub value: String,
    pub unique_visitors: i64,
    pub visits: i64,
}

/// The site's buckets of `granularity` from `from` on; all of them when
/// `from` is `None`.
pub async fn buckets(
    db: impl PgExecutor<'_>,
    site: SiteId,
    granularity: Granularity,
    from: Option<DateTime<Utc>>,
) -> Result<Vec<BucketRow>, sqlx::Error> {
    sqlx::query_as!(
        BucketRow,
        r#"SELECT bucket, sum(visits)::bigint AS "visits!", sum(bot_visits)::bigint AS "bot_visits!",
                  sum(arrivals)::bigint AS "arrivals!",
                  sum(arrivals - departures)::bigint AS "latest!"
           FROM visit_rollups
           WHERE site_id = $3 AND granularity = $1 AND ($2::timestamptz IS NULL OR bucket >= $2)
           GROUP BY bucket ORDER BY bucket"#,
        granularity.as_sql(),
        from,
        site.0,
    )
    .fetch_all(db)
    .await
}

/// The site's exact unique visitors over the minute buckets from `from` on.
pub async fn visitors_since(
    db: impl PgExecutor<'_>,
    site: SiteId,
    from: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(sum(arrivals - departures), 0)::bigint AS "visitors!" FROM visit_rollups
           WHERE site_id = $3 AND granularity = $1 AND bucket >= $2"#,
        Granularity::Minute.as_sql(),
        from,
        site.0,
    )
    .fetch_one(db)
    .await
}

/// The site's breakdowns (every dimension of `visit_dimensions`) over the
/// hour or day buckets (minute buckets have none) from `from` on (all of
/// them when `None`), from the rollups.
pub async fn breakdowns(
    db: impl PgExecutor<'_>,
    site: SiteId,
    granularity: Granularity,
    from: Option<DateTime<Utc>>,
) -> Result<Vec<BreakdownRow>, sqlx::Error> {
    sqlx::query_as!(
        BreakdownRow,
        r#"SELECT dimension, value, sum(arrivals - departures)::bigint AS "unique_visitors!",
                  sum(visits)::bigint AS "visits!"
           FROM visitor_breakdowns
           WHERE site_id = $3 AND granularity = $1 AND ($2::timestamptz IS NULL OR bucket >= $2)
           GROUP BY dimension, value HAVING sum(arrivals - departures) > 0"#,
        granularity.as_sql(),
        from,
        site.0,
    )
    .fetch_all(db)
    .await
}

/// The same breakdowns from the raw visits in `window` that pass `filters`:
/// for the last hour, whose visits are bounded by an hour of traffic, not by
/// history, and for any filtered range or period in the past.
pub async fn raw_breakdowns(
    db: impl PgExecutor<'_>,
    site: SiteId,
    window: Window,
    filters: &Filters,
) -> Result<Vec<BreakdownRow>, sqlx::Error> {
    let (dimensions, values, negated) = filters.as_sql();
    sqlx::query_as!(
        BreakdownRow,
        r#"SELECT d.dimension AS "dimension!", d.value AS "value!",
                  count(DISTINCT e.visitor_key) AS "unique_visitors!", count(*) AS "visits!"
           FROM filtered_visits($1, $2, $3, $4, $5, $6) e CROSS JOIN LATERAL visit_dimensions(e, NULL) d
           WHERE NOT e.is_bot
           GROUP BY d.dimension, d.value"#,
        site.0,
        window.0,
        window.1,
        &dimensions,
        &values,
        &negated,
    )
    .fetch_all(db)
    .await
}

/// The site's buckets of `granularity` in `zone` over `window`, as
/// `buckets` gives them, counted from
/// the raw visits that pass `filters`. A day starts at its local midnight;
/// an hour where the offset at the visit puts it (so the hour repeated when
/// summer time ends is two buckets, as `Granularity::truncate_in` has it).
pub async fn raw_buckets(
    db: impl PgExecutor<'_>,
    site: SiteId,
    granularity: Granularity,
    zone: Tz,
    window: Window,
    filters: &Filters,
) -> Result<Vec<BucketRow>, sqlx::Error> {
    let (dimensions, values, negated) = filters.as_sql();
    sqlx::query_as!(
        BucketRow,
        r#"SELECT bucket AS "bucket!", sum(humans)::bigint AS "visits!", sum(bots)::bigint AS "bot_visits!",
                  count(*) FILTER (WHERE humans > 0) AS "arrivals!",
                  count(*) FILTER (WHERE bucket = latest) AS "latest!"
           FROM (
               SELECT bucket, humans, bots,
                      max(bucket) FILTER (WHERE humans > 0) OVER (PARTITION BY visitor_key) AS latest
               FROM (
                   SELECT CASE WHEN $7 = 'day' THEN date_trunc('day', e.visited_at, $8)
                               ELSE (date_trunc($7, e.visited_at AT TIME ZONE $8)
                                     - (e.visited_at AT TIME ZONE $8 - e.visited_at AT TIME ZONE 'UTC'))
                                    AT TIME ZONE 'UTC'
                          END AS bucket, e.visitor_key,
                          count(*) FILTER (WHERE NOT e.is_bot) AS humans,
                          count(*) FILTER (WHERE e.is_bot) AS bots
                   FROM filtered_visits($1, $2, $3, $4, $5, $6) e
                   WHERE e.event IS NULL
                   GROUP BY 1, 2
               ) per_visitor
           ) marked
           GROUP BY bucket ORDER BY bucket"#,
        site.0,
        window.0,
        window.1,
        &dimensions,
        &values,
        &negated,
        granularity.as_sql(),
        zone.name(),
    )
    .fetch_all(db)
    .await
}

/// One page's counts over a range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCounts {
    pub unique_visitors: i64,
    pub visits: i64,
}

/// The unique visitors and visits (page views) of one page of the site over
/// the hour or day buckets from `from` on, for a page's badge.
pub async fn page_counts(
    db: impl PgExecutor<'_>,
    site: SiteId,
    granularity: Granularity,
    from: Option<DateTime<Utc>>,
    path: &str,
) -> Result<PageCounts, sqlx::Error> {
    sqlx::query_as!(
        PageCounts,
        r#"SELECT coalesce(sum(arrivals - departures), 0)::bigint AS "unique_visitors!",
                  coalesce(sum(visits), 0)::bigint AS "visits!"
           FROM visitor_breakdowns
           WHERE site_id = $1 AND granularity = $2 AND ($3::timestamptz IS NULL OR bucket >= $3)
             AND dimension = 'page' AND value = $4"#,
        site.0,
        granularity.as_sql(),
        from,
        path,
    )
    .fetch_one(db)
    .await
}

/// The site's goals, in the order they were made.
pub async fn goals(db: impl PgExecutor<'_>, site: SiteId) -> Result<Vec<Goal>, sqlx::Error> {
    sqlx::query_as!(
        Goal,
        r#"SELECT kind AS "kind: GoalKind", pattern FROM goals WHERE site_id = $1 ORDER BY id"#,
        site.0,
    )
    .fetch_all(db)
    .await
}

/// The site's unique visitors and page views in `window` among the raw
/// visits that pass `filters`, of every page starting with `prefix` when
/// one is given: the last minutes under filters, and a page goal ending in
/// `*` (the raw visits hold those together, as no counter does).
pub async fn raw_totals(
    db: impl PgExecutor<'_>,
    site: SiteId,
    window: Window,
    prefix: Option<&str>,
    filters: &Filters,
) -> Result<PageCounts, sqlx::Error> {
    let (dimensions, values, negated) = filters.as_sql();
    sqlx::query_as!(
        PageCounts,
        r#"SELECT count(DISTINCT visitor_key) AS "unique_visitors!", count(*) AS "visits!"
           FROM filtered_visits($1, $2, $3, $4, $5, $6)
           WHERE NOT is_bot AND event IS NULL AND ($7::text IS NULL OR starts_with(path, $7))"#,
        site.0,
        window.0,
        window.1,
        &dimensions,
        &values,
        &negated,
        prefix,
    )
    .fetch_one(db)
    .await
}

/// A day of imported history (`visitors import`): its totals as the source
/// counted them, kept apart from the exact counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedDay {
    pub day: DateTime<Utc>,
    pub unique_visitors: i64,
    pub visits: i64,
}

/// The site's imported days from `from` on (all of them when `None`).
pub async fn imported_days(
    db: impl PgExecutor<'_>,
    site: SiteId,
    from: Option<DateTime<Utc>>,
) -> Result<Vec<ImportedDay>, sqlx::Error> {
    sqlx::query_as!(
        ImportedDay,
        r#"SELECT day, unique_visitors, coalesce(visits, 0) AS "visits!"
           FROM imported_counts
           WHERE site_id = $1 AND dimension = 'total' AND ($2::timestamptz IS NULL OR day >= $2)
           ORDER BY day"#,
        site.0,
        from,
    )
    .fetch_all(db)
    .await
}
