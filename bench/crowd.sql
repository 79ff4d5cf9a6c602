-- The made-up crowd of bench/fill.sql and scripts/lib/history.sql: which
-- browser a visitor number uses (by percentile), with a few crawlers, and
-- the referrer hosts they come from. Included with psql's \ir.
CREATE TEMP TABLE crowd_agents (first_percent int, last_percent int, browser text, os text, device text, is_bot boolean);
INSERT INTO crowd_agents VALUES
    (0, 29, 'Chrome', 'Windows', 'desktop', false),
    (30, 41, 'Chrome', 'Mac OS X', 'desktop', false),
    (42, 49, 'Safari', 'Mac OS X', 'desktop', false),
    (50, 56, 'Firefox', 'Linux', 'desktop', false),
    (57, 62, 'Edge', 'Windows', 'desktop', false),
    (63, 78, 'Mobile Safari', 'iOS', 'mobile', false),
    (79, 90, 'Chrome Mobile', 'Android', 'mobile', false),
    (91, 93, 'Samsung Internet', 'Android', 'mobile', false),
    (94, 96, 'Mobile Safari', 'iOS', 'tablet', false),
    (97, 98, 'Googlebot', 'Unknown', 'bot', true),
    (99, 99, 'bingbot', 'Unknown', 'bot', true);

CREATE TEMP TABLE crowd_referrers (n int, host text);
INSERT INTO crowd_referrers VALUES
    (0, 'www.google.com'), (1, 'www.google.com'), (2, 'duckduckgo.com'), (3, 'news.ycombinator.com'),
    (4, 'www.reddit.com'), (5, 'github.com'), (6, 't.co'), (7, 'www.bing.com');
