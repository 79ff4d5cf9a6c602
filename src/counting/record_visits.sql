WITH requested AS (
    -- ROWS FROM is what a many-argument unnest stands for; generate_series
    -- numbers the visits where WITH ORDINALITY would, and is what makes the
    -- planner expect a batch of many rows (it takes an unnest of a
    -- parameter for 10), so that the joins below hash rather than loop
    -- over every pair of a batch's visits.
    SELECT * FROM ROWS FROM (unnest($10::int[]), unnest($1::bytea[]), unnest($2::bool[]), unnest($3::text[]),
                             unnest($4::text[]), unnest($5::text[]), unnest($6::text[]), unnest($7::text[]),
                             unnest($9::timestamptz[]), unnest($11::bytea[]), unnest($12::text[]),
                             unnest($13::text[]), unnest($14::text[]), unnest($15::text[]), unnest($16::text[]),
                             unnest($17::text[]), unnest($18::text[]), unnest($19::text[]), unnest($20::text[]),
                             generate_series(1, cardinality($10::int[])))
        AS i (site_id, visitor_key, is_bot, path, browser, os, device, referrer_host, visited_at, request_id,
              source, utm_source, utm_medium, utm_campaign, utm_term, utm_content, screen, country, event, n)
), claimed AS (
    -- A request the proxy sent again (its first replica failed after it
    -- was sent there) is recorded once: the first to claim its id wins.
    INSERT INTO recorded_requests (request_id)
    SELECT request_id FROM requested WHERE request_id IS NOT NULL
    ORDER BY request_id
    ON CONFLICT DO NOTHING
    RETURNING request_id
), incoming AS (
    -- The visits to record: those without an id, and the first of each id
    -- claimed here (an id sent twice in one batch counts once). The
    -- planner takes a filter on is_page_view to keep half the rows, where
    -- it would take "event IS NULL" to keep one in 200 and loop again.
    SELECT *, event IS NULL AS is_page_view FROM requested
    WHERE request_id IS NULL
       OR n IN (SELECT min(n) FROM requested WHERE request_id IN (SELECT request_id FROM claimed)
                GROUP BY request_id)
), grouped AS (
    -- One row per visitor of a site: its k page views of this batch share
    -- one time and one reading of the User-Agent (one replica's rules) and
    -- of the address. Events (custom events, not page views) leave the
    -- visitor as it is.
    SELECT site_id, visitor_key, bool_or(is_bot) AS is_bot, count(*) AS k, min(visited_at) AS visited_at,
           min(ARRAY[browser, os, device, country]) AS client, (array_agg(path ORDER BY n))[1] AS first_path
    FROM incoming
    WHERE is_page_view
    GROUP BY site_id, visitor_key
), visitor AS (
    -- last_seen is the latest human visit (a bot's visits count as bot
    -- visits, never as arrivals), client its browser, OS, device and
    -- country (the per-visitor values: this array, the reread below, the
    -- breakdowns' list and the migration's visit_dimensions() name them in
    -- one order). previous_client keeps the client before, only when it
    -- changed (a release read the User-Agent differently, a new country
    -- database placed the address elsewhere). first_page is the page of a
    -- person's first visit, seen at first_seen: its visitor_values row is
    -- written only once the visitor comes back to it.
    INSERT INTO visitors AS v (site_id, visitor_key, visits, is_bot, first_seen, last_seen, client, first_page)
    SELECT site_id, visitor_key, k, is_bot, coalesce(visited_at, now()),
           CASE WHEN NOT is_bot THEN coalesce(visited_at, now()) END, CASE WHEN NOT is_bot THEN client END,
           CASE WHEN NOT is_bot AND site_id <> 0 THEN first_path END
    FROM grouped
    ORDER BY site_id, visitor_key
    ON CONFLICT (site_id, visitor_key) DO UPDATE SET
        visits = v.visits + excluded.visits,
        previous_seen = v.last_seen,
        last_seen = greatest(v.last_seen, excluded.last_seen),
        previous_client = CASE WHEN excluded.client IS DISTINCT FROM v.client AND excluded.client IS NOT NULL
                               THEN v.client END,
        client = coalesce(excluded.client, v.client)
    RETURNING v.site_id, v.visitor_key, v.visits, v.last_seen AS seen, v.previous_seen AS previous,
              v.previous_client, v.first_page, v.first_seen
), visit AS (
    -- The k visits one after the other: the first follows the visitor's
    -- previous human visit, each later one the one before it, at the same
    -- time. A bot's visit is at its own time and follows nothing.
    SELECT i.*,
           visitor.visits - g.k + row_number() OVER w AS visits,
           CASE WHEN i.is_bot THEN coalesce(i.visited_at, now()) ELSE visitor.seen END AS seen,
           CASE WHEN i.is_bot THEN NULL
                WHEN row_number() OVER w = 1 THEN visitor.previous ELSE visitor.seen END AS previous,
           row_number() OVER w = 1 AND NOT i.is_bot AS first_human,
           visitor.previous_client,
           -- The visitor row was inserted by this batch: its first page's
           -- visit is this one.
           coalesce(visitor.visits = g.k AND i.path = visitor.first_page, false) AS first_page_view,
           visitor.first_page, visitor.first_seen
    FROM incoming i JOIN visitor USING (site_id, visitor_key) JOIN grouped g USING (site_id, visitor_key)
    WHERE i.is_page_view
    WINDOW w AS (PARTITION BY i.site_id, i.visitor_key ORDER BY i.n)
), reread AS (
    -- Values of browser, OS, device or country that changed since the
    -- visitor's previous human visit: the old value was last seen then, and
    -- the new one (seen before, if the rules changed back) when
    -- visitor_values says. The current value's time is the visitor's own
    -- last_seen, so a value has a row here only once it was replaced. A
    -- country that was not known (no database then) has no row to leave.
    INSERT INTO visitor_values AS f (site_id, visitor_key, dimension, value, last_seen)
    SELECT visit.site_id, visit.visitor_key, d.dimension, d.value, d.at
    FROM visit CROSS JOIN LATERAL (VALUES
        ('browser', visit.previous_client[1], visit.browser, visit.previous),
        ('os', visit.previous_client[2], visit.os, visit.previous),
        ('device', visit.previous_client[3], visit.device, visit.previous),
        ('country', visit.previous_client[4], visit.country, visit.previous)) c (dimension, old, new, old_at)
    CROSS JOIN LATERAL (VALUES (c.dimension, c.old, c.old_at), (c.dimension, c.new, visit.seen)) d (dimension, value, at)
    WHERE visit.first_human AND visit.previous_client IS NOT NULL AND c.old IS DISTINCT FROM c.new
      AND d.value IS NOT NULL
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (site_id, visitor_key, dimension, value) DO UPDATE SET
        previous_seen = f.last_seen,
        last_seen = greatest(f.last_seen, excluded.last_seen)
    RETURNING f.site_id, f.visitor_key, f.dimension, f.value, f.previous_seen
), raw AS (
    -- The raw visits: page views at their visitor's time, events at theirs.
    INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host,
                              source, utm_source, utm_medium, utm_campaign, utm_term, utm_content, screen,
                              country, event)
    SELECT site_id, seen, visitor_key, path, browser, os, device, is_bot, referrer_host, source, utm_source,
           utm_medium, utm_campaign, utm_term, utm_content, screen, country, NULL
    FROM visit
    UNION ALL
    SELECT site_id, coalesce(visited_at, now()), visitor_key, path, browser, os, device, is_bot, referrer_host,
           source, utm_source, utm_medium, utm_campaign, utm_term, utm_content, screen, country, event
    FROM incoming
    WHERE NOT is_page_view
), buckets AS (
    SELECT visit.site_id, visit.visitor_key, visit.first_human, visit.is_bot, visit.path, visit.browser,
           visit.os, visit.device, visit.country, visit.previous, visit.first_page_view, g.granularity,
           g.retention,
           date_trunc(g.granularity, visit.seen, 'UTC') AS bucket,
           date_trunc(g.granularity, visit.previous, 'UTC') AS previous_bucket
    FROM visit CROSS JOIN rollup_granularities g
), rollups AS (
    INSERT INTO visit_rollups AS r (site_id, granularity, bucket, shard, visits, bot_visits, arrivals, departures)
    SELECT site_id, granularity, bucket, $8, sum(visits), sum(bot_visits), sum(arrivals), sum(departures)
    FROM (
        SELECT site_id, granularity, bucket, (NOT is_bot)::int AS visits, is_bot::int AS bot_visits,
               (NOT is_bot AND previous_bucket IS DISTINCT FROM bucket)::int AS arrivals,
               0 AS departures
        FROM buckets
        UNION ALL
        SELECT site_id, granularity, previous_bucket, 0, 0, 0, 1
        FROM buckets
        WHERE NOT is_bot AND previous_bucket < bucket
          AND (retention IS NULL OR previous_bucket >= bucket - retention)
    ) changes
    GROUP BY site_id, granularity, bucket
    ORDER BY site_id, granularity, bucket
    ON CONFLICT (site_id, granularity, bucket, shard) DO UPDATE SET
        visits = r.visits + excluded.visits,
        bot_visits = r.bot_visits + excluded.bot_visits,
        arrivals = r.arrivals + excluded.arrivals,
        departures = r.departures + excluded.departures
), visit_value AS (
    -- What a visit has that is not a property of its visitor: its page
    -- (sites only: the instance's own dashboard is one page), referrer,
    -- source, campaign and screen, or an event's name: the per-visit values
    -- of the migration's visit_dimensions(), listed here rather than called
    -- (the call, and one list for page views with and without details, made
    -- this statement a fifth slower under pgbench; a test compares what it
    -- stores with the rebuild, which calls it). A visitor's visits of a
    -- batch share one time, so one row per value. A first page is on its
    -- visitor's row until the visitor views it again: its row is written
    -- then, as seen before at first_seen.
    INSERT INTO visitor_values AS f (site_id, visitor_key, dimension, value, last_seen, previous_seen)
    SELECT v.site_id, v.visitor_key, d.dimension, d.value, v.seen,
           CASE WHEN d.dimension = 'page' AND d.value = v.first_page THEN v.first_seen END
    FROM visit v
    CROSS JOIN LATERAL (VALUES ('page', CASE WHEN v.site_id <> 0 THEN v.path END),
                               ('referrer', v.referrer_host)) d (dimension, value)
    WHERE NOT v.is_bot AND d.value IS NOT NULL AND NOT (d.dimension = 'page' AND v.first_page_view)
    UNION
    -- Only the visits that carry any (the script's; seldom the pixel's).
    SELECT v.site_id, v.visitor_key, d.dimension, d.value, v.seen, NULL
    FROM visit v
    CROSS JOIN LATERAL (VALUES ('source', v.source), ('utm_source', v.utm_source), ('utm_medium', v.utm_medium),
                               ('utm_campaign', v.utm_campaign), ('utm_term', v.utm_term),
                               ('utm_content', v.utm_content), ('screen', v.screen)) d (dimension, value)
    WHERE NOT v.is_bot AND d.value IS NOT NULL
      AND num_nonnulls(v.source, v.utm_source, v.utm_medium, v.utm_campaign, v.utm_term, v.utm_content,
                       v.screen) > 0
    UNION
    SELECT site_id, visitor_key, 'event', event, coalesce(visited_at, now()), NULL
    FROM incoming
    WHERE NOT is_page_view AND NOT is_bot
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (site_id, visitor_key, dimension, value) DO UPDATE SET
        previous_seen = f.last_seen,
        last_seen = greatest(f.last_seen, excluded.last_seen)
    RETURNING f.site_id, f.dimension, f.value, f.last_seen, f.previous_seen
), breakdown_buckets AS (
    -- A value read differently than at the previous visit follows its own
    -- previous visit (reread), every other one the visitor's. Only a
    -- visitor's first human visit of the batch can arrive or depart: the
    -- later ones follow it at the same time.
    SELECT b.site_id, b.granularity, b.retention, b.bucket,
           CASE WHEN r.value IS NULL THEN b.previous_bucket
                ELSE date_trunc(b.granularity, r.previous_seen, 'UTC') END AS previous_bucket,
           d.dimension, d.value
    FROM buckets b
    CROSS JOIN LATERAL (VALUES ('browser', b.browser), ('os', b.os), ('device', b.device),
                               ('country', b.country)) d (dimension, value)
    LEFT JOIN reread r ON b.first_human AND (r.site_id, r.visitor_key, r.dimension, r.value)
                                          = (b.site_id, b.visitor_key, d.dimension, d.value)
    WHERE b.granularity IN ('hour', 'day') AND b.first_human AND d.value IS NOT NULL
    UNION ALL
    SELECT r.site_id, g.granularity, g.retention, date_trunc(g.granularity, r.last_seen, 'UTC'),
           date_trunc(g.granularity, r.previous_seen, 'UTC'), r.dimension, r.value
    FROM visit_value r CROSS JOIN rollup_granularities g
    WHERE g.granularity IN ('hour', 'day')
    UNION ALL
    -- A first page, which has no visitor_values row yet: seen for the
    -- first time.
    SELECT site_id, granularity, retention, bucket, NULL, 'page', path
    FROM buckets
    WHERE granularity IN ('hour', 'day') AND first_human AND first_page_view
), breakdowns AS (
    INSERT INTO visitor_breakdowns AS b (site_id, granularity, bucket, dimension, value, shard,
                                         arrivals, departures, visits)
    SELECT site_id, granularity, bucket, dimension, value, $8, sum(arrivals), sum(departures), sum(visits)
    FROM (
        SELECT site_id, granularity, bucket, dimension, value, 1 AS arrivals, 0 AS departures, 0 AS visits
        FROM breakdown_buckets
        WHERE previous_bucket IS DISTINCT FROM bucket
        UNION ALL
        SELECT site_id, granularity, previous_bucket, dimension, value, 0, 1, 0
        FROM breakdown_buckets
        WHERE previous_bucket < bucket
          AND (retention IS NULL OR previous_bucket >= bucket - retention)
        UNION ALL
        -- Page views.
        SELECT site_id, granularity, bucket, 'page', path, 0, 0, 1
        FROM buckets
        WHERE granularity IN ('hour', 'day') AND NOT is_bot AND site_id <> 0
        UNION ALL
        -- Events' completions.
        SELECT i.site_id, g.granularity, date_trunc(g.granularity, coalesce(i.visited_at, now()), 'UTC'),
               'event', i.event, 0, 0, 1
        FROM incoming i CROSS JOIN rollup_granularities g
        WHERE NOT i.is_page_view AND NOT i.is_bot AND g.granularity IN ('hour', 'day')
    ) changes
    GROUP BY site_id, granularity, bucket, dimension, value
    ORDER BY site_id, granularity, bucket, dimension, value
    ON CONFLICT (site_id, granularity, bucket, dimension, value, shard) DO UPDATE SET
        arrivals = b.arrivals + excluded.arrivals,
        departures = b.departures + excluded.departures,
        visits = b.visits + excluded.visits
), batch AS (
    SELECT site_id,
           count(*) FILTER (WHERE NOT is_bot) AS visits,
           count(*) FILTER (WHERE is_bot) AS bot_visits,
           count(*) FILTER (WHERE previous IS NULL AND NOT is_bot) AS unique_visitors
    FROM visit
    GROUP BY site_id
), totals AS (
    INSERT INTO visit_totals AS t (site_id, shard, visits, bot_visits, unique_visitors)
    SELECT site_id, $8, visits, bot_visits, unique_visitors FROM batch
    ORDER BY site_id
    ON CONFLICT (site_id, shard) DO UPDATE SET
        visits = t.visits + excluded.visits,
        bot_visits = t.bot_visits + excluded.bot_visits,
        unique_visitors = t.unique_visitors + excluded.unique_visitors
), earlier AS (
    -- The totals as they were before this statement (its own inserts are
    -- not visible to it), read by each site's key: a join would read every
    -- site's rows.
    SELECT s.site_id, t.visits, t.unique_visitors
    FROM (SELECT DISTINCT site_id FROM requested) s
    CROSS JOIN LATERAL (SELECT sum(visits) AS visits, sum(unique_visitors) AS unique_visitors
                        FROM visit_totals WHERE site_id = s.site_id) t
), answer AS (
    SELECT visit.n, visit.visits, visit.previous IS NULL AND NOT visit.is_bot AS is_new, true AS recorded,
           visit.site_id
    FROM visit
    UNION ALL
    -- An event adds to no visitor's count.
    SELECT n, 0, false, true, site_id
    FROM incoming
    WHERE NOT is_page_view
    UNION ALL
    -- A request recorded already is answered as it stands, adding nothing.
    SELECT r.n, coalesce(v.visits, 0), false, false, r.site_id
    FROM requested r LEFT JOIN visitors v USING (site_id, visitor_key)
    WHERE r.n NOT IN (SELECT n FROM incoming)
)
SELECT answer.visits AS "your_visits!", answer.is_new AS "is_new!", answer.recorded AS "recorded!",
       (coalesce(earlier.visits, 0) + coalesce(batch.visits, 0))::bigint AS "total_visits!",
       (coalesce(earlier.unique_visitors, 0) + coalesce(batch.unique_visitors, 0))::bigint
           AS "unique_visitors!"
FROM answer LEFT JOIN batch USING (site_id) LEFT JOIN earlier USING (site_id)
ORDER BY answer.n
