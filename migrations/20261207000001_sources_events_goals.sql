-- Where visitors come from and what they do: per visit, the source (a known
-- referrer's name, the referrer's host, a utm_source or ref, or direct),
-- the five UTM fields and a coarse screen class, as the script or the
-- pixel's page sends them; per visitor, the country of its address (the
-- address itself is dropped); and custom events, which are not page views.
-- Every new column is NULL for the rows before: no rewrite.
ALTER TABLE visit_events
    ADD COLUMN source text,
    ADD COLUMN utm_source text,
    ADD COLUMN utm_medium text,
    ADD COLUMN utm_campaign text,
    ADD COLUMN utm_term text,
    ADD COLUMN utm_content text,
    ADD COLUMN screen text,
    ADD COLUMN country text,
    -- A custom event's name; such a row is no page view.
    ADD COLUMN event text;

-- The new dimensions, counted as the others are. NOT VALID: the rows there
-- already hold only the earlier ones, and checking them would scan the
-- tables under this migration's lock.
ALTER TABLE visitor_values DROP CONSTRAINT visitor_values_dimension_check,
    ADD CONSTRAINT visitor_values_dimension_check CHECK (dimension IN (
        'referrer', 'page', 'browser', 'os', 'device', 'country', 'source', 'utm_source',
        'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'screen', 'event')) NOT VALID;
ALTER TABLE visitor_breakdowns DROP CONSTRAINT visitor_breakdowns_dimension_check,
    ADD CONSTRAINT visitor_breakdowns_dimension_check CHECK (dimension IN (
        'referrer', 'page', 'browser', 'os', 'device', 'country', 'source', 'utm_source',
        'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'screen', 'event')) NOT VALID;

-- An import may carry them too (visitors import, the export's rows).
ALTER TABLE imported_counts DROP CONSTRAINT imported_counts_dimension_check,
    ADD CONSTRAINT imported_counts_dimension_check CHECK (dimension IN (
        'total', 'page', 'browser', 'os', 'device', 'referrer', 'country', 'source', 'utm_source',
        'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'screen', 'event')) NOT VALID;

-- A goal: an event's name, or a page's path (a trailing * matches every
-- path that starts with what precedes it). Converters and completions are
-- read from the counters (events, exact paths) or the raw visits (paths
-- with *), so a goal counts its history from the start.
CREATE TYPE goal_kind AS ENUM ('event', 'page');

CREATE TABLE goals (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id    integer     NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    kind       goal_kind   NOT NULL,
    pattern    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, kind, pattern)
);

-- The dimension values a raw visit counts for, in one place for the write
-- path, the last hour's reads and the rebuild. An event counts only for its
-- name. A page view counts for its page (sites only: the instance's own
-- dashboard is one page), referrer, source, UTM fields and screen, which are
-- per visit; and for its visitor's browser, OS, device and country
-- (per_visitor), which the visitor row keeps as `client`: `current` is the
-- client's value of that dimension.
CREATE FUNCTION visit_dimensions(e visit_events, client text[])
RETURNS TABLE (dimension text, value text, per_visitor boolean, current text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT d.dimension, d.value, d.per_visitor, d.current
    FROM (VALUES ('event', e.event, false, NULL::text),
                 ('page', CASE WHEN e.site_id <> 0 THEN e.path END, false, NULL),
                 ('referrer', e.referrer_host, false, NULL),
                 ('source', e.source, false, NULL),
                 ('utm_source', e.utm_source, false, NULL),
                 ('utm_medium', e.utm_medium, false, NULL),
                 ('utm_campaign', e.utm_campaign, false, NULL),
                 ('utm_term', e.utm_term, false, NULL),
                 ('utm_content', e.utm_content, false, NULL),
                 ('screen', e.screen, false, NULL),
                 ('browser', e.browser, true, client[1]),
                 ('os', e.os, true, client[2]),
                 ('device', e.device, true, client[3]),
                 ('country', e.country, true, client[4])) d (dimension, value, per_visitor, current)
    WHERE d.value IS NOT NULL AND (e.event IS NULL) = (d.dimension <> 'event');
END;

-- The rebuild (benchmarks and fixtures) with the new dimensions: the
-- country like the browser (a property of the visitor, by its latest human
-- visit), the others like pages; events add only to their own dimension.
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
