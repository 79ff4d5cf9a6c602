-- A week of made-up history for the README's pictures and the browser test:
-- about :per_minute visits a minute on average to the instance's own page,
-- more by day than by night (a sine over the UTC day, peaking
-- mid-afternoon) and a little noise, from :visitors visitors who come back
-- as in bench/fill.sql (a squared uniform picks the visitor; each keeps one
-- browser; a few are crawlers). The same crowd, less often, reads
-- example.org, a public site with several pages (a squared uniform picks
-- the page, so the first are the most read). Then every counter is
-- recomputed from the events (rebuild_visit_rollups).
--   psql -v per_minute=3 -v visitors=3000 -f scripts/lib/history.sql
\set ON_ERROR_STOP on

\ir ../../bench/crowd.sql

-- Not blog.example: the browser test adds that site and expects it empty.
-- The share token is never used (the site is public) but must be there.
INSERT INTO sites (domain, hosts, visibility, share_token)
VALUES ('example.org', '{www.example.org}', 'public', sha256('example.org'::bytea));

-- Each site's share of :per_minute and its pages, the most read first.
CREATE TEMP TABLE history_sites (id int, share float8, pages text[]);
INSERT INTO history_sites
SELECT 0, 1, '{/}'::text[]
UNION ALL
SELECT id, 0.7, '{/, /blog/, /blog/exact-unique-visitors, /blog/rollups-not-scans, /about, /projects/visitors, /blog/group-commit, /contact}'
FROM sites WHERE domain = 'example.org';

-- The site's visitor keys differ from the instance's, as the app's do (the
-- key is per site). A pixel does not know where its page's visitor came
-- from: only the instance's own page has referrers.
INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host)
SELECT v.site_id, v.at, sha256(int8send(v.n) || int4send(v.site_id)), v.path, a.browser, a.os, a.device, a.is_bot,
       CASE WHEN v.site_id = 0 AND NOT a.is_bot AND v.referred THEN r.host END
FROM (
    SELECT s.id AS site_id,
           m.minute + random() * interval '1 minute' AS at,
           floor(power(random(), 2) * :visitors)::bigint AS n,
           s.pages[1 + floor(power(random(), 2) * cardinality(s.pages))::int] AS path,
           floor(random() * 8)::int AS referrer,
           random() < 0.3 AS referred
    FROM history_sites s,
         generate_series(date_trunc('minute', now() - interval '7 days'),
                         date_trunc('minute', now()) - interval '1 minute',
                         interval '1 minute') AS m(minute),
         generate_series(1, round(:per_minute * s.share
             * (1 + 0.8 * sin(2 * pi() * (extract(epoch FROM m.minute) / 86400 - 0.375)))
             * (0.5 + random()))::int)
) v
JOIN crowd_agents a ON (v.n * 37) % 100 BETWEEN a.first_percent AND a.last_percent
JOIN crowd_referrers r ON r.n = v.referrer;

SELECT rebuild_visit_rollups();
