-- Email reports: who asked for which site's weekly or monthly report, and
-- each report sent or being sent. A delivery's row is the lease that makes
-- one replica of many send it: claimed with `leased_until`, marked with
-- `sent_at`, claimed again only when a lease ran out unsent.
CREATE TYPE report_cadence AS ENUM ('weekly', 'monthly');

CREATE TABLE report_subscriptions (
    site_id integer NOT NULL,
    user_id bigint NOT NULL,
    cadence report_cadence NOT NULL,
    subscribed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, site_id, cadence),
    -- A person no longer a member of the site gets no more of its reports.
    FOREIGN KEY (site_id, user_id) REFERENCES site_members ON DELETE CASCADE
);

-- Kept when a subscription is cancelled, so that opting out and in again
-- does not send a period's report twice.
CREATE TABLE report_deliveries (
    site_id integer NOT NULL,
    user_id bigint NOT NULL,
    cadence report_cadence NOT NULL,
    period_start timestamptz NOT NULL,
    leased_until timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 1 CHECK (attempts > 0),
    sent_at timestamptz,
    PRIMARY KEY (user_id, site_id, cadence, period_start),
    FOREIGN KEY (site_id, user_id) REFERENCES site_members ON DELETE CASCADE
);
