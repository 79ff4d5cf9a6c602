-- A week of made-up history for the README's pictures and the browser test:
-- about :per_minute visits a minute on average, more by day than by night
-- (a sine over the UTC day, peaking mid-afternoon) and a little noise, from
-- :visitors visitors who come back as in bench/fill.sql (a squared uniform
-- picks the visitor; each keeps one browser; a few are crawlers). Then
-- every counter is recomputed from the events (rebuild_visit_rollups).
--   psql -v per_minute=3 -v visitors=3000 -f scripts/lib/history.sql
\set ON_ERROR_STOP on

\ir ../../bench/crowd.sql

INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host)
SELECT 0, v.at, sha256(int8send(v.n)), '/', a.browser, a.os, a.device, a.is_bot,
       CASE WHEN NOT a.is_bot AND v.referred THEN r.host END
FROM (
    SELECT m.minute + random() * interval '1 minute' AS at,
           floor(power(random(), 2) * :visitors)::bigint AS n,
           floor(random() * 8)::int AS referrer,
           random() < 0.3 AS referred
    FROM generate_series(date_trunc('minute', now() - interval '7 days'),
                         date_trunc('minute', now()) - interval '1 minute',
                         interval '1 minute') AS m(minute),
         generate_series(1, round(:per_minute
             * (1 + 0.8 * sin(2 * pi() * (extract(epoch FROM m.minute) / 86400 - 0.375)))
             * (0.5 + random()))::int)
) v
JOIN crowd_agents a ON (v.n * 37) % 100 BETWEEN a.first_percent AND a.last_percent
JOIN crowd_referrers r ON r.n = v.referrer;

SELECT rebuild_visit_rollups();
