-- pgbench: the least any correct visitor counter does per visit, as the
-- ceiling the app is measured against: one transaction (autocommit) with one
-- upsert of the visitor row, returning the visitor's count. A random key per
-- transaction, so each is a first visit, as in the "new visitors" scenario.
\set n random(1, 2000000000)
INSERT INTO visitors AS v (site_id, visitor_key, visits, is_bot, first_seen, last_seen)
VALUES (0, sha256(('ceiling-' || :n)::bytea), 1, false, now(), now())
ON CONFLICT (site_id, visitor_key) DO UPDATE SET visits = v.visits + 1, last_seen = now()
RETURNING v.visits;
