-- Every page view writes a raw visit, and every index on visit_events is an
-- entry written with it. The identity column and its primary key were read
-- by nothing but the rebuild's tie-break (visits of one visitor at one time
-- share its client, so the order among them changes nothing). Without them
-- a new visitor's page view writes about 7 % fewer WAL bytes and a
-- visitor's repeated hits about a fifth fewer, and a raw visit takes 8 bytes
-- and an index entry fewer (docs/performance.md, "Raw visits without their id").

-- The rebuild (benchmarks and fixtures) as in 20261207000001, without the
-- tie-break on id.
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
           CASE WHEN NOT is_bot THEN ARRAY[browser, os, device, country] END
    FROM visit_events
    WHERE event IS NULL
    WINDOW visitor AS (PARTITION BY site_id, visitor_key ORDER BY visited_at
                       ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ORDER BY site_id, visitor_key, is_bot, visited_at DESC;

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
            WHERE e.event IS NULL
              AND (g.retention IS NULL OR e.visited_at >= date_trunc(g.granularity, now(), 'UTC') - g.retention)
            GROUP BY 1, 2, 3
        ) b
    ) per_visitor
    GROUP BY site_id, granularity, bucket, shard;

    -- Every value of a visit, and every browser, OS, device and country a
    -- visitor had but its latest human visit's.
    INSERT INTO visitor_values (site_id, visitor_key, dimension, value, last_seen)
    SELECT e.site_id, e.visitor_key, d.dimension, d.value, max(e.visited_at)
    FROM visit_events e
    LEFT JOIN visitors v USING (site_id, visitor_key)
    CROSS JOIN LATERAL visit_dimensions(e, v.client) d
    WHERE NOT e.is_bot AND d.value IS DISTINCT FROM d.current
    GROUP BY 1, 2, 3, 4;

    INSERT INTO visitor_breakdowns (site_id, granularity, bucket, dimension, value, shard, arrivals, departures, visits)
    SELECT site_id, granularity, bucket, dimension, value, counter_shard(granularity, bucket, visitor_key),
           count(*), count(*) FILTER (WHERE NOT latest),
           coalesce(sum(visits) FILTER (WHERE dimension IN ('page', 'event')), 0)
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
            CROSS JOIN LATERAL visit_dimensions(e, NULL) d
            WHERE g.granularity IN ('hour', 'day') AND NOT e.is_bot
            GROUP BY 1, 2, 3, 4, 5, 6
        ) seen
    ) marked
    GROUP BY site_id, granularity, bucket, dimension, value, counter_shard(granularity, bucket, visitor_key);

    INSERT INTO visit_totals (site_id, shard, visits, bot_visits, unique_visitors)
    SELECT site_id, visitor_shard(visitor_key),
           count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot),
           count(DISTINCT visitor_key) FILTER (WHERE NOT is_bot)
    FROM visit_events
    WHERE event IS NULL
    GROUP BY 1, 2;
END;

-- Dropping a column rewrites nothing: new rows leave it out, old ones keep
-- their bytes until they are pruned. Its primary key and sequence go with it.
ALTER TABLE visit_events DROP COLUMN id;
