WITH incoming AS (
    SELECT * FROM unnest($1::bytea[], $2::bool[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $9::timestamptz[]) WITH ORDINALITY
        AS i (visitor_key, is_bot, path, browser, os, device, referrer_host, visited_at, n)
), grouped AS (
    -- One row per visitor: its k visits of this batch share one time.
    SELECT visitor_key, bool_or(is_bot) AS is_bot, count(*) AS k, min(visited_at) AS visited_at
    FROM incoming
    GROUP BY visitor_key
), visitor AS (
    INSERT INTO visitors AS v (visitor_key, visits, is_bot, first_seen, last_seen)
    SELECT visitor_key, k, is_bot, coalesce(visited_at, now()), coalesce(visited_at, now())
    FROM grouped
    ORDER BY visitor_key
    ON CONFLICT (visitor_key) DO UPDATE SET
        visits = v.visits + excluded.visits,
        previous_seen = v.last_seen,
        last_seen = greatest(v.last_seen, excluded.last_seen)
    RETURNING v.visitor_key, v.visits, v.last_seen AS seen, v.previous_seen AS previous
), visit AS (
    -- The k visits one after the other: the first follows the visitor's
    -- previous visit, each later one the one before it, at the same time.
    SELECT i.*,
           visitor.visits - g.k + row_number() OVER w AS visits,
           visitor.seen,
           CASE WHEN row_number() OVER w = 1 THEN visitor.previous ELSE visitor.seen END AS previous
    FROM incoming i JOIN visitor USING (visitor_key) JOIN grouped g USING (visitor_key)
    WINDOW w AS (PARTITION BY i.visitor_key ORDER BY i.n)
), event AS (
    INSERT INTO visit_events (visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host)
    SELECT seen, visitor_key, path, browser, os, device, is_bot, referrer_host FROM visit
), buckets AS (
    SELECT visit.is_bot, visit.browser, visit.os, visit.device, g.granularity, g.retention,
           date_trunc(g.granularity, visit.seen, 'UTC') AS bucket,
           date_trunc(g.granularity, visit.previous, 'UTC') AS previous_bucket
    FROM visit CROSS JOIN rollup_granularities g
), rollups AS (
    INSERT INTO visit_rollups AS r (granularity, bucket, shard, visits, bot_visits, arrivals, departures)
    SELECT granularity, bucket, $8, sum(visits), sum(bot_visits), sum(arrivals), sum(departures)
    FROM (
        SELECT granularity, bucket, (NOT is_bot)::int AS visits, is_bot::int AS bot_visits,
               (NOT is_bot AND previous_bucket IS DISTINCT FROM bucket)::int AS arrivals,
               0 AS departures
        FROM buckets
        UNION ALL
        SELECT granularity, previous_bucket, 0, 0, 0, 1
        FROM buckets
        WHERE NOT is_bot AND previous_bucket < bucket
          AND (retention IS NULL OR previous_bucket >= bucket - retention)
    ) changes
    GROUP BY granularity, bucket
    ORDER BY granularity, bucket
    ON CONFLICT (granularity, bucket, shard) DO UPDATE SET
        visits = r.visits + excluded.visits,
        bot_visits = r.bot_visits + excluded.bot_visits,
        arrivals = r.arrivals + excluded.arrivals,
        departures = r.departures + excluded.departures
), referral AS (
    INSERT INTO referrals AS f (visitor_key, referrer_host, last_seen)
    SELECT DISTINCT visitor_key, referrer_host, seen FROM visit
    WHERE referrer_host IS NOT NULL AND NOT is_bot
    ORDER BY visitor_key, referrer_host
    ON CONFLICT (visitor_key, referrer_host) DO UPDATE SET
        previous_seen = f.last_seen,
        last_seen = greatest(f.last_seen, excluded.last_seen)
    RETURNING f.referrer_host, f.last_seen, f.previous_seen
), breakdown_buckets AS (
    SELECT b.granularity, b.retention, b.bucket, b.previous_bucket, d.dimension, d.value
    FROM buckets b
    CROSS JOIN LATERAL (VALUES ('browser', b.browser), ('os', b.os), ('device', b.device)) d (dimension, value)
    WHERE b.granularity IN ('hour', 'day') AND NOT b.is_bot
    UNION ALL
    SELECT g.granularity, g.retention, date_trunc(g.granularity, r.last_seen, 'UTC'),
           date_trunc(g.granularity, r.previous_seen, 'UTC'), 'referrer', r.referrer_host
    FROM referral r CROSS JOIN rollup_granularities g
    WHERE g.granularity IN ('hour', 'day')
), breakdowns AS (
    INSERT INTO visitor_breakdowns AS b (granularity, bucket, dimension, value, shard, arrivals, departures)
    SELECT granularity, bucket, dimension, value, $8, sum(arrivals), sum(departures)
    FROM (
        SELECT granularity, bucket, dimension, value, 1 AS arrivals, 0 AS departures
        FROM breakdown_buckets
        WHERE previous_bucket IS DISTINCT FROM bucket
        UNION ALL
        SELECT granularity, previous_bucket, dimension, value, 0, 1
        FROM breakdown_buckets
        WHERE previous_bucket < bucket
          AND (retention IS NULL OR previous_bucket >= bucket - retention)
    ) changes
    GROUP BY granularity, bucket, dimension, value
    ORDER BY granularity, bucket, dimension, value
    ON CONFLICT (granularity, bucket, dimension, value, shard) DO UPDATE SET
        arrivals = b.arrivals + excluded.arrivals,
        departures = b.departures + excluded.departures
), batch AS (
    SELECT count(*) FILTER (WHERE NOT is_bot) AS visits,
           count(*) FILTER (WHERE is_bot) AS bot_visits,
           count(*) FILTER (WHERE previous IS NULL AND NOT is_bot) AS unique_visitors
    FROM visit
), totals AS (
    INSERT INTO visit_totals AS t (shard, visits, bot_visits, unique_visitors)
    SELECT $8, visits, bot_visits, unique_visitors FROM batch
    ON CONFLICT (shard) DO UPDATE SET
        visits = t.visits + excluded.visits,
        bot_visits = t.bot_visits + excluded.bot_visits,
        unique_visitors = t.unique_visitors + excluded.unique_visitors
)
SELECT visit.visits AS "your_visits!", visit.previous IS NULL AS "is_new!",
       (SELECT coalesce(sum(visits), 0) FROM visit_totals)::bigint + batch.visits AS "total_visits!",
       (SELECT coalesce(sum(unique_visitors), 0) FROM visit_totals)::bigint + batch.unique_visitors
           AS "unique_visitors!"
FROM visit CROSS JOIN batch
ORDER BY visit.n
