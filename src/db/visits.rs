//! Recording a visit: one statement, one round trip, one commit.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::identity::VisitorKey;

/// Counter rows per bucket; a visitor always lands on the same one. The
/// migration's `visitor_shard()` is the same rule.
const SHARDS: u8 = 64;

/// What is stored about one visit; nothing here identifies the person.
#[derive(Debug, Clone)]
pub struct NewVisit<'a> {
    pub visitor: VisitorKey,
    pub path: &'a str,
    pub browser: &'a str,
    pub os: &'a str,
    pub device: &'a str,
    pub is_bot: bool,
    pub referrer_host: Option<&'a str>,
    /// When the visit happened; `None` (every live visit) is the database's
    /// clock. Fixtures and imports of past visits set it.
    pub visited_at: Option<DateTime<Utc>>,
}

/// The counts the page shows, including the visit just recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitCounts {
    /// How often this visitor has been here.
    pub your_visits: i64,
    pub unique_visitors: i64,
    /// Human visits; bots are counted apart.
    pub total_visits: i64,
}

// One statement, so one round trip and one commit. The upsert is atomic per
// visitor key: concurrent first visits of one visitor make one row and every
// visit adds exactly one. Under that row lock, `previous_seen` receives the
// visitor's previous visit, from which the rollups learn whether this is the
// visitor's first visit in each minute/hour/day bucket (an arrival there, and
// a departure from the bucket of the previous visit; see the migration
// `rollups`); browser, OS, device and referrer counts per hour and day
// follow the same rule (referrers per visitor and host, in `referrals`). `greatest` keeps a visitor's times monotonic when two of their
// visits race. Counter rows are split into shards by visitor key, so
// concurrent visits do not queue on one row. The final SELECT sees the totals
// as they were before this statement; the caller adds this visit.
const RECORD_VISIT: &str = r"
WITH visitor AS (
    INSERT INTO visitors AS v (visitor_key, visits, is_bot, first_seen, last_seen)
    VALUES ($1, 1, $2, coalesce($9, now()), coalesce($9, now()))
    ON CONFLICT (visitor_key) DO UPDATE SET
        visits = v.visits + 1,
        previous_seen = v.last_seen,
        last_seen = greatest(v.last_seen, coalesce($9, now()))
    RETURNING v.visits, v.last_seen AS seen, v.previous_seen AS previous
), event AS (
    INSERT INTO visit_events (visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host)
    SELECT seen, $1, $3, $4, $5, $6, $2, $7 FROM visitor
), buckets AS (
    SELECT g.granularity, g.retention,
           date_trunc(g.granularity, visitor.seen, 'UTC') AS bucket,
           date_trunc(g.granularity, visitor.previous, 'UTC') AS previous_bucket
    FROM visitor CROSS JOIN rollup_granularities g
), rollups AS (
    INSERT INTO visit_rollups AS r (granularity, bucket, shard, visits, bot_visits, arrivals, departures)
    SELECT granularity, bucket, $8, (NOT $2)::int, $2::int,
           (NOT $2 AND previous_bucket IS DISTINCT FROM bucket)::int, 0
    FROM buckets
    UNION ALL
    SELECT granularity, previous_bucket, $8, 0, 0, 0, 1
    FROM buckets
    WHERE NOT $2 AND previous_bucket < bucket
      AND (retention IS NULL OR previous_bucket >= bucket - retention)
    ON CONFLICT (granularity, bucket, shard) DO UPDATE SET
        visits = r.visits + excluded.visits,
        bot_visits = r.bot_visits + excluded.bot_visits,
        arrivals = r.arrivals + excluded.arrivals,
        departures = r.departures + excluded.departures
), referral AS (
    INSERT INTO referrals AS f (visitor_key, referrer_host, last_seen)
    SELECT $1, $7, seen FROM visitor
    WHERE $7 IS NOT NULL AND NOT $2
    ON CONFLICT (visitor_key, referrer_host) DO UPDATE SET
        previous_seen = f.last_seen,
        last_seen = greatest(f.last_seen, excluded.last_seen)
    RETURNING f.last_seen, f.previous_seen
), breakdown_buckets AS (
    SELECT b.granularity, b.retention, b.bucket, b.previous_bucket, d.dimension, d.value
    FROM buckets b
    CROSS JOIN (VALUES ('browser', $4), ('os', $5), ('device', $6)) d (dimension, value)
    WHERE b.granularity IN ('hour', 'day') AND NOT $2
    UNION ALL
    SELECT g.granularity, g.retention, date_trunc(g.granularity, r.last_seen, 'UTC'),
           date_trunc(g.granularity, r.previous_seen, 'UTC'), 'referrer', $7
    FROM referral r CROSS JOIN rollup_granularities g
    WHERE g.granularity IN ('hour', 'day')
), breakdowns AS (
    INSERT INTO visitor_breakdowns AS b (granularity, bucket, dimension, value, shard, arrivals, departures)
    SELECT granularity, bucket, dimension, value, $8, 1, 0
    FROM breakdown_buckets
    WHERE previous_bucket IS DISTINCT FROM bucket
    UNION ALL
    SELECT granularity, previous_bucket, dimension, value, $8, 0, 1
    FROM breakdown_buckets
    WHERE previous_bucket < bucket
      AND (retention IS NULL OR previous_bucket >= bucket - retention)
    ON CONFLICT (granularity, bucket, dimension, value, shard) DO UPDATE SET
        arrivals = b.arrivals + excluded.arrivals,
        departures = b.departures + excluded.departures
), totals AS (
    INSERT INTO visit_totals AS t (shard, visits, bot_visits, unique_visitors)
    SELECT $8, (NOT $2)::int, $2::int, (previous IS NULL AND NOT $2)::int FROM visitor
    ON CONFLICT (shard) DO UPDATE SET
        visits = t.visits + excluded.visits,
        bot_visits = t.bot_visits + excluded.bot_visits,
        unique_visitors = t.unique_visitors + excluded.unique_visitors
)
SELECT visitor.visits, visitor.previous IS NULL,
       (SELECT coalesce(sum(visits), 0) FROM visit_totals)::bigint,
       (SELECT coalesce(sum(unique_visitors), 0) FROM visit_totals)::bigint
FROM visitor
";

pub async fn record_visit(pool: &PgPool, visit: &NewVisit<'_>) -> Result<VisitCounts, sqlx::Error> {
    let shard = i16::from(visit.visitor.as_bytes()[0] % SHARDS);
    let (your_visits, is_new, total_visits, unique_visitors): (i64, bool, i64, i64) =
        sqlx::query_as(RECORD_VISIT)
            .bind(&visit.visitor.as_bytes()[..])
            .bind(visit.is_bot)
            .bind(visit.path)
            .bind(visit.browser)
            .bind(visit.os)
            .bind(visit.device)
            .bind(visit.referrer_host)
            .bind(shard)
            .bind(visit.visited_at)
            .fetch_one(pool)
            .await?;
    let human = !visit.is_bot;
    Ok(VisitCounts {
        your_visits,
        total_visits: total_visits + i64::from(human),
        unique_visitors: unique_visitors + i64::from(is_new && human),
    })
}
