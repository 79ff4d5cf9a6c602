-- Exact counts when a release reads a visitor's User-Agent differently from
-- one visit to the next (a bot becomes a person, a browser is renamed):
--  - visitors.last_seen is the visitor's latest *human* visit (NULL while it
--    has none): a bot's visits add bot visits, never arrivals, so a person's
--    next visit departs from their previous human visit, not from a bot's;
--  - visitors.client is the browser, OS and device of that visit, and
--    previous_client, set only when they changed, what they were: the old
--    value's last visit then goes to visitor_values, which keeps the last
--    visit of every value a visitor had that is not its current one.
ALTER TABLE visitors
    ALTER COLUMN last_seen DROP NOT NULL,
    ADD COLUMN client text[],
    ADD COLUMN previous_client text[];

ALTER TABLE visitor_values DROP CONSTRAINT visitor_values_dimension_check,
    ADD CHECK (dimension IN ('referrer', 'page', 'browser', 'os', 'device'));

-- From the kept raw visits (RAW_VISITS_RETENTION_DAYS deletes the oldest):
-- every visitor's reading of its latest human visit, and, for a visitor
-- with a crawler's visit, its latest human visit, or NULL when it never came
-- as a person, only where no visit of it was pruned (a pruned one could
-- have been human). Counts recorded before this release stay as they were.
UPDATE visitors v SET
    client = h.client,
    last_seen = CASE WHEN h.bots > 0 AND (h.last_human IS NOT NULL OR h.kept = v.visits)
                     THEN h.last_human ELSE v.last_seen END,
    previous_seen = CASE WHEN h.bots > 0 THEN NULL ELSE v.previous_seen END
FROM (
    SELECT kept.*, latest.client
    FROM (
        SELECT site_id, visitor_key, count(*) AS kept, count(*) FILTER (WHERE is_bot) AS bots,
               max(visited_at) FILTER (WHERE NOT is_bot) AS last_human
        FROM visit_events
        GROUP BY site_id, visitor_key
    ) kept
    LEFT JOIN (
        SELECT DISTINCT ON (site_id, visitor_key) site_id, visitor_key, ARRAY[browser, os, device] AS client
        FROM visit_events
        WHERE NOT is_bot
        ORDER BY site_id, visitor_key, visited_at DESC, id DESC
    ) latest USING (site_id, visitor_key)
) h
WHERE (v.site_id, v.visitor_key) = (h.site_id, h.visitor_key);

