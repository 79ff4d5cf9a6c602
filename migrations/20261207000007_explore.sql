-- Exploring a site's numbers: filters (?f=page:/about&f=!country:DE) and
-- periods that ended, read from the raw visits, which alone hold a visit's
-- dimensions and time together; and a site's time zone.

-- A site's time zone (an IANA name, checked by the app): its dashboard's
-- days and hours, "today" and the chart's labels follow it. UTC for every
-- site before, and for the instance's own page.
ALTER TABLE sites ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';

-- A visit's value of a dimension, by the name the breakdowns give it. Unlike
-- visit_dimensions, an event keeps its page and source: "the events on
-- /pricing" is a question too.
CREATE FUNCTION visit_value(e visit_events, dimension text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE dimension
    WHEN 'page' THEN CASE WHEN e.site_id <> 0 THEN e.path END
    WHEN 'referrer' THEN e.referrer_host
    WHEN 'source' THEN e.source
    WHEN 'utm_source' THEN e.utm_source
    WHEN 'utm_medium' THEN e.utm_medium
    WHEN 'utm_campaign' THEN e.utm_campaign
    WHEN 'utm_term' THEN e.utm_term
    WHEN 'utm_content' THEN e.utm_content
    WHEN 'screen' THEN e.screen
    WHEN 'browser' THEN e.browser
    WHEN 'os' THEN e.os
    WHEN 'device' THEN e.device
    WHEN 'country' THEN e.country
    WHEN 'event' THEN e.event
END;

-- A site's raw visits from `since` until before `until` (unbounded where
-- NULL) that pass every
-- filter: (dimensions[i] = wanted[i]) unless negations[i]. An event's filter
-- keeps the visitors who completed it in that time, all their rows: the
-- (visitor, event) pairs are read once and hashed, not looked up per row. A
-- body in a string, so that the planner inlines it into each query and
-- scans the (site_id, visited_at) index over the time asked for.
CREATE FUNCTION filtered_visits(for_site integer, since timestamptz, until timestamptz,
                                dimensions text[], wanted text[], negations boolean[])
RETURNS SETOF visit_events
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT e.* FROM visit_events e
    WHERE e.site_id = for_site AND e.visited_at >= coalesce(since, '-infinity')
      AND e.visited_at < coalesce(until, 'infinity')
      AND NOT EXISTS (
          SELECT FROM unnest(dimensions, wanted, negations) AS f (dimension, value, negated)
          WHERE f.negated = CASE f.dimension
              WHEN 'event' THEN (e.visitor_key, f.value) IN (
                  SELECT c.visitor_key, c.event FROM visit_events c
                  WHERE c.site_id = for_site AND c.visited_at >= coalesce(since, '-infinity')
                    AND c.visited_at < coalesce(until, 'infinity') AND c.event IS NOT NULL)
              ELSE visit_value(e, f.dimension) IS NOT DISTINCT FROM f.value
          END)
$$;
