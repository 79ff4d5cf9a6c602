-- maintain_counters() as before, but every row it deletes or merges is
-- locked first, in the order in which the write path's statement takes them
-- (src/counting/record_visits.sql): the breakdowns before the rollups (the
-- executor runs a statement's data-modifying CTEs that nothing reads after
-- the main query, the last one first: totals, breakdowns, rollups), and
-- within each table in key order (each insert is ORDER BY its key).
-- Deleting in scan order, rollups first, could take two rows in the
-- opposite order of a batch writing departures into the same past minute
-- or hour of two sites, and the two would deadlock.
CREATE OR REPLACE FUNCTION maintain_counters() RETURNS void
LANGUAGE sql
BEGIN ATOMIC
    WITH locked AS (
        SELECT site_id, granularity, bucket, dimension, value, shard FROM visitor_breakdowns
        WHERE shard >= 0 AND bucket < date_trunc(granularity, now(), 'UTC')
        ORDER BY site_id, granularity, bucket, dimension, value, shard
        FOR UPDATE
    ), past AS (
        DELETE FROM visitor_breakdowns b USING locked l
        WHERE (b.site_id, b.granularity, b.bucket, b.dimension, b.value, b.shard)
            = (l.site_id, l.granularity, l.bucket, l.dimension, l.value, l.shard)
        RETURNING b.*
    )
    INSERT INTO visitor_breakdowns AS b (site_id, granularity, bucket, dimension, value, shard,
                                         arrivals, departures, visits)
    SELECT site_id, granularity, bucket, dimension, value, -1, sum(arrivals), sum(departures), sum(visits)
    FROM past
    GROUP BY site_id, granularity, bucket, dimension, value
    ORDER BY site_id, granularity, bucket, dimension, value
    ON CONFLICT (site_id, granularity, bucket, dimension, value, shard) DO UPDATE SET
        arrivals = b.arrivals + excluded.arrivals,
        departures = b.departures + excluded.departures,
        visits = b.visits + excluded.visits;

    WITH locked AS (
        SELECT site_id, granularity, bucket, shard FROM visit_rollups
        WHERE shard >= 0 AND bucket < date_trunc(granularity, now(), 'UTC')
        ORDER BY site_id, granularity, bucket, shard
        FOR UPDATE
    ), past AS (
        DELETE FROM visit_rollups r USING locked l
        WHERE (r.site_id, r.granularity, r.bucket, r.shard) = (l.site_id, l.granularity, l.bucket, l.shard)
        RETURNING r.*
    )
    INSERT INTO visit_rollups AS r (site_id, granularity, bucket, shard, visits, bot_visits, arrivals, departures)
    SELECT site_id, granularity, bucket, -1, sum(visits), sum(bot_visits), sum(arrivals), sum(departures)
    FROM past
    GROUP BY site_id, granularity, bucket
    ORDER BY site_id, granularity, bucket
    ON CONFLICT (site_id, granularity, bucket, shard) DO UPDATE SET
        visits = r.visits + excluded.visits,
        bot_visits = r.bot_visits + excluded.bot_visits,
        arrivals = r.arrivals + excluded.arrivals,
        departures = r.departures + excluded.departures;

    WITH locked AS (
        SELECT b.site_id, b.granularity, b.bucket, b.dimension, b.value, b.shard
        FROM visitor_breakdowns b JOIN rollup_granularities g USING (granularity)
        WHERE g.retention IS NOT NULL AND b.bucket < date_trunc(g.granularity, now(), 'UTC') - g.retention
        ORDER BY b.site_id, b.granularity, b.bucket, b.dimension, b.value, b.shard
        FOR UPDATE OF b
    )
    DELETE FROM visitor_breakdowns b USING locked l
    WHERE (b.site_id, b.granularity, b.bucket, b.dimension, b.value, b.shard)
        = (l.site_id, l.granularity, l.bucket, l.dimension, l.value, l.shard);

    WITH locked AS (
        SELECT r.site_id, r.granularity, r.bucket, r.shard
        FROM visit_rollups r JOIN rollup_granularities g USING (granularity)
        WHERE g.retention IS NOT NULL AND r.bucket < date_trunc(g.granularity, now(), 'UTC') - g.retention
        ORDER BY r.site_id, r.granularity, r.bucket, r.shard
        FOR UPDATE OF r
    )
    DELETE FROM visit_rollups r USING locked l
    WHERE (r.site_id, r.granularity, r.bucket, r.shard) = (l.site_id, l.granularity, l.bucket, l.shard);
END;
