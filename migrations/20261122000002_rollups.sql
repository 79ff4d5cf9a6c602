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

-- The same arrivals/departures per hour and per day for browser, OS and
-- device type (which depend only on the User-Agent, so never change for a
-- visitor) and for the referrer host (per visitor and host, see referrals).
CREATE TABLE visitor_breakdowns (
    granularity text        NOT NULL CHECK (granularity IN ('hour', 'day')),
    bucket      timestamptz NOT NULL,
    dimension   text        NOT NULL CHECK (dimension IN ('browser', 'os', 'device', 'referrer')),
    value       text        NOT NULL,
    shard       smallint    NOT NULL,
    arrivals    bigint      NOT NULL,
    departures  bigint      NOT NULL,
    PRIMARY KEY (granularity, bucket, dimension, value, shard)
) WITH (fillfactor = 80);

-- Referrers are not a property of the visitor, so each (visitor, referrer
-- host) pair keeps when it last referred them and the time before that (set
-- under the row lock, like visitors.previous_seen). Only referred visits
-- write here; the counts go to visitor_breakdowns as 'referrer'.
CREATE TABLE referrals (
    visitor_key   bytea       NOT NULL,
    referrer_host text        NOT NULL,
    last_seen     timestamptz NOT NULL,
    previous_seen timestamptz,
    PRIMARY KEY (visitor_key, referrer_host)
) WITH (fillfactor = 80);

-- The shard a visitor's counters live in; the Rust side uses the same rule.
CREATE FUNCTION visitor_shard(visitor_key bytea) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN get_byte(visitor_key, 0) % 64;

-- The row a counter of a visitor lives in: its shard while the bucket is
-- current, the one merged row (-1) once it is past (see maintain_counters).
CREATE FUNCTION counter_shard(granularity text, bucket timestamptz, visitor_key bytea) RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN bucket < date_trunc(granularity, now(), 'UTC') THEN -1 ELSE visitor_shard(visitor_key) END;

-- Recomputes every counter (visitors included) from visit_events, in the
-- shape live visits and maintain_counters keep them (past buckets merged): used once here for the visits
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
    SELECT granularity, bucket, shard,
           coalesce(sum(visits) FILTER (WHERE NOT is_bot), 0), coalesce(sum(visits) FILTER (WHERE is_bot), 0),
           count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE NOT is_bot AND NOT latest)
    FROM (
        SELECT g.granularity, b.bucket, b.visitor_key, b.is_bot, b.visits,
               counter_shard(g.granularity, b.bucket, b.visitor_key) AS shard,
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
    GROUP BY granularity, bucket, shard;

    INSERT INTO referrals (visitor_key, referrer_host, last_seen)
    SELECT visitor_key, referrer_host, max(visited_at)
    FROM visit_events
    WHERE referrer_host IS NOT NULL AND NOT is_bot
    GROUP BY 1, 2;

    INSERT INTO visitor_breakdowns (granularity, bucket, dimension, value, shard, arrivals, departures)
    SELECT granularity, bucket, dimension, value, counter_shard(granularity, bucket, visitor_key),
           count(*), count(*) FILTER (WHERE NOT latest)
    FROM (
        SELECT seen.*,
               seen.bucket = max(seen.bucket)
                   OVER (PARTITION BY seen.granularity, seen.visitor_key, seen.dimension, seen.value) AS latest
        FROM (
            SELECT DISTINCT g.granularity, date_trunc(g.granularity, e.visited_at, 'UTC') AS bucket,
                   e.visitor_key, d.dimension, d.value
            FROM rollup_granularities g
            JOIN visit_events e
              ON g.retention IS NULL OR e.visited_at >= date_trunc(g.granularity, now(), 'UTC') - g.retention
            CROSS JOIN LATERAL (VALUES ('browser', e.browser), ('os', e.os), ('device', e.device),
                                       ('referrer', e.referrer_host)) d (dimension, value)
            WHERE g.granularity IN ('hour', 'day') AND NOT e.is_bot AND d.value IS NOT NULL
        ) seen
    ) marked
    GROUP BY granularity, bucket, dimension, value, counter_shard(granularity, bucket, visitor_key);

    INSERT INTO visit_totals (shard, visits, bot_visits, unique_visitors)
    SELECT visitor_shard(visitor_key),
           count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot),
           count(DISTINCT visitor_key) FILTER (WHERE NOT is_bot)
    FROM visit_events
    GROUP BY 1;
END;

-- Keeps the counters cheap to read: a past bucket no longer needs its 64
-- shards (they only spread the writes of the current bucket), so its rows
-- are merged into one row (shard -1); and minute and hour counters older
-- than the dashboard reads are deleted. Every replica runs it every minute;
-- concurrent runs are harmless (rows are locked, deleted once, and summed).
CREATE FUNCTION maintain_counters() RETURNS void
LANGUAGE sql
BEGIN ATOMIC
    WITH past AS (
        DELETE FROM visit_rollups
        WHERE shard >= 0 AND bucket < date_trunc(granularity, now(), 'UTC')
        RETURNING *
    )
    INSERT INTO visit_rollups AS r (granularity, bucket, shard, visits, bot_visits, arrivals, departures)
    SELECT granularity, bucket, -1, sum(visits), sum(bot_visits), sum(arrivals), sum(departures)
    FROM past
    GROUP BY granularity, bucket
    ON CONFLICT (granularity, bucket, shard) DO UPDATE SET
        visits = r.visits + excluded.visits,
        bot_visits = r.bot_visits + excluded.bot_visits,
        arrivals = r.arrivals + excluded.arrivals,
        departures = r.departures + excluded.departures;

    WITH past AS (
        DELETE FROM visitor_breakdowns
        WHERE shard >= 0 AND bucket < date_trunc(granularity, now(), 'UTC')
        RETURNING *
    )
    INSERT INTO visitor_breakdowns AS b (granularity, bucket, dimension, value, shard, arrivals, departures)
    SELECT granularity, bucket, dimension, value, -1, sum(arrivals), sum(departures)
    FROM past
    GROUP BY granularity, bucket, dimension, value
    ON CONFLICT (granularity, bucket, dimension, value, shard) DO UPDATE SET
        arrivals = b.arrivals + excluded.arrivals,
        departures = b.departures + excluded.departures;

    DELETE FROM visit_rollups r USING rollup_granularities g
    WHERE r.granularity = g.granularity AND g.retention IS NOT NULL
      AND r.bucket < date_trunc(g.granularity, now(), 'UTC') - g.retention;

    DELETE FROM visitor_breakdowns b USING rollup_granularities g
    WHERE b.granularity = g.granularity AND g.retention IS NOT NULL
      AND b.bucket < date_trunc(g.granularity, now(), 'UTC') - g.retention;
END;

SELECT rebuild_visit_rollups();
SELECT maintain_counters();
