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

CREATE TEMP TABLE crowd_referrers (n int, host text, source text);
INSERT INTO crowd_referrers VALUES
    (0, 'www.google.com', 'Google'), (1, 'www.google.com', 'Google'), (2, 'duckduckgo.com', 'DuckDuckGo'),
    (3, 'news.ycombinator.com', 'Hacker News'), (4, 'www.reddit.com', 'Reddit'), (5, 'github.com', 'GitHub'),
    (6, 't.co', 'X'), (7, 'www.bing.com', 'Bing');

-- The country of a visitor number, as the app stores it (an ISO 3166 code):
-- by the same percentile as its browser, spread another way, so each
-- browser row of crowd_agents comes from a few countries only.
CREATE TEMP TABLE crowd_countries (first_percent int, last_percent int, country text);
INSERT INTO crowd_countries VALUES
    (0, 29, 'US'), (30, 44, 'DE'), (45, 54, 'GB'), (55, 62, 'FR'), (63, 69, 'IN'), (70, 75, 'CA'),
    (76, 80, 'NL'), (81, 85, 'BR'), (86, 89, 'JP'), (90, 93, 'ES'), (94, 96, 'PL'), (97, 99, 'AU');
