//! The SQL of the write path: recording a batch of visits in one statement.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::counting::{
    details::{DetailText, HitDetails},
    site_id::SiteId,
    visit::RequestId,
    visitor_key::VisitorKey,
};

/// Counter rows per bucket. A batch writes to the shard of its first visitor,
/// by the rule of the migration's `visitor_shard()` (which the rebuild uses).
const SHARDS: u8 = 64;

/// What is stored about one visit; nothing here identifies the person.
#[derive(Debug, Clone)]
pub struct NewVisit<'a> {
    pub site: SiteId,
    pub visitor: VisitorKey,
    pub path: &'a str,
    pub browser: &'a str,
    pub os: &'a str,
    pub device: &'a str,
    pub is_bot: bool,
    /// The country of the visitor's address, like its browser a property
    /// of the visitor.
    pub country: Option<&'a str>,
    pub referrer_host: Option<&'a str>,
    /// Where it came from, its screen, or the event it is.
    pub details: &'a HitDetails,
    /// When the visit happened; `None` (every live visit) is the database's
    /// clock. Fixtures and imports of past visits set it.
    pub visited_at: Option<DateTime<Utc>>,
    /// The request that brought it, when the proxy named it: a request
    /// recorded already is answered without being recorded again.
    pub request: Option<RequestId>,
}

/// The counts the page shows, including the visit just recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitCounts {
    /// How often this visitor has been here.
    pub your_visits: i64,
    /// Whether this was the visitor's first human visit: a new unique visitor.
    pub is_new: bool,
    /// False for a request recorded already (sent again by the proxy): it
    /// was answered with the counts as they stand and added nothing.
    pub recorded: bool,
    pub unique_visitors: i64,
    /// Human visits; bots are counted apart.
    pub total_visits: i64,
}

// One statement for a whole batch of visits, so one round trip and one
// commit however many visits arrive together (`recorder` gathers them). The
// upsert is atomic per visitor key: concurrent first visits of one visitor
// make one row and every visit adds exactly one. An upsert cannot touch a row
// twice, so a visitor's k visits in one batch are grouped into one row update
// (`visits + k`), and then expanded again in arrival order: the first follows
// the visitor's previous visit, each later one the one before it (same time,
// same buckets), so every count is as if they had come one by one. Under that row lock,
// `previous_seen` receives the visitor's previous human visit, from which the
// rollups learn whether this is the visitor's first visit in each
// minute/hour/day bucket (an arrival there, and a departure from the bucket
// of the previous visit; see the migration `rollups`); a bot's visits only
// add bot visits. The counts per value, per hour and day, follow the same
// rule: a visit's own values (its page, referrer, source, campaign, screen;
// an event's name) per visitor and value, in `visitor_values` (but for a
// person's first page, kept on the visitor row as `first_page` until they
// view it again: most never do, and that row was about 30 % of a new
// visitor's WAL; the migration `first_page_on_the_visitor`); the
// visitor's browser, OS, device and country by its previous human visit,
// or, when they read differently than then (a release changed the rules, a
// new country database), by that value's own last visit, which
// `visitor_values` keeps for every value a visitor no longer has (see the
// migration `reread_visitors`). Custom events change no visitor and count
// no visit: only their own values and completions. `greatest` keeps a visitor's times
// monotonic when two of their visits race. Counter rows get the batch's
// changes summed, in the batch's shard, so concurrent batches seldom queue on
// one row. Every insert takes its rows in key order, and every batch runs
// this same plan, so concurrent batches lock rows in one order and cannot
// deadlock; the maintenance job takes them in that order too (totals,
// breakdowns, rollups: the executor runs the data-modifying CTEs that nothing
// reads last-first, see the migration maintenance_lock_order). The final SELECT reads the totals as they were before this
// statement and adds the batch's own visits. The benchmark runs this same
// file under pgbench (bench/pgbench/app_statement.py). `query_file_as!`
// checks it against the schema at compile time (offline data in `.sqlx/`).
/// Records a batch of visits in one statement, and returns each one's
/// counts, in order; the totals are its site's and include the whole batch.
/// A visit whose request was recorded already adds nothing and is answered
/// with its visitor's counts as they stand. Several visits of
/// one visitor (of one site) are applied in their order in `visits` and must share one
/// `visited_at` (live visits all have `None`: the statement's time).
pub async fn record_visits<'a>(
    db: impl PgExecutor<'_>,
    visits: &[NewVisit<'a>],
) -> Result<Vec<VisitCounts>, sqlx::Error> {
    let Some(first) = visits.first() else {
        return Ok(Vec::new());
    };
    // Keys are uniformly spread, so concurrent batches seldom share a shard.
    let shard = i16::from(first.visitor.as_bytes()[0] % SHARDS);
    let column = |f: fn(&NewVisit<'a>) -> &'a str| visits.iter().map(f).collect::<Vec<_>>();
    let keys: Vec<&[u8]> = visits.iter().map(|v| &v.visitor.as_bytes()[..]).collect();
    let bots: Vec<bool> = visits.iter().map(|v| v.is_bot).collect();
    let referrers: Vec<Option<&str>> = visits.iter().map(|v| v.referrer_host).collect();
    let detail = |f: fn(&HitDetails) -> &Option<DetailText>| {
        visits
            .iter()
            .map(|v| f(v.details).as_ref().map(DetailText::as_str))
            .collect::<Vec<_>>()
    };
    let screens: Vec<Option<&str>> = visits
        .iter()
        .map(|v| v.details.screen.map(|screen| screen.as_str()))
        .collect();
    let countries: Vec<Option<&str>> = visits.iter().map(|v| v.country).collect();
    let times: Vec<Option<DateTime<Utc>>> = visits.iter().map(|v| v.visited_at).collect();
    let sites: Vec<i32> = visits.iter().map(|v| v.site.0).collect();
    let requests: Vec<Option<&[u8]>> = visits
        .iter()
        .map(|v| v.request.as_ref().map(RequestId::as_bytes))
        .collect();
    sqlx::query_file_as!(
        VisitCounts,
        "src/counting/record_visits.sql",
        &keys[..] as &[&[u8]],
        &bots[..],
        &column(|v| v.path)[..] as &[&str],
        &column(|v| v.browser)[..] as &[&str],
        &column(|v| v.os)[..] as &[&str],
        &column(|v| v.device)[..] as &[&str],
        &referrers[..] as &[Option<&str>],
        shard,
        &times[..] as &[Option<DateTime<Utc>>],
        &sites[..],
        &requests[..] as &[Option<&[u8]>],
        &detail(|d| &d.source)[..] as &[Option<&str>],
        &detail(|d| &d.utm.source)[..] as &[Option<&str>],
        &detail(|d| &d.utm.medium)[..] as &[Option<&str>],
        &detail(|d| &d.utm.campaign)[..] as &[Option<&str>],
        &detail(|d| &d.utm.term)[..] as &[Option<&str>],
        &detail(|d| &d.utm.content)[..] as &[Option<&str>],
        &screens[..] as &[Option<&str>],
        &countries[..] as &[Option<&str>],
        &detail(|d| &d.event)[..] as &[Option<&str>],
    )
    .fetch_all(db)
    .await
}
