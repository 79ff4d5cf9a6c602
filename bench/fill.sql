-- Bulk-loads :events visit events spread over the last 90 days and over 100
-- public sites (site-1.example … site-100.example, ids 1 to 100; the
-- instance's own site 0 gets none), then recomputes every counter from them
-- (rebuild_visit_rollups), as if the visits had arrived one by one. Run with
--   psql -v events=10000000 -v visitors=1000000 [-v site_1_share=0.9] -f bench/fill.sql
-- site_1_share is the part of the visitors that site-1.example gets (one
-- hundredth unless set); the other 99 sites share the rest alike.
-- Visitors repeat realistically: a visitor's number is drawn with a squared
-- uniform, so a few regulars come back very often and most come once or twice;
-- each visitor keeps one browser and one site (a hash of the number, so that
-- browsers and regulars mix on every site), three percent of them are
-- crawlers, each has a country, and every visit views one of eight paths of
-- its site.
\set ON_ERROR_STOP on
\timing on
\if :{?site_1_share}
\else
\set site_1_share 0.01
\endif

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

INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host,
                          source, country)
SELECT CASE WHEN v.slot < :site_1_share * 10000 THEN 1 ELSE 2 + v.slot % 99 END,
       now() - random() * interval '90 days', sha256(int8send(v.n)), p.path,
       a.browser, a.os, a.device, a.is_bot, CASE WHEN v.referred AND NOT a.is_bot THEN r.host END,
       CASE WHEN v.referred AND NOT a.is_bot THEN r.source END, c.country
FROM (
    SELECT n, ((hashint8(n) % 10000) + 10000) % 10000 AS slot, referrer, path, referred
    FROM (
        SELECT floor(power(random(), 2) * :visitors)::bigint AS n, floor(random() * 8)::int AS referrer,
               floor(random() * 8)::int AS path, random() < 0.3 AS referred
        FROM generate_series(1, :events)
    ) drawn
) v
JOIN crowd_agents a ON (v.n * 37) % 100 BETWEEN a.first_percent AND a.last_percent
JOIN crowd_countries c ON (v.n * 53) % 100 BETWEEN c.first_percent AND c.last_percent
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
