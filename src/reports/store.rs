//! The SQL of the email reports: who asked for which, the lease on each
//! report due, and a period's figures from the raw visits.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::{PgExecutor, PgPool};

use super::period::{Cadence, Period};
use crate::{accounts::model::UserId, counting::site_id::SiteId, sites::model::stored_time_zone};

/// A site someone may get reports of, with the ones they asked for.
pub struct ReportChoice {
    pub domain: String,
    pub weekly: bool,
    pub monthly: bool,
}

/// The sites `user` is a member of, with the reports asked for.
pub async fn choices(pool: &PgPool, user: UserId) -> Result<Vec<ReportChoice>, sqlx::Error> {
    sqlx::query_as!(
        ReportChoice,
        r#"SELECT s.domain AS "domain!",
                  EXISTS (SELECT 1 FROM report_subscriptions r WHERE r.site_id = s.id
                          AND r.user_id = m.user_id AND r.cadence = 'weekly') AS "weekly!",
                  EXISTS (SELECT 1 FROM report_subscriptions r WHERE r.site_id = s.id
                          AND r.user_id = m.user_id AND r.cadence = 'monthly') AS "monthly!"
           FROM site_members m JOIN sites s ON s.id = m.site_id
           WHERE m.user_id = $1 AND s.domain IS NOT NULL
           ORDER BY s.active DESC, s.domain"#,
        user.0,
    )
    .fetch_all(pool)
    .await
}

/// Makes `user`'s reports exactly `chosen` (a domain and a cadence each).
/// Returns the domains named that are not sites of theirs, and then
/// changes nothing.
pub async fn choose(
    pool: &PgPool,
    user: UserId,
    chosen: &[(String, Cadence)],
) -> Result<Vec<String>, sqlx::Error> {
    let domains: Vec<&str> = chosen.iter().map(|(domain, _)| domain.as_str()).collect();
    let cadences: Vec<&str> = chosen.iter().map(|(_, cadence)| cadence.as_str()).collect();
    let mut transaction = pool.begin().await?;
    let unknown = sqlx::query_scalar!(
        r#"SELECT DISTINCT c.domain AS "domain!" FROM unnest($2::text[]) AS c (domain)
           WHERE NOT EXISTS (SELECT 1 FROM site_members m JOIN sites s ON s.id = m.site_id
                             WHERE m.user_id = $1 AND s.domain = c.domain)
           ORDER BY 1"#,
        user.0,
        &domains as &[&str],
    )
    .fetch_all(&mut *transaction)
    .await?;
    if !unknown.is_empty() {
        return Ok(unknown);
    }
    sqlx::query!(
        "DELETE FROM report_subscriptions WHERE user_id = $1",
        user.0
    )
    .execute(&mut *transaction)
    .await?;
    sqlx::query!(
        r#"INSERT INTO report_subscriptions (site_id, user_id, cadence)
           SELECT s.id, $1, c.cadence::report_cadence FROM unnest($2::text[], $3::text[]) AS c (domain, cadence)
           JOIN sites s ON s.domain = c.domain
           ON CONFLICT DO NOTHING"#,
        user.0,
        &domains as &[&str],
        &cadences as &[&str],
    )
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await?;
    Ok(Vec::new())
}

/// A report this replica has the lease on, and where it goes.
pub struct Delivery {
    pub site_id: i32,
    pub user_id: i64,
    pub cadence: Cadence,
    pub period_start: DateTime<Utc>,
    pub domain: String,
    pub email: String,
    /// The site's, which its weeks and months follow.
    pub time_zone: Tz,
}

/// A claimed report as the database returns it.
struct DeliveryRow {
    site_id: i32,
    user_id: i64,
    cadence: Cadence,
    period_start: DateTime<Utc>,
    domain: String,
    email: String,
    time_zone: String,
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Self {
        Self {
            site_id: row.site_id,
            user_id: row.user_id,
            cadence: row.cadence,
            period_start: row.period_start,
            domain: row.domain,
            email: row.email,
            time_zone: stored_time_zone(&row.time_zone),
        }
    }
}

/// After this many failed sends a report is given up.
pub const MAX_ATTEMPTS: i32 = 5;

