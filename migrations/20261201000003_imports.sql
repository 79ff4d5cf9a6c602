-- History brought in from elsewhere (`visitors import`), e.g. from a counter
-- that shut down: daily counts kept apart from the live counters, because
-- their visitors cannot be told apart from ours, so they never enter the
-- exact arrivals/departures accounting. The dashboard and the API show them
-- as imported.

CREATE TABLE imports (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id     integer     NOT NULL,
    source      text        NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    row_count   integer     NOT NULL,
    -- SHA-256 of the file: importing the same file again changes nothing.
    digest      bytea       NOT NULL,
    UNIQUE (site_id, digest)
);

CREATE TABLE imported_counts (
    site_id         integer     NOT NULL,
    day             timestamptz NOT NULL,
    dimension       text        NOT NULL
        CHECK (dimension IN ('total', 'page', 'browser', 'os', 'device', 'referrer')),
    -- Empty for the day's total.
    value           text        NOT NULL,
    unique_visitors bigint      NOT NULL CHECK (unique_visitors >= 0),
    -- Kept for totals and pages, as the export writes them.
    visits          bigint      CHECK (visits >= 0),
    import_id       integer     NOT NULL REFERENCES imports,
    -- A later import of the same day and value replaces the earlier one.
    PRIMARY KEY (site_id, day, dimension, value)
);
