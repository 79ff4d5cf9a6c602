//! Reading the dashboard's numbers. Everything but the last hour's
//! breakdowns, the page goals ending in `*` and filtered numbers comes from
//! the rollups, whose size depends on the number of buckets and values, not
//! of visits; those come from the raw visits.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::{Executor, PgExecutor, PgPool, Postgres, QueryBuilder, Transaction};

use crate::{
    counting::{
        goal::{Goal, GoalKind},
        site_id::SiteId,
    },
    infra::database::READ_DEADLINE,
    stats::{
        filter::{Dimension, Filters},
        range::Granularity,
    },
};

/// A time window of the raw visits: from, until before; unbounded where
/// `None`.
pub type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// One bucket of `visit_rollups`, summed over its shards.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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
    let mut sql = QueryBuilder::new(
        "SELECT d.dimension, d.value, count(DISTINCT e.visitor_key) AS unique_visitors,
                count(*) AS visits
         FROM visit_events e CROSS JOIN LATERAL visit_dimensions(e, NULL) d
         WHERE NOT e.is_bot AND ",
    );
    push_filtered_visits(&mut sql, site, window, filters);
    sql.push(" GROUP BY d.dimension, d.value");
    sql.build_query_as().fetch_all(db).await
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
    let mut sql = QueryBuilder::new(
        "SELECT bucket, sum(humans)::bigint AS visits, sum(bots)::bigint AS bot_visits,
                count(*) FILTER (WHERE humans > 0) AS arrivals,
                count(*) FILTER (WHERE bucket = latest) AS latest
         FROM (
             SELECT bucket, humans, bots,
                    max(bucket) FILTER (WHERE humans > 0) OVER (PARTITION BY visitor_key) AS latest
             FROM (
                 SELECT ",
    );
    if granularity == Granularity::Day {
        sql.push("date_trunc('day', e.visited_at, ")
            .push_bind(zone.name())
            .push(")");
    } else {
        sql.push("(date_trunc(")
            .push_bind(granularity.as_sql())
            .push(", e.visited_at AT TIME ZONE ")
            .push_bind(zone.name())
            .push(") - (e.visited_at AT TIME ZONE ")
            .push_bind(zone.name())
            .push(" - e.visited_at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC'");
    }
    sql.push(
        " AS bucket, e.visitor_key,
                        count(*) FILTER (WHERE NOT e.is_bot) AS humans,
                        count(*) FILTER (WHERE e.is_bot) AS bots
                 FROM visit_events e
                 WHERE e.event IS NULL AND ",
    );
    push_filtered_visits(&mut sql, site, window, filters);
    sql.push(
        " GROUP BY 1, 2
             ) per_visitor
         ) marked
         GROUP BY bucket ORDER BY bucket",
    );
    sql.build_query_as().fetch_all(db).await
}

/// One page's counts over a range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
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
    let mut sql = QueryBuilder::new(
        "SELECT count(DISTINCT e.visitor_key) AS unique_visitors, count(*) AS visits
         FROM visit_events e WHERE NOT e.is_bot AND e.event IS NULL AND ",
    );
    if let Some(prefix) = prefix {
        sql.push("starts_with(e.path, ")
            .push_bind(prefix)
            .push(") AND ");
    }
    push_filtered_visits(&mut sql, site, window, filters);
    sql.build_query_as().fetch_one(db).await
}

/// Begins the read-only, repeatable-read transaction that one computation
/// of the numbers reads in, so that they agree with each other; set for
/// reads of many raw visits: no JIT compilation (a quarter of a second per
/// statement at 4 million visits, more than it saves here), the memory to
/// sort a period's visitors without spilling to disk, and an end in
/// PostgreSQL itself a read's deadline after each statement starts: a read
/// the request gave up on stops soon after, rather than running on beside
/// the next one.
pub async fn begin_snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut snapshot = pool.begin().await?;
    snapshot
        .execute(&*format!(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;
             SET LOCAL jit = off; SET LOCAL work_mem = '64MB';
             SET LOCAL statement_timeout = {}",
            READ_DEADLINE.as_millis()
        ))
        .await?;
    Ok(snapshot)
}

/// Appends the condition that a raw visit `e` is the site's, in `window`,
/// and passes every filter. Each filter is a plain comparison of a column,
/// so that the planner estimates and orders them; an event's filter keeps
/// the visitors who completed that event in the window, all their visits.
fn push_filtered_visits<'q>(
    sql: &mut QueryBuilder<'q, Postgres>,
    site: SiteId,
    window: Window,
    filters: &Filters,
) {
    push_window(sql, "e", site, window);
    for filter in filters.iter() {
        if filter.dimension == Dimension::Event {
            sql.push(if filter.negated {
                " AND NOT EXISTS ("
            } else {
                " AND EXISTS ("
            });
            sql.push("SELECT FROM visit_events c WHERE c.visitor_key = e.visitor_key AND ");
            push_window(sql, "c", site, window);
            sql.push(" AND c.event = ")
                .push_bind(filter.value.clone())
                .push(")");
        } else {
            sql.push(" AND ")
                .push(visit_value(filter.dimension))
                .push(if filter.negated {
                    " IS DISTINCT FROM "
                } else {
                    " = "
                })
                .push_bind(filter.value.clone());
        }
    }
}

/// `alias.site_id = site` and the window's bounds on `alias.visited_at`:
/// the (site_id, visited_at) index's conditions.
fn push_window<'q>(
    sql: &mut QueryBuilder<'q, Postgres>,
    alias: &str,
    site: SiteId,
    window: Window,
) {
    sql.push(format_args!("{alias}.site_id = "))
        .push_bind(site.0);
    if let Some(since) = window.0 {
        sql.push(format_args!(" AND {alias}.visited_at >= "))
            .push_bind(since);
    }
    if let Some(until) = window.1 {
        sql.push(format_args!(" AND {alias}.visited_at < "))
            .push_bind(until);
    }
}

/// A raw visit `e`'s value of a dimension, as `visit_dimensions` names it:
/// the instance's own site has no pages.
fn visit_value(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Page => "CASE WHEN e.site_id <> 0 THEN e.path END",
        Dimension::Source => "e.source",
        Dimension::Referrer => "e.referrer_host",
        Dimension::UtmSource => "e.utm_source",
        Dimension::UtmMedium => "e.utm_medium",
        Dimension::UtmCampaign => "e.utm_campaign",
        Dimension::UtmTerm => "e.utm_term",
        Dimension::UtmContent => "e.utm_content",
        Dimension::Country => "e.country",
        Dimension::Browser => "e.browser",
        Dimension::Os => "e.os",
        Dimension::Device => "e.device",
        Dimension::Screen => "e.screen",
        Dimension::Event => "e.event",
    }
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
