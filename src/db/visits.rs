//! Recording a visit: one statement, one round trip, one commit.

use sqlx::PgPool;

use crate::identity::VisitorKey;

/// `visit_totals` rows; a visitor always lands on the same one.
const TOTAL_SHARDS: u8 = 64;

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

// The upsert is atomic per visitor key, so concurrent first visits of one
// visitor make one row and every visit adds exactly one. `xmax = 0` tells a
// fresh insert from an update. The final SELECT sees the totals as they were
// before this statement, so the caller adds this visit's own contribution.
const RECORD_VISIT: &str = r"
WITH visitor AS (
    INSERT INTO visitors AS v (visitor_key, visits, is_bot, first_seen, last_seen)
    VALUES ($1, 1, $2, now(), now())
    ON CONFLICT (visitor_key) DO UPDATE SET visits = v.visits + 1, last_seen = now()
    RETURNING v.visits, (v.xmax = 0) AS is_new
), event AS (
    INSERT INTO visit_events (visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host)
    VALUES (now(), $1, $3, $4, $5, $6, $2, $7)
), totals AS (
    INSERT INTO visit_totals AS t (shard, visits, bot_visits, unique_visitors)
    SELECT $8, (NOT $2)::int, $2::int, (is_new AND NOT $2)::int FROM visitor
    ON CONFLICT (shard) DO UPDATE SET
        visits = t.visits + excluded.visits,
        bot_visits = t.bot_visits + excluded.bot_visits,
        unique_visitors = t.unique_visitors + excluded.unique_visitors
)
SELECT visitor.visits, visitor.is_new,
       (SELECT coalesce(sum(visits), 0) FROM visit_totals)::bigint,
       (SELECT coalesce(sum(unique_visitors), 0) FROM visit_totals)::bigint
FROM visitor
";

pub async fn record_visit(pool: &PgPool, visit: &NewVisit<'_>) -> Result<VisitCounts, sqlx::Error> {
    let shard = i16::from(visit.visitor.as_bytes()[0] % TOTAL_SHARDS);
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
            .fetch_one(pool)
            .await?;
    let human = !visit.is_bot;
    Ok(VisitCounts {
        your_visits,
        total_visits: total_visits + i64::from(human),
        unique_visitors: unique_visitors + i64::from(is_new && human),
    })
}