/// Claims up to `limit` reports due at `now` (the last whole week's and
/// month's in each site's time zone) that no replica has sent or holds a
/// lease on, each leased for `lease`. Replicas claim in turn: whichever
/// takes a report's row first gets it; the others skip it.
pub async fn claim_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease: std::time::Duration,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    // The periods are worked out here, once per zone in use, so that the
    // calendar (summer time included) has one source: `Cadence`. A zone
    // first used after this read waits for the next round.
    let zones: Vec<String> = sqlx::query_scalar!(
        r#"SELECT DISTINCT s.time_zone AS "time_zone!"
           FROM report_subscriptions r JOIN sites s ON s.id = r.site_id
           WHERE s.active AND s.domain IS NOT NULL"#
    )
    .fetch_all(pool)
    .await?;
    if zones.is_empty() {
        return Ok(Vec::new());
    }
    let starts = |cadence: Cadence| -> Vec<DateTime<Utc>> {
        let start = |zone: &String| cadence.last_complete(now, stored_time_zone(zone)).start;
        zones.iter().map(start).collect()
    };
    // Replicas claim one after another: a claim's statement, whose snapshot
    // is taken once it holds the lock, sees every report claimed before it,
    // in whichever zone the site had then (the two-key lock space is not
    // sqlx's migration lock's).
    let mut claim = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('visitors'), hashtext('report claims'))")
        .execute(&mut *claim)
        .await?;
    let rows = sqlx::query_as!(
        DeliveryRow,
        r#"WITH due AS (
               SELECT r.site_id, r.user_id, r.cadence,
                      CASE r.cadence WHEN 'weekly' THEN z.weekly ELSE z.monthly END AS period_start
               FROM report_subscriptions r JOIN sites s ON s.id = r.site_id
               JOIN unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) z (time_zone, weekly, monthly)
                 ON z.time_zone = s.time_zone
               WHERE s.active AND s.domain IS NOT NULL
           ), claimed AS (
               INSERT INTO report_deliveries AS d (site_id, user_id, cadence, period_start, leased_until)
               SELECT site_id, user_id, cadence, period_start, now() + $4 * interval '1 second'
               FROM due
               -- The same period in another zone (the site's was changed
               -- since) starts at most 26 hours apart (UTC-12 to UTC+14):
               -- it was reported already, and so was an earlier one when
               -- a later one was.
               WHERE NOT EXISTS (
                   SELECT 1 FROM report_deliveries o
                   WHERE (o.user_id, o.site_id, o.cadence) = (due.user_id, due.site_id, due.cadence)
                     AND o.period_start >= due.period_start - interval '26 hours'
                     AND (o.sent_at IS NOT NULL OR o.leased_until > now() OR o.attempts >= $5))
               ORDER BY period_start, user_id, site_id, cadence
               LIMIT $6
               ON CONFLICT (user_id, site_id, cadence, period_start) DO UPDATE
                   SET leased_until = excluded.leased_until, attempts = d.attempts + 1
                   WHERE d.sent_at IS NULL AND d.leased_until <= now() AND d.attempts < $5
               RETURNING d.site_id, d.user_id, d.cadence, d.period_start
           )
           SELECT c.site_id, c.user_id, c.cadence AS "cadence: Cadence", c.period_start,
                  s.domain AS "domain!", u.email, s.time_zone
           FROM claimed c JOIN sites s ON s.id = c.site_id JOIN users u ON u.id = c.user_id"#,
        &zones,
        &starts(Cadence::Weekly),
        &starts(Cadence::Monthly),
        lease.as_secs_f64(),
        MAX_ATTEMPTS,
        limit,
    )
    .fetch_all(&mut *claim)
    .await?;
    claim.commit().await?;
    Ok(rows.into_iter().map(Delivery::from).collect())
}

/// Marks a claimed report sent: no replica sends it again.
pub async fn mark_sent(pool: &PgPool, delivery: &Delivery) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE report_deliveries SET sent_at = now()
         WHERE user_id = $1 AND site_id = $2 AND cadence = $3 AND period_start = $4",
        delivery.user_id,
        delivery.site_id,
        delivery.cadence as Cadence,
        delivery.period_start,
    )
    .execute(pool)
    .await
    .map(drop)
}

/// A period's totals beside the period's before.
pub struct Totals {
    pub visitors: i64,
    pub page_views: i64,
    pub previous_visitors: i64,
    pub previous_page_views: i64,
}

/// Unique visitors and page views of `period` and of `previous`, which
/// ends where `period` starts, from the raw visits: exact for any bounded
/// period, where the rollups are exact for ranges that end now.
pub async fn totals(
    db: impl PgExecutor<'_>,
    site: SiteId,
    previous: Period,
    period: Period,
) -> Result<Totals, sqlx::Error> {
    sqlx::query_as!(
        Totals,
        r#"SELECT count(DISTINCT visitor_key) FILTER (WHERE visited_at >= $3) AS "visitors!",
                  count(*) FILTER (WHERE visited_at >= $3 AND event IS NULL) AS "page_views!",
                  count(DISTINCT visitor_key) FILTER (WHERE visited_at < $3) AS "previous_visitors!",
                  count(*) FILTER (WHERE visited_at < $3 AND event IS NULL) AS "previous_page_views!"
           FROM visit_events
           WHERE site_id = $1 AND visited_at >= $2 AND visited_at < $4 AND NOT is_bot"#,
        site.0,
        previous.start,
        period.start,
        period.end,
    )
    .fetch_one(db)
    .await
}

/// A value of a dimension and its unique visitors.
pub struct Ranked {
    pub value: String,
    pub visitors: i64,
}

/// The `limit` values of `dimension` (as the dashboard names them: `page`,
/// `source`, …) with the most unique visitors over `period`.
pub async fn top(
    db: impl PgExecutor<'_>,
    site: SiteId,
    period: Period,
    dimension: &str,
    limit: i64,
) -> Result<Vec<Ranked>, sqlx::Error> {
    sqlx::query_as!(
        Ranked,
        r#"SELECT d.value AS "value!", count(DISTINCT e.visitor_key) AS "visitors!"
           FROM visit_events e CROSS JOIN LATERAL visit_dimensions(e, NULL) d
           WHERE e.site_id = $1 AND e.visited_at >= $2 AND e.visited_at < $3 AND NOT e.is_bot
             AND d.dimension = $4
           GROUP BY d.value ORDER BY 2 DESC, 1 LIMIT $5"#,
        site.0,
        period.start,
        period.end,
        dimension,
        limit,
    )
    .fetch_all(db)
    .await
}