-- The rebuild (benchmarks and fixtures) with the same rules: a bucket
-- holds a visitor's arrival when it holds one of their human visits.
CREATE OR REPLACE FUNCTION rebuild_visit_rollups() RETURNS void
LANGUAGE sql
BEGIN ATOMIC
    DELETE FROM visit_rollups;
    DELETE FROM visitor_breakdowns;
    DELETE FROM visit_totals;
    DELETE FROM visitors;
    DELETE FROM visitor_values;

    INSERT INTO visitors (site_id, visitor_key, visits, is_bot, first_seen, last_seen, client)
    SELECT DISTINCT ON (site_id, visitor_key) site_id, visitor_key,
           count(*) OVER visitor, (array_agg(is_bot) OVER visitor)[1], min(visited_at) OVER visitor,
           max(visited_at) FILTER (WHERE NOT is_bot) OVER visitor,
           CASE WHEN NOT is_bot THEN ARRAY[browser, os, device] END
    FROM visit_events
    WINDOW visitor AS (PARTITION BY site_id, visitor_key ORDER BY visited_at, id
                       ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ORDER BY site_id, visitor_key, is_bot, visited_at DESC, id DESC;

    INSERT INTO visit_rollups (site_id, granularity, bucket, shard, visits, bot_visits, arrivals, departures)
    SELECT site_id, granularity, bucket, shard, sum(humans), sum(bots),
           count(*) FILTER (WHERE humans > 0), count(*) FILTER (WHERE humans > 0 AND NOT latest)
    FROM (
        SELECT b.site_id, g.granularity, b.bucket, b.visitor_key, b.humans, b.bots,
               counter_shard(g.granularity, b.bucket, b.visitor_key) AS shard,
               b.bucket = max(b.bucket) FILTER (WHERE b.humans > 0)
                   OVER (PARTITION BY b.site_id, g.granularity, b.visitor_key) AS latest
        FROM rollup_granularities g
        CROSS JOIN LATERAL (
            SELECT e.site_id, date_trunc(g.granularity, e.visited_at, 'UTC') AS bucket, e.visitor_key,
                   count(*) FILTER (WHERE NOT e.is_bot) AS humans, count(*) FILTER (WHERE e.is_bot) AS bots
            FROM visit_events e
            WHERE g.retention IS NULL OR e.visited_at >= date_trunc(g.granularity, now(), 'UTC') - g.retention
            GROUP BY 1, 2, 3
        ) b
    ) per_visitor
    GROUP BY site_id, granularity, bucket, shard;

    -- Referrers, pages, and every browser, OS and device a visitor had but
    -- its latest human visit's.
    INSERT INTO visitor_values (site_id, visitor_key, dimension, value, last_seen)
    SELECT e.site_id, e.visitor_key, d.dimension, d.value, max(e.visited_at)
    FROM visit_events e
    JOIN visitors v USING (site_id, visitor_key)
    CROSS JOIN LATERAL (VALUES ('referrer', e.referrer_host, NULL), ('page', e.path, NULL),
                               ('browser', e.browser, v.client[1]), ('os', e.os, v.client[2]),
                               ('device', e.device, v.client[3])) d (dimension, value, current)
    WHERE d.value IS NOT NULL AND NOT e.is_bot AND (d.dimension <> 'page' OR e.site_id <> 0)
      AND d.value IS DISTINCT FROM d.current
    GROUP BY 1, 2, 3, 4;

    INSERT INTO visitor_breakdowns (site_id, granularity, bucket, dimension, value, shard, arrivals, departures, visits)
    SELECT site_id, granularity, bucket, dimension, value, counter_shard(granularity, bucket, visitor_key),
           count(*), count(*) FILTER (WHERE NOT latest),
           coalesce(sum(visits) FILTER (WHERE dimension = 'page'), 0)
    FROM (
        SELECT seen.*,
               seen.bucket = max(seen.bucket)
                   OVER (PARTITION BY seen.site_id, seen.granularity, seen.visitor_key, seen.dimension, seen.value)
                   AS latest
        FROM (
            SELECT e.site_id, g.granularity, date_trunc(g.granularity, e.visited_at, 'UTC') AS bucket,
                   e.visitor_key, d.dimension, d.value, count(*) AS visits
            FROM rollup_granularities g
            JOIN visit_events e
              ON g.retention IS NULL OR e.visited_at >= date_trunc(g.granularity, now(), 'UTC') - g.retention
            CROSS JOIN LATERAL (VALUES ('browser', e.browser), ('os', e.os), ('device', e.device),
                                       ('referrer', e.referrer_host), ('page', e.path)) d (dimension, value)
            WHERE g.granularity IN ('hour', 'day') AND NOT e.is_bot AND d.value IS NOT NULL
              AND (d.dimension <> 'page' OR e.site_id <> 0)
            GROUP BY 1, 2, 3, 4, 5, 6
        ) seen
    ) marked
    GROUP BY site_id, granularity, bucket, dimension, value, counter_shard(granularity, bucket, visitor_key);

    INSERT INTO visit_totals (site_id, shard, visits, bot_visits, unique_visitors)
    SELECT site_id, visitor_shard(visitor_key),
           count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot),
           count(DISTINCT visitor_key) FILTER (WHERE NOT is_bot)
    FROM visit_events
    GROUP BY 1, 2;
END;
