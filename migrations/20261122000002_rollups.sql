-- Rollups that keep the dashboard's cost flat as history grows, kept up to
-- date by the per-visit statement itself (see src/db/visits.rs).
--
-- Exact unique visitors over a window of buckets, without scanning visits:
-- `arrivals` counts the human visitors whose first visit in a bucket this is;
-- `departures` counts those whose latest visit was in this bucket and who
-- came back in a later one. Each visitor then adds exactly 1 to
-- sum(arrivals - departures) over any window that holds their latest visit,
-- and 0 to windows before it.

-- The time of the visit before the latest: set under the row lock by each
-- visit, so concurrent visits of one visitor each see their true predecessor.
ALTER TABLE visitors ADD COLUMN previous_seen timestamptz;
-- Leaves room on each page for HOT updates of the visitor rows.
ALTER TABLE visitors SET (fillfactor = 80);

-- Which bucket sizes are kept, and how far back a departure is still
-- recorded: the dashboard reads minutes only for the last hour and hours only
-- for the last day, so older minute and hour rows are pruned.
CREATE VIEW rollup_granularities (granularity, retention) AS
VALUES ('minute', interval '2 hours'),
       ('hour', interval '2 days'),
       ('day', NULL::interval);

CREATE TABLE visit_rollups (
    granularity text        NOT NULL CHECK (granularity IN ('minute', 'hour', 'day')),
    bucket      timestamptz NOT NULL,
    shard       smallint    NOT NULL,
    visits      bigint      NOT NULL,
    bot_visits  bigint      NOT NULL,
    arrivals    bigint      NOT NULL,
    departures  bigint      NOT NULL,
    PRIMARY KEY (granularity, bucket, shard)
) WITH (fillfactor = 80);

-- The same arrivals/departures per day for browser, OS and device type (which
-- depend only on the User-Agent, so never change for a visitor) and for the
-- referrer host (per visitor and host, see referrals).
CREATE TABLE visitor_breakdowns (
    day        timestamptz NOT NULL,
    dimension  text        NOT NULL CHECK (dimension IN ('browser', 'os', 'device', 'referrer')),
    value      text        NOT NULL,
    shard      smallint    NOT NULL,
    arrivals   bigint      NOT NULL,
    departures bigint      NOT NULL,
    PRIMARY KEY (day, dimension, value, shard)
) WITH (fillfactor = 80);

-- Referrers are not a property of the visitor, so each (visitor, referrer
-- host) pair keeps the day it last referred them, and the day before that
-- (set under the row lock, like visitors.previous_seen). Only referred visits
-- write here. The per-day counts go to visitor_breakdowns as 'referrer'.
CREATE TABLE referrals (
    visitor_key   bytea       NOT NULL,
    referrer_host text        NOT NULL,
    last_day      timestamptz NOT NULL,
    previous_day  timestamptz,
    PRIMARY KEY (visitor_key, referrer_host)
) WITH (fillfactor = 80);

-- The shard a visitor's counters live in; the Rust side uses the same rule.
CREATE FUNCTION visitor_shard(visitor_key bytea) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN get_byte(visitor_key, 0) % 64;

-- Recomputes every counter (visitors included) from visit_events: used once here for the visits
-- recorded before this migration, and by bench/ after bulk-loading events.
CREATE FUNCTION rebuild_visit_rollups() RETURNS void
LANGUAGE sql
BEGIN ATOMIC
    DELETE FROM visit_rollups;
    DELETE FROM visitor_breakdowns;
    DELETE FROM visit_totals;
    DELETE FROM visitors;
    DELETE FROM referrals;

    INSERT INTO visitors (visitor_key, visits, is_bot, first_seen, last_seen)
    SELECT visitor_key, count(*), bool_or(is_bot), min(visited_at), max(visited_at)
    FROM visit_events
    GROUP BY visitor_key;

    INSERT INTO visit_rollups (granularity, bucket, shard, visits, bot_visits, arrivals, departures)
    SELECT granularity, bucket, visitor_shard(visitor_key),
           coalesce(sum(visits) FILTER (WHERE NOT is_bot), 0), coalesce(sum(visits) FILTER (WHERE is_bot), 0),
           count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE NOT is_bot AND NOT latest)
    FROM (
        SELECT g.granularity, b.bucket, b.visitor_key, b.is_bot, b.visits,
               b.bucket = max(b.bucket) OVER (PARTITION BY g.granularity, b.visitor_key) AS latest
        FROM rollup_granularities g
        CROSS JOIN LATERAL (
            SELECT date_trunc(g.granularity, e.visited_at, 'UTC') AS bucket,
                   e.visitor_key, bool_or(e.is_bot) AS is_bot, count(*) AS visits
            FROM visit_events e
            WHERE g.retention IS NULL OR e.visited_at >= date_trunc(g.granularity, now(), 'UTC') - g.retention
            GROUP BY 1, 2
        ) b
    ) per_visitor
    GROUP BY granularity, bucket, visitor_shard(visitor_key);

    INSERT INTO visitor_breakdowns (day, dimension, value, shard, arrivals, departures)
    SELECT v.day, d.dimension, d.value, visitor_shard(v.visitor_key),
           count(*), count(*) FILTER (WHERE NOT v.latest)
    FROM (
        SELECT per_day.*, per_day.day = max(per_day.day) OVER (PARTITION BY per_day.visitor_key) AS latest
        FROM (
            SELECT date_trunc('day', visited_at, 'UTC') AS day, visitor_key,
                   min(browser) AS browser, min(os) AS os, min(device) AS device
            FROM visit_events
            WHERE NOT is_bot
            GROUP BY 1, 2
        ) per_day
    ) v
    CROSS JOIN LATERAL (VALUES ('browser', v.browser), ('os', v.os), ('device', v.device)) d (dimension, value)
    GROUP BY v.day, d.dimension, d.value, visitor_shard(v.visitor_key);

    INSERT INTO referrals (visitor_key, referrer_host, last_day)
    SELECT visitor_key, referrer_host, max(date_trunc('day', visited_at, 'UTC'))
    FROM visit_events
    WHERE referrer_host IS NOT NULL AND NOT is_bot
    GROUP BY 1, 2;

    INSERT INTO visitor_breakdowns (day, dimension, value, shard, arrivals, departures)
    SELECT r.day, 'referrer', r.referrer_host, visitor_shard(r.visitor_key),
           count(*), count(*) FILTER (WHERE r.day < f.last_day)
    FROM (
        SELECT DISTINCT date_trunc('day', visited_at, 'UTC') AS day, visitor_key, referrer_host
        FROM visit_events
        WHERE referrer_host IS NOT NULL AND NOT is_bot
    ) r
    JOIN referrals f USING (visitor_key, referrer_host)
    GROUP BY r.day, r.referrer_host, visitor_shard(r.visitor_key);

    INSERT INTO visit_totals (shard, visits, bot_visits, unique_visitors)
    SELECT visitor_shard(visitor_key),
           count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot),
           count(DISTINCT visitor_key) FILTER (WHERE NOT is_bot)
    FROM visit_events
    GROUP BY 1;
END;

SELECT rebuild_visit_rollups();
