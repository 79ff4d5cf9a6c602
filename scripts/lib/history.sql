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
-- key is per site). Each visitor has a country (by its number, the first of
-- the list the most); the instance's own page has referrers; the site's
-- page views come with what its script sends: a source (from the same
-- referrers by their known names, direct, or a newsletter's campaign) and a
-- screen class by device.
CREATE TEMP TABLE history_countries (n int, code text);
INSERT INTO history_countries
SELECT n - 1, code
FROM unnest('{US,DE,GB,FR,IN,BR,CA,NL,JP,PL,SE,ES}'::text[]) WITH ORDINALITY AS c (code, n);
CREATE TEMP TABLE history_sources (referrer int, name text);
INSERT INTO history_sources VALUES
    (0, 'Google'), (1, 'Google'), (2, 'DuckDuckGo'), (3, 'Hacker News'),
    (4, 'Reddit'), (5, 'GitHub'), (6, 'X'), (7, 'Bing');

INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host,
                          country, source, utm_source, utm_medium, utm_campaign, screen)
SELECT v.site_id, v.at, sha256(int8send(v.n) || int4send(v.site_id)), v.path, a.browser, a.os, a.device, a.is_bot,
       CASE WHEN v.site_id = 0 AND NOT a.is_bot AND v.referred THEN r.host END,
       c.code,
       CASE WHEN v.site_id = 0 OR a.is_bot THEN NULL
            WHEN v.campaign THEN 'newsletter'
            WHEN v.referred THEN src.name
            ELSE 'Direct / none' END,
       CASE WHEN v.site_id <> 0 AND v.campaign THEN 'newsletter' END,
       CASE WHEN v.site_id <> 0 AND v.campaign THEN 'email' END,
       CASE WHEN v.site_id <> 0 AND v.campaign THEN
           (ARRAY['december-digest', 'launch', 'release-0.3'])[1 + v.n % 3] END,
       CASE WHEN v.site_id = 0 OR a.is_bot THEN NULL
            WHEN a.device = 'mobile' THEN 'mobile'
            WHEN a.device = 'tablet' THEN 'tablet'
            WHEN v.n % 3 = 0 THEN 'desktop' ELSE 'laptop' END
FROM (
    SELECT s.id AS site_id,
           m.minute + random() * interval '1 minute' AS at,
           floor(power(random(), 2) * :visitors)::bigint AS n,
           s.pages[1 + floor(power(random(), 2) * cardinality(s.pages))::int] AS path,
           floor(random() * 8)::int AS referrer,
           random() < 0.3 AS referred,
           random() < 0.05 AS campaign
    FROM history_sites s,
         generate_series(date_trunc('minute', now() - interval '7 days'),
                         date_trunc('minute', now()) - interval '1 minute',
                         interval '1 minute') AS m(minute),
         generate_series(1, round(:per_minute * s.share
             * (1 + 0.8 * sin(2 * pi() * (extract(epoch FROM m.minute) / 86400 - 0.375)))
             * (0.5 + random()))::int)
) v
JOIN crowd_agents a ON (v.n * 37) % 100 BETWEEN a.first_percent AND a.last_percent
JOIN crowd_referrers r ON r.n = v.referrer
JOIN history_sources src ON src.referrer = v.referrer
JOIN history_countries c ON c.n = floor(power(((v.n * 7919) % 1000) / 1000.0, 2) * 12)::int;

-- A few of the site's readers sign up or download, a minute after a view;
-- the site counts both as goals, and everything under /blog/.
INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot, country, event)
SELECT site_id, visited_at + interval '1 minute', visitor_key, path, browser, os, device, false, country,
       CASE WHEN random() < 0.4 THEN 'Signup' ELSE 'Download' END
FROM visit_events
WHERE site_id <> 0 AND NOT is_bot AND random() < 0.06
  AND visited_at < now() - interval '1 minute';
INSERT INTO goals (site_id, kind, pattern)
SELECT id, kind::goal_kind, pattern
FROM sites, (VALUES ('event', 'Signup'), ('page', '/blog/*')) g (kind, pattern)
WHERE domain = 'example.org';

SELECT rebuild_visit_rollups();
