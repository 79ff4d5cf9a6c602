-- Bulk-loads :events visit events spread over the last 90 days and over 100
-- public sites (site-1.example … site-100.example, ids 1 to 100; the
-- instance's own site 0 gets none), then recomputes every counter from them
-- (rebuild_visit_rollups), as if the visits had arrived one by one. Run with
--   psql -v events=10000000 -v visitors=1000000 -f bench/fill.sql
-- Visitors repeat realistically: a visitor's number is drawn with a squared
-- uniform, so a few regulars come back very often and most come once or twice;
-- each visitor keeps one browser and one site (a hash of the number, so that
-- browsers and regulars mix on every site), three percent of them are
-- crawlers, and every visit views one of eight paths of its site.
\set ON_ERROR_STOP on
\timing on

TRUNCATE visit_events, visitors, visit_rollups, visitor_breakdowns, visitor_values, visit_totals;

DELETE FROM sites WHERE id <> 0;
INSERT INTO sites (id, domain, visibility, share_token)
SELECT n, 'site-' || n || '.example', 'public', sha256(convert_to('bench-site-' || n, 'UTF8'))
FROM generate_series(1, 100) n;
SELECT setval(pg_get_serial_sequence('sites', 'id'), 100);

\ir crowd.sql

CREATE TEMP TABLE fill_paths (n int, path text);
INSERT INTO fill_paths VALUES
    (0, '/'), (1, '/'), (2, '/about'), (3, '/pricing'), (4, '/blog/'),
    (5, '/blog/first-post'), (6, '/blog/second-post'), (7, '/contact');

INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host)
SELECT 1 + ((hashint8(v.n) % 100) + 100) % 100, now() - random() * interval '90 days', sha256(int8send(v.n)), p.path,
       a.browser, a.os, a.device, a.is_bot,
       CASE WHEN NOT a.is_bot AND random() < 0.3 THEN r.host END
FROM (
    SELECT floor(power(random(), 2) * :visitors)::bigint AS n, floor(random() * 8)::int AS referrer,
           floor(random() * 8)::int AS path
    FROM generate_series(1, :events)
) v
JOIN crowd_agents a ON (v.n * 37) % 100 BETWEEN a.first_percent AND a.last_percent
JOIN crowd_referrers r ON r.n = v.referrer
JOIN fill_paths p ON p.n = v.path;

SELECT rebuild_visit_rollups();
VACUUM ANALYZE;

SELECT (SELECT count(DISTINCT site_id) FROM visit_events) AS sites,
       (SELECT count(*) FROM visit_events WHERE site_id = 1) AS site_1_events,
       (SELECT count(*) FROM visit_events) AS events,
       (SELECT count(*) FROM visitors) AS visitors,
       (SELECT count(*) FROM visit_rollups) AS rollup_rows,
       (SELECT count(*) FROM visitor_breakdowns) AS breakdown_rows,
       pg_size_pretty(pg_database_size(current_database())) AS database_size;
