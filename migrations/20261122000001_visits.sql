-- Settings every replica shares; today only the generated visitor secret.
CREATE TABLE app_settings (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

-- One row per visitor: the keyed hash of (IP, User-Agent), never the address.
CREATE TABLE visitors (
    visitor_key bytea PRIMARY KEY CHECK (octet_length(visitor_key) = 32),
    visits      bigint      NOT NULL CHECK (visits > 0),
    is_bot      boolean     NOT NULL,
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL
);

-- Every visit, for the dashboard. No foreign key to visitors: the check would
-- cost a lookup and a share lock on every insert of the hot path, and both
-- rows are written by the same statement anyway.
CREATE TABLE visit_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visited_at    timestamptz NOT NULL,
    visitor_key   bytea       NOT NULL,
    path          text        NOT NULL,
    browser       text        NOT NULL,
    os            text        NOT NULL,
    device        text        NOT NULL CHECK (device IN ('desktop', 'mobile', 'tablet', 'bot', 'other')),
    is_bot        boolean     NOT NULL,
    referrer_host text
);
CREATE INDEX visit_events_visited_at ON visit_events (visited_at);

-- Running totals, split over shards so that concurrent visits do not all
-- queue on one row; the totals are the sums over the shards.
CREATE TABLE visit_totals (
    shard           smallint PRIMARY KEY,
    visits          bigint NOT NULL,
    bot_visits      bigint NOT NULL,
    unique_visitors bigint NOT NULL
);
