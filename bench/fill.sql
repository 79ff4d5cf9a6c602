-- Bulk-loads :events visit events spread over the last 90 days, then
-- recomputes every counter from them (rebuild_visit_rollups), as if the
-- visits had arrived one by one. Run with
--   psql -v events=10000000 -v visitors=1000000 -f bench/fill.sql
-- Visitors repeat realistically: a visitor's number is drawn with a squared
-- uniform, so a few regulars come back very often and most come once or twice;
-- each visitor keeps one browser, and three percent of them are crawlers.
\set ON_ERROR_STOP on
\timing on

TRUNCATE visit_events, visitors, visit_rollups, visitor_breakdowns, visitor_values, visit_totals;

\ir crowd.sql

INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host)
SELECT 0, now() - random() * interval '90 days', sha256(int8send(v.n)), '/',
       a.browser, a.os, a.device, a.is_bot,
       CASE WHEN NOT a.is_bot AND random() < 0.3 THEN r.host END
FROM (
    SELECT floor(power(random(), 2) * :visitors)::bigint AS n, floor(random() * 8)::int AS referrer
    FROM generate_series(1, :events)
) v
JOIN crowd_agents a ON (v.n * 37) % 100 BETWEEN a.first_percent AND a.last_percent
JOIN crowd_referrers r ON r.n = v.referrer;

SELECT rebuild_visit_rollups();
VACUUM ANALYZE;

SELECT (SELECT count(*) FROM visit_events) AS events,
       (SELECT count(*) FROM visitors) AS visitors,
       (SELECT count(*) FROM visit_rollups) AS rollup_rows,
       (SELECT count(*) FROM visitor_breakdowns) AS breakdown_rows,
       pg_size_pretty(pg_database_size(current_database())) AS database_size;
