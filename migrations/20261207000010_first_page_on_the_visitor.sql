-- A person's first page view is kept on its visitor row rather than as a
-- row of visitor_values with its own random-keyed index entry: most
-- visitors never come back to their first page, and that row was about
-- 30 % of the WAL a new visitor's page view wrote. The visit's statement writes
-- the page's visitor_values row when the visitor does come back, as last
-- seen at first_seen (src/counting/record_visits.sql). Visitors counted
-- before have every page in visitor_values already, and NULL here.
ALTER TABLE visitors ADD COLUMN first_page text;
COMMENT ON COLUMN visitors.first_page IS
    'The page of the visitor''s first visit (a person''s, on a site), seen at first_seen, while it has no visitor_values row';
